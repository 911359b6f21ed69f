"""Dialogs of the request register: record or edit a request, extend it, close it.

Each dialog saves through ``services.requests`` and keeps itself open on a
refusal, with the service's message under the field it is about, so what
the deadline rules say in the CLI is what a person reads here. Each shows
the deadline that saving would set (computed by ``domain.requests``), so
nobody has to count months by hand.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_due
from crm_desktop.domain.requests import (
    FIELD_LABELS,
    MAX_EXTENSION_MONTHS,
    RequestKind,
    due_date,
    extended_due_date,
)
from crm_desktop.domain.validation import ValidationError, format_phone
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.reports.marketing_text import with_labels
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import requests as request_service
from crm_desktop.services.context import Context
from crm_desktop.services.requests import RequestView
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import Reader


def raw_text(edit: QPlainTextEdit) -> str:
    """What was typed, with ``\\n`` between lines (keeps non-breaking spaces)."""
    return edit.document().toRawText().replace("\u2029", "\n").replace("\u2028", "\n")


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("dialogHeading")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _notes_edit(parent: QWidget, placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit(parent)
    edit.setTabChangesFocus(True)
    edit.setPlaceholderText(placeholder)
    edit.setMinimumHeight(70)
    return edit


class _RequestForm(QDialog):
    """A form whose errors sit under its fields; subclasses fill it and save."""

    def __init__(self, fields: tuple[str, ...], parent: QWidget | None):
        super().__init__(parent)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.general = QLabel(self)
        self.general.setObjectName("formError")
        self._errors = messages.FormErrors(self.form, fields, self.general)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.rejected.connect(self.reject)

    def add_row(self, label: str | QWidget, field: QWidget, name: str | None = None) -> None:
        self.form.addRow(label, field)
        if name:
            self._errors.add(name, field)

    def save_button(self, text: str):
        button = self.buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
        button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        return button

    def errors(self) -> dict[str, str]:
        """The messages on show (field -> text; "_form" for the general one)."""
        return self._errors.shown()

    def run_service(self, call, title: str):
        """``call()``'s result, or None after showing why it was refused."""
        self._errors.clear()
        try:
            return call()
        except ValidationError as exc:
            self.show_errors(with_labels(exc.errors, FIELD_LABELS))
        except CrmError as exc:
            messages.show_error(self, exc, title)
        return None

    def show_errors(self, errors: dict[str, str]) -> None:
        self._errors.show(errors)


