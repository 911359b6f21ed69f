"""Record a call, email or meeting with a prospect, in two keystrokes.

Ctrl+L opens this dialog with the cursor already in the summary (the one
field that is always different); the kind defaults to the last kind logged
and the time to now, so "Ctrl+L, type, Ctrl+Enter" logs a contact. Enter in
the summary starts a new line; Enter anywhere else, or Ctrl+Enter anywhere,
saves.

The prospect's open follow-ups (offered to be marked done) are read on a
worker; typing starts at once, and Save waits for them (it is disabled
until they arrive, a moment), since one's own are marked done by default.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_date
from crm_desktop.domain.enums import ContactKind
from crm_desktop.domain.roles import Action
from crm_desktop.domain.validation import ContactInput, ValidationError
from crm_desktop.errors import CrmError
from crm_desktop.services import correspondence as correspondence_service
from crm_desktop.services.context import Context
from crm_desktop.services.results import ContactView, FollowUpView, ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import Reader

FIELDS = ("kind", "occurred_at", "subject", "summary", "follow_up_on")
DEFAULT_FOLLOW_UP_DAYS = 7
HINT = "Ctrl+Enter saves from any field."
READING_HINT = "Reading their open follow-ups…"


class LogContactDialog(QDialog):
    """The log-contact form for one prospect.

    Once saved (``logged``, the new :class:`ContactView`) it is said on
    ``bus`` as ``Change(CONTACTS, ids={prospect id})``, and the dialog closes.
    """

    # The kind most recently logged in this session; the next contact is
    # usually the same kind (a run of calls, a batch of emails).
    last_kind: ContactKind = ContactKind.CALL

    def __init__(
        self, ctx: Context, prospect: ProspectView, parent=None, *, bus: ChangeBus | None = None
    ):
        """``bus``: where the contact logged is said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._prospect = prospect
        self.logged: ContactView | None = None
        self.setObjectName("logContactDialog")
        self.setWindowTitle(f"Log contact with {prospect.full_name}")
        self.setMinimumWidth(480)

        heading = QLabel(self)
        heading.setObjectName("dialogHeading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        who = prospect.full_name
        heading.setText(f"{who} — {prospect.school_name}" if prospect.school_name else who)

        self._form = form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel(self)
        general.setObjectName("formError")
        self._errors = messages.FormErrors(form, FIELDS, general)

        self.kind = QComboBox(self)
        for kind in ContactKind:
            self.kind.addItem(kind.label, kind.value)
        self.kind.setCurrentIndex(max(self.kind.findData(self.last_kind.value), 0))
        self.kind.setToolTip("Type the first letters to pick a kind")
        form.addRow("&Kind", self.kind)
        self._errors.add("kind", self.kind)

        self.when = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("d MMM yyyy HH:mm")
        self.when.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        form.addRow("&When", self.when)
        self._errors.add("occurred_at", self.when)

        self.subject = QLineEdit(self)
        self.subject.setPlaceholderText("Optional")
        form.addRow("Su&bject", self.subject)
        self._errors.add("subject", self.subject)

        self.summary = QPlainTextEdit(self)
        self.summary.setObjectName("summary")
        self.summary.setTabChangesFocus(True)
        self.summary.setPlaceholderText(
            "What happened? Type here and press Ctrl+Enter to save.\nEnter starts a new line."
        )
        self.summary.setMinimumHeight(120)
        form.addRow("Su&mmary", self.summary)
        self._errors.add("summary", self.summary)

        self.follow_up_set = QCheckBox("&Follow up on", self)
        self.follow_up = DateField(
            self, value=date.today() + timedelta(days=DEFAULT_FOLLOW_UP_DAYS)
        )
        self.follow_up.setObjectName("followUpDate")
        self.follow_up.setAccessibleName("Follow-up date")
        self.follow_up.setEnabled(False)
        self.follow_up_set.toggled.connect(self.follow_up.setEnabled)
        self.follow_up.dateChanged.connect(self._follow_up_changed)
        form.addRow(self.follow_up_set, self.follow_up)
        self._errors.add("follow_up_on", self.follow_up_set)

        # The prospect's open follow-ups: this contact usually answers them
        # (read on a worker, then offered in a "Mark done" row).
        self.open_follow_ups: dict[int, QCheckBox] = {}
        self.follow_ups_loaded = False

        self.hint = hint = QLabel(HINT, self)
        hint.setObjectName("hint")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(general)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)

        self._set_tab_order()
        self.summary.setFocus()
        if ctx.may(Action.MANAGE_FOLLOWUPS):
            self.save_button.setEnabled(False)
            self.hint.setText(READING_HINT)
            self._reader = Reader(self, cover=None, error_title="Could not read the follow-ups")
            pid = prospect.id
            self._reader.read(
                lambda: correspondence_service.list_followups(ctx, prospect_id=pid),
                self._offer_follow_ups,
                failed=self._follow_ups_not_read,
            )
        else:
            self._follow_ups_read()

    def _set_tab_order(self) -> None:
        order = [
            self.kind,
            self.when,
            self.subject,
            self.summary,
            self.follow_up_set,
            self.follow_up,
            *self.open_follow_ups.values(),
            self.buttons,
        ]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _offer_follow_ups(self, open_items: list[FollowUpView]) -> None:
        """One's own are ticked; a colleague's are offered but left to choose."""
        if open_items:
            me = self._ctx.user
            box = QWidget(self)
            box.setObjectName("openFollowUps")
            rows = QVBoxLayout(box)
            rows.setContentsMargins(0, 0, 0, 0)
            rows.setSpacing(2)
            for item in open_items:
                check = QCheckBox(self._open_follow_up_text(item, me), box)
                check.setObjectName(f"closeFollowUp{item.contact_id}")
                check.setToolTip(item.subject or item.summary)
                check.setChecked(item.assigned_to == me)
                rows.addWidget(check)
                self.open_follow_ups[item.contact_id] = check
            self._form.addRow("Mark done", box)
            self._set_tab_order()
            # Shown, laid out and the dialog grown to hold them now, not on
            # the next turn of the event loop (a click may come first).
            if self.isVisible():
                self._form.labelForField(box).show()
                box.show()
                self.layout().activate()
                self.resize(self.size().expandedTo(self.sizeHint()))  # as if there from the start
        self._follow_ups_read()

    def _follow_ups_not_read(self, _error: CrmError) -> bool:
        # The message says why; the contact can still be logged (nothing marked done).
        self._follow_ups_read()
        return False

    def _follow_ups_read(self) -> None:
        self.follow_ups_loaded = True
        self.save_button.setEnabled(True)
        self.hint.setText(HINT)

    @staticmethod
    def _open_follow_up_text(item: FollowUpView, me: str) -> str:
        about = (item.subject or (item.summary.splitlines() or [""])[0]).strip()
        if len(about) > 36:
            about = about[:35] + "…"
        whose = "mine" if item.assigned_to == me else f"{item.assigned_to}'s"
        state = {"overdue": ", overdue", "today": ", today"}.get(item.status, "")
        text = f"{format_date(item.due)}{state} ({whose})"
        return f"{text}: {about}" if about else text

    def follow_ups_to_close(self) -> list[int]:
        """The open follow-ups ticked to be marked done with this contact."""
        return [cid for cid, check in self.open_follow_ups.items() if check.isChecked()]

    def _follow_up_changed(self, value: date | None) -> None:
        warnings = correspondence_service.follow_up_warnings(value)
        self.follow_up.set_note(" ".join(warnings))

    def contact_input(self) -> ContactInput:
        """What the form holds; the time as an aware local datetime."""
        follow_up: date | None = None
        if self.follow_up_set.isChecked():
            follow_up = self.follow_up.date()
        occurred = self.when.dateTime().toPython().astimezone()
        return ContactInput(
            kind=self.kind.currentData(),
            summary=self.summary_text(),
            subject=self.subject.text(),
            occurred_at=occurred,
            follow_up_on=follow_up,
        )

    def summary_text(self) -> str:
        """The summary exactly as typed, one ``\n`` between lines.

        ``toPlainText()`` would turn non-breaking spaces into plain ones; the
        raw text keeps them and only marks paragraph breaks with U+2029.
        """
        return self.summary.document().toRawText().replace("\u2029", "\n")

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def accept(self) -> None:
        """Log through the service; on an error keep the dialog open."""
        if not self.follow_ups_loaded:  # Ctrl+Enter while Save waits for them
            return
        self._errors.clear()
        if self.follow_up_set.isChecked() and not self.follow_up.check():
            self.follow_up.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        data = self.contact_input()
        try:
            logged = correspondence_service.log_contact(
                self._ctx, self._prospect.id, data, close_followups=self.follow_ups_to_close()
            )
        except ValidationError as exc:
            self._errors.show(exc.errors)
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not log the contact")
            return
        type(self).last_kind = ContactKind(logged.kind)
        self.logged = logged
        self.bus.publish(Change.of(Kind.CONTACTS, ids=(self._prospect.id,)))
        super().accept()