class RequestDialog(_RequestForm):
    """Record a new request, or (given ``request``) edit who asked, identity and notes.

    The requester is a prospect (typed as an id or email address, or the one
    selected when the dialog was opened), or a name, email and phone for
    someone not in the CRM yet; a prospect can be linked later. Kind and date
    received are fixed once recorded: they set the legal deadline.

    Once saved, ``saved`` is the :class:`RequestView` and the dialog closes
    (accepted): its opener, the Requests page, shows it and says the change.
    """

    FIELDS = ("kind", "name", "email", "phone", "requester", "received", "notes")

    def __init__(
        self,
        ctx: Context,
        *,
        prospect: ProspectView | None = None,
        request: RequestView | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(self.FIELDS, parent)
        self._ctx = ctx
        self._request = request
        self.saved: RequestView | None = None
        self.setObjectName("requestDialog")
        editing = request is not None
        self.setWindowTitle(f"Request #{request.id}" if request else "New data-subject request")
        self.setMinimumWidth(520)

        self.kind = QComboBox(self)
        self.kind.setObjectName("requestKind")
        for kind in RequestKind:
            self.kind.addItem(kind.label, kind.value)
        self.add_row("&Kind", self.kind, "kind")

        self.prospect = QLineEdit(self)
        self.prospect.setObjectName("requestProspect")
        self.prospect.setPlaceholderText("The prospect's id or email address, if we hold one")
        self.add_row("&Prospect", self.prospect)
        # Says whose request it is as the id or email is typed, and (in red)
        # why the service refused it: one place for the prospect's feedback.
        self.match = QLabel(self)
        self.match.setObjectName("prospectMatch")
        self.match.setTextFormat(Qt.TextFormat.PlainText)
        self.match.setWordWrap(True)
        self.form.addRow("", self.match)

        self.name = QLineEdit(self)
        self.name.setObjectName("requesterName")
        self.email = QLineEdit(self)
        self.email.setObjectName("requesterEmail")
        self.phone = QLineEdit(self)
        self.phone.setObjectName("requesterPhone")
        for edit, text, key in (
            (self.name, "&Name", "name"),
            (self.email, "&Email", "email"),
            (self.phone, "P&hone", "phone"),
        ):
            edit.setPlaceholderText("Optional when a prospect is linked")
            self.add_row(text, edit, key)
        self._errors.add("requester", self.name)

        self.received = DateField(self, value=date.today())
        self.received.setObjectName("requestReceived")
        self.received.setAccessibleName("Date received")
        self.received.setMaximumDate(date.today(), "The date received cannot be in the future.")
        self.add_row("&Received", self.received, "received")
        self.due = QLabel(self)
        self.due.setObjectName("requestDue")
        self.form.addRow("Due", self.due)

        self.verified = QCheckBox("&Identity verified", self)
        self.verified.setObjectName("requestVerified")
        self.verified.setToolTip("We have checked that the requester is who they say they are")
        self.add_row("", self.verified)

        self.notes = _notes_edit(self, "How it arrived, what exactly they asked for…")
        self.notes.setObjectName("requestNotes")
        self.add_row("N&otes", self.notes, "notes")

        self.save = self.save_button("Save" if editing else "Record request")
        layout = QVBoxLayout(self)
        intro = (
            "Correct who asked, link a prospect, record the identity check or add notes."
            if editing
            else "It must be answered within one calendar month of receipt."
        )
        layout.addWidget(_hint(intro, self))
        layout.addWidget(self.general)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

        # Whose request it is, looked up on a worker as the id or email is typed.
        self._lookup = Reader(self, cover=None)
        self.prospect.textChanged.connect(self._look_up)
        self.received.dateChanged.connect(self._show_due)
        if request is not None:
            self._fill(request)
        elif prospect is not None:
            self.prospect.setText(str(prospect.id))
        self._show_due()
        self._look_up()
        (self.prospect if editing else self.kind).setFocus()

    def _fill(self, r: RequestView) -> None:
        self.kind.setCurrentIndex(self.kind.findData(r.kind))
        self.kind.setEnabled(False)
        self.received.setMaximumDate(None)
        self.received.setDate(r.received_on)
        self.received.setEnabled(False)
        self.prospect.setText(str(r.prospect_id) if r.prospect_id else "")
        self.name.setText(r.requester_name or "")
        self.email.setText(r.requester_email or "")
        self.phone.setText(format_phone(r.requester_phone))
        self.verified.setChecked(r.identity_verified)
        self.notes.setPlainText(r.notes or "")

    def _show_due(self) -> None:
        if self._request is not None:
            due, note = self._request.due_on, " (extended)" if self._request.extended else ""
        else:
            received = self.received.date()
            if received is None:
                self.due.setText("One calendar month from the date received")
                return
            due, note = due_date(received), " — one calendar month"
        self.due.setText(f"{format_due(due)}{note}")

    def _look_up(self) -> None:
        """Say whose request this is as the prospect's id or email is typed.

        The look-up runs on a worker; only the one for the latest text is shown.
        """
        text = self.prospect.text().strip()
        if not (text.lstrip("#").isdigit() or "@" in text):
            self._lookup.cancel()
            self._show_match("" if text else "Not linked: give the requester's details below.")
            return
        ctx = self._ctx
        self._lookup.read(
            lambda: prospect_service.find_prospect(ctx, text),
            self._show_found,
            failed=self._not_found,
        )

    def _show_found(self, found: ProspectView) -> None:
        where = f", {found.school_name}" if found.school_name else ""
        contact = f" <{found.email}>" if found.email else ""
        self._show_match(f"✓ {found.full_name}{where}{contact}")

    def _not_found(self, exc: CrmError) -> bool:
        if isinstance(exc, NotFoundError):
            self._show_match(
                "No prospect has this id or email address. For someone not in the CRM, "
                "clear this field and give their details below.",
                error=True,
            )
        else:
            self._show_match(str(exc), error=True)
        return True

    def _show_match(self, text: str, *, error: bool = False) -> None:
        self.match.setText(text)
        self.match.setProperty("fieldError", error)
        self.match.style().unpolish(self.match)
        self.match.style().polish(self.match)

    def show_errors(self, errors: dict[str, str]) -> None:
        errors = dict(errors)
        problem = errors.pop("prospect", None)
        if problem is not None:
            self._lookup.cancel()  # the service's word stands, not a look-up still running
            self._show_match(messages.field_message("prospect", problem), error=True)
            self.prospect.setFocus()
        if errors:
            super().show_errors(errors)

    def accept(self) -> None:
        if self._request is None and not self.received.check():
            self.received.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        received = self.received.date()
        prospect = self.prospect.text().strip() or None
        if self._request is None:

            def call():
                return request_service.add_request(
                    self._ctx,
                    self.kind.currentData(),
                    prospect_ref=prospect,
                    requester_name=self.name.text(),
                    email=self.email.text(),
                    phone=self.phone.text(),
                    received=received,
                    identity_verified=self.verified.isChecked(),
                    notes=raw_text(self.notes),
                )
        else:
            r = self._request

            def call():
                return request_service.update_request(
                    self._ctx,
                    r.id,
                    prospect_ref=prospect,
                    requester_name=self.name.text(),
                    email=self.email.text(),
                    phone=self.phone.text(),
                    identity_verified=self.verified.isChecked(),
                    notes=raw_text(self.notes),
                    expected_version=r.version,
                )

        saved = self.run_service(call, "Could not save the request")
        if saved is None:
            return
        self.saved = saved
        super().accept()


class ExtendDialog(_RequestForm):
    """Extend a request's deadline once, by one or two months, with the reason.

    Once saved, ``saved`` is the extended :class:`RequestView` (accepted).
    """

    def __init__(self, ctx: Context, request: RequestView, parent: QWidget | None = None):
        super().__init__(("months", "reason"), parent)
        self._ctx = ctx
        self._request = request
        self.saved: RequestView | None = None
        self.setObjectName("extendRequestDialog")
        self.setWindowTitle(f"Extend request #{request.id}")
        self.setMinimumWidth(480)

        self.months = QComboBox(self)
        self.months.setObjectName("extensionMonths")
        for months in range(MAX_EXTENSION_MONTHS, 0, -1):
            new_due = format_due(extended_due_date(request.received_on, months))
            unit = "month" if months == 1 else "months"
            self.months.addItem(f"{months} more {unit}: due {new_due}", months)
        self.add_row("&Extend by", self.months, "months")
        self.reason = _notes_edit(self, "e.g. Complex: records in three systems to search")
        self.reason.setObjectName("extensionReason")
        self.add_row("&Reason", self.reason, "reason")
        self.save_button("Extend")

        layout = QVBoxLayout(self)
        layout.addWidget(
            _heading(f"{RequestKind(request.kind).label} from {request.requester}", self)
        )
        layout.addWidget(
            _hint(
                f"Received {format_due(request.received_on)}; due {format_due(request.due_on)}. "
                "A deadline can be extended once, by up to two more months counted from "
                "receipt, when the request is complex or one of many. Tell the requester "
                "within the first month, and why.",
                self,
            )
        )
        layout.addWidget(self.general)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        self.reason.setFocus()

    def accept(self) -> None:
        saved = self.run_service(
            lambda: request_service.extend_request(
                self._ctx, self._request.id, raw_text(self.reason), self.months.currentData()
            ),
            "Could not extend the request",
        )
        if saved is None:
            return
        self.saved = saved
        super().accept()


class CloseDialog(_RequestForm):
    """Close a request: completed or refused, what was done (or why not), notes.

    Once saved, ``saved`` is the closed :class:`RequestView` (accepted).
    """

    def __init__(self, ctx: Context, request: RequestView, parent: QWidget | None = None):
        super().__init__(("identity_verified", "outcome", "notes"), parent)
        self._ctx = ctx
        self._request = request
        self.saved: RequestView | None = None
        self.setObjectName("closeRequestDialog")
        self.setWindowTitle(f"Close request #{request.id}")
        self.setMinimumWidth(480)

        self.completed = QRadioButton("&Completed", self)
        self.completed.setObjectName("closeCompleted")
        self.refused = QRadioButton("Re&fused", self)
        self.refused.setObjectName("closeRefused")
        self.completed.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.completed)
        group.addButton(self.refused)
        choice = QWidget(self)
        row = QHBoxLayout(choice)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.completed)
        row.addWidget(self.refused)
        row.addStretch(1)
        self.add_row("Result", choice, "identity_verified")

        self.outcome = _notes_edit(self, "What was done, e.g. “Sent the subject-access pack”")
        self.outcome.setObjectName("closeOutcome")
        self.add_row("&Outcome", self.outcome, "outcome")
        self.notes = _notes_edit(self, "Optional; added to the request's notes")
        self.notes.setObjectName("closeNotes")
        self.add_row("&Notes", self.notes, "notes")
        self.save_button("Close request")
        self.refused.toggled.connect(self._placeholder)

        layout = QVBoxLayout(self)
        layout.addWidget(
            _heading(f"{RequestKind(request.kind).label} from {request.requester}", self)
        )
        verified = "verified" if request.identity_verified else "not verified"
        layout.addWidget(
            _hint(
                f"Due {format_due(request.due_on)}; identity {verified}. A closed request "
                "cannot be changed afterwards.",
                self,
            )
        )
        layout.addWidget(self.general)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        self.outcome.setFocus()

    def _placeholder(self, refused: bool) -> None:
        self.outcome.setPlaceholderText(
            "Why it was refused, e.g. “Identity could not be verified”"
            if refused
            else "What was done, e.g. “Sent the subject-access pack”"
        )

    def accept(self) -> None:
        saved = self.run_service(
            lambda: request_service.close_request(
                self._ctx,
                self._request.id,
                raw_text(self.outcome),
                raw_text(self.notes),
                refused=self.refused.isChecked(),
            ),
            "Could not close the request",
        )
        if saved is None:
            return
        self.saved = saved
        super().accept()
