"""Change many prospects at once: the table's selection, or every prospect the filter matches.

One dialog for every bulk action (set owner or stage, add or remove an
interest, log the same contact, opt out, delete); it shows only the fields
the chosen action needs, says how many prospects it will change and whom it
must leave alone (read on a worker), and runs the action on a worker with a
progress dialog and Cancel (:func:`services.bulk.run`: one transaction, so a
cancel changes nothing). The log-contact fields are the log-contact form's,
validated by the same rule before anything runs.

The owners and interests to choose from are read on a worker
(:func:`read_lists`) when the dialog opens: an owner can be typed meanwhile,
and Apply waits for the interests only for the actions that pick one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import QDateTime, Qt, Signal
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

from crm_desktop.domain.enums import Channel, ContactKind, Stage
from crm_desktop.domain.validation import ContactInput, ValidationError
from crm_desktop.services import bulk
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

ACTIONS = (
    (bulk.SET_STAGE, "Set stage"),
    (bulk.SET_OWNER, "Set owner"),
    (bulk.ADD_INTEREST, "Add interest"),
    (bulk.REMOVE_INTEREST, "Remove interest"),
    (bulk.LOG_CONTACT, "Log the same contact with each"),
    (bulk.OPT_OUT, "Opt out"),
    (bulk.DELETE, "Delete"),
)
# The rows each action shows (besides the action itself).
ROWS = {
    bulk.SET_STAGE: ("stage",),
    bulk.SET_OWNER: ("owner",),
    bulk.ADD_INTEREST: ("interest",),
    bulk.REMOVE_INTEREST: ("interest",),
    bulk.LOG_CONTACT: ("kind", "occurred_at", "subject", "summary", "follow_up_on"),
    bulk.OPT_OUT: ("channel", "reason"),
    bulk.DELETE: ("warning",),
}
# What a finished action changed, for the pages that show it.
KINDS = {
    bulk.LOG_CONTACT: (Kind.CONTACTS,),
    bulk.OPT_OUT: (Kind.MARKETING, Kind.SUPPRESSION),
}
NO_OWNER = "(no owner)"
# The actions that need the list of interests read before they can be applied.
NEEDS_INTERESTS = (bulk.ADD_INTEREST, bulk.REMOVE_INTEREST)
INTERESTS_LOADING = "Reading the interests…"
INTERESTS_UNREADABLE = "The interests could not be read"


def read_lists(ctx: Context) -> dict[str, list[str]]:
    """The owners and interests to offer (run on a worker)."""
    return {
        "owners": prospect_service.list_owners(ctx),
        "interests": [name for _id, name, _n in interest_service.list_interests(ctx)],
    }


def _people(n: int) -> str:
    return f"{n:,} prospect" + ("" if n == 1 else "s")


class BulkDialog(QDialog):
    """The bulk-action form for a selection of ``count`` prospects.

    Signals:
        started(object): the :class:`BackgroundTask` running the action (the
            dialog then closes; the task reports to the window on its own).
    """

    started = Signal(object)

    def __init__(
        self,
        ctx: Context,
        selection: bulk.Selection,
        count: int,
        parent: QWidget | None = None,
        *,
        bus: ChangeBus | None = None,
        status: Callable[[str], None] | None = None,
        action: str = bulk.SET_STAGE,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self._selection = selection
        self._count = count
        self._bus = bus
        self._status = status or (lambda _text: None)
        self._preview: bulk.BulkPreview | None = None
        self._preview_allows = True  # until the preview says nobody can be changed
        self.lists_loaded = False
        self.task: BackgroundTask | None = None
        self.setObjectName("bulkDialog")
        self.setWindowTitle(f"Change {_people(count)}")
        self.setMinimumWidth(500)

        everyone = selection.query is not None
        heading = QLabel(self)
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        heading.setText(
            f"All {_people(count)} matching the search and filters"
            if everyone
            else f"{_people(count)} selected"
        )

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel(self)
        general.setObjectName("formError")
        fields = ("owner", "stage", "interest", "kind", "occurred_at", "subject", "summary",
                  "follow_up_on", "channel", "reason")  # fmt: skip
        self._errors = messages.FormErrors(self.form, fields, general)
        self._rows: dict[str, QWidget] = {}

        self.action = QComboBox(self)
        self.action.setObjectName("bulkAction")
        for value, text in ACTIONS:
            self.action.addItem(text, value)
        self.form.addRow("&Action", self.action)

        self.stage = QComboBox(self)
        self.stage.setObjectName("bulkStage")
        for stage in Stage:
            self.stage.addItem(stage.label, stage.value)
        self._add_row("stage", "&Stage", self.stage)

        self.owner = QComboBox(self)
        self.owner.setObjectName("bulkOwner")
        self.owner.setEditable(True)
        self.owner.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.owner.addItem(NO_OWNER, None)
        # "(no owner)" is the box's placeholder, not text in it: a click into
        # the box and a name typed replace it rather than add to it.
        self.owner.lineEdit().setPlaceholderText(NO_OWNER)
        self.owner.currentIndexChanged.connect(self._owner_chosen)
        self.owner.setEditText("")
        self._add_row("owner", "&Owner", self.owner)

        self.interest = QComboBox(self)
        self.interest.setObjectName("bulkInterest")
        self.interest.setPlaceholderText(INTERESTS_LOADING)
        self.interest.setEnabled(False)
        self._add_row("interest", "&Interest", self.interest)

        self.kind = QComboBox(self)
        for kind in ContactKind:
            self.kind.addItem(kind.label, kind.value)
        self.kind.setCurrentIndex(max(self.kind.findData(ContactKind.CALL.value), 0))
        self._add_row("kind", "&Kind", self.kind)
        self.when = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("d MMM yyyy HH:mm")
        self.when.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        self._add_row("occurred_at", "&When", self.when)
        self.subject = QLineEdit(self)
        self.subject.setPlaceholderText("Optional")
        self._add_row("subject", "Su&bject", self.subject)
        self.summary = QPlainTextEdit(self)
        self.summary.setObjectName("summary")
        self.summary.setTabChangesFocus(True)
        self.summary.setPlaceholderText("What happened? The same note is logged for each.")
        self.summary.setMinimumHeight(90)
        self._add_row("summary", "Su&mmary", self.summary)
        self.follow_up_set = QCheckBox("&Follow up on", self)
        self.follow_up = DateField(self, value=date.today() + timedelta(days=7))
        self.follow_up.setAccessibleName("Follow-up date")
        self.follow_up.setEnabled(False)
        self.follow_up_set.toggled.connect(self.follow_up.setEnabled)
        self.form.addRow(self.follow_up_set, self.follow_up)
        self._rows["follow_up_on"] = self.follow_up
        self._errors.add("follow_up_on", self.follow_up_set)

        self.channel = QComboBox(self)
        self.channel.setObjectName("bulkChannel")
        self.channel.addItem("All channels", "all")
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self._add_row("channel", "&Channel", self.channel)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Optional, e.g. asked at the event")
        self._add_row("reason", "&Reason", self.reason)

        self.warning = QLabel(
            "Deletes them with their correspondence; their details are also blanked in the "
            "audit trail. Their addresses are not suppressed. This cannot be undone.",
            self,
        )
        self.warning.setObjectName("bulkDeleteWarning")
        self.warning.setWordWrap(True)
        self.form.addRow(self.warning)
        self._rows["warning"] = self.warning

        self.preview_label = QLabel("Checking who can be changed…", self)
        self.preview_label.setObjectName("bulkPreview")
        self.preview_label.setWordWrap(True)
        self.preview_label.setTextFormat(Qt.TextFormat.PlainText)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setObjectName("bulkApply")
        self.apply_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(general)
        layout.addLayout(self.form)
        layout.addWidget(self.preview_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self._reader = Reader(self, cover=None, error_title="Could not read the selection")
        self._lists_reader = Reader(
            self, cover=None, error_title="Could not read the owners and interests"
        )
        self._lists_reader.read(lambda: read_lists(ctx), self._fill_lists, failed=self._no_lists)
        self.action.currentIndexChanged.connect(self._action_changed)
        self.action.setCurrentIndex(max(self.action.findData(action), 0))
        self._action_changed()
        self.action.setFocus()

    def _add_row(self, name: str, label: str, widget: QWidget) -> None:
        self.form.addRow(label, widget)
        self._rows[name] = widget
        self._errors.add(name, widget)

    def _fill_lists(self, lists: dict[str, list[str]]) -> None:
        """The lists have been read: offer them, keeping an owner typed or chosen meanwhile."""
        typed, index = self.owner.currentText(), self.owner.currentIndex()
        for owner in lists["owners"]:
            self.owner.addItem(owner, owner)
        if self._ctx.user and self.owner.findData(self._ctx.user) < 0:
            self.owner.addItem(self._ctx.user, self._ctx.user)
        self.owner.setCurrentIndex(index)
        self.owner.setEditText(typed)
        for name in lists["interests"]:
            self.interest.addItem(name, name)
        if self.interest.count() and self.interest.currentIndex() < 0:
            self.interest.setCurrentIndex(0)  # as a combo without a placeholder does
        self.interest.setPlaceholderText("No services in the list yet")
        self.interest.setEnabled(self.interest.count() > 0)
        self.lists_loaded = True
        self._update_apply()

    def _no_lists(self, _error) -> bool:
        self.interest.setPlaceholderText(INTERESTS_UNREADABLE)
        return False  # the reader says why

    # ------------------------------------------------------------- actions

    def chosen(self) -> str:
        return self.action.currentData()

    def _action_changed(self) -> None:
        chosen = self.chosen()
        shown = set(ROWS[chosen])
        for name, widget in self._rows.items():
            self.form.setRowVisible(widget, name in shown)
        self._errors.clear()
        if chosen == bulk.DELETE:
            self.apply_button.setText(f"Delete {_people(self._count)}")
        else:
            self.apply_button.setText("Apply")
        self.adjustSize()
        self._read_preview()

    def _read_preview(self) -> None:
        ctx, selection, action = self._ctx, self._selection, self.chosen()
        self._preview = None
        self.preview_label.setText("Checking who can be changed…")
        self._preview_allows = True
        self._update_apply()
        self._reader.read(lambda: bulk.preview(ctx, selection, action), self._show_preview)

    def waiting_for_lists(self) -> bool:
        """Apply waits: the chosen action picks an interest, and they are still being read."""
        return self.chosen() in NEEDS_INTERESTS and not self.lists_loaded

    def _update_apply(self) -> None:
        self.apply_button.setEnabled(self._preview_allows and not self.waiting_for_lists())
        waiting = ""
        if self.waiting_for_lists():
            waiting = INTERESTS_LOADING if self._lists_reader.pending else INTERESTS_UNREADABLE
        self.apply_button.setToolTip(waiting)

    def _show_preview(self, preview: bulk.BulkPreview) -> None:
        if preview.action != self.chosen():
            return
        self._preview = preview
        if not preview.count:
            self.preview_label.setText("None of these prospects exist any more.")
        elif preview.refused:
            self.preview_label.setText(
                f"Applies to {_people(preview.allowed)}. " + bulk.refused_sentence(preview.refused)
            )
        else:
            self.preview_label.setText(f"Applies to {_people(preview.allowed)}.")
        if preview.action == bulk.DELETE:
            self.apply_button.setText(f"Delete {_people(preview.allowed)}")
        self._preview_allows = preview.allowed > 0
        self._update_apply()

    def _owner_chosen(self, index: int) -> None:
        if index >= 0 and self.owner.itemData(index) is None:
            self.owner.setEditText("")

    def value(self) -> object:
        """The chosen action's argument, as :func:`services.bulk.run` takes it."""
        chosen = self.chosen()
        if chosen == bulk.SET_STAGE:
            return self.stage.currentData()
        if chosen == bulk.SET_OWNER:
            text = self.owner.currentText().strip()
            return None if text in ("", NO_OWNER) else text
        if chosen in (bulk.ADD_INTEREST, bulk.REMOVE_INTEREST):
            return self.interest.currentData()
        if chosen == bulk.LOG_CONTACT:
            return ContactInput(
                kind=self.kind.currentData(),
                summary=self.summary.document().toRawText().replace("\u2029", "\n"),
                subject=self.subject.text(),
                occurred_at=self.when.dateTime().toPython().astimezone(),
                follow_up_on=self.follow_up.date() if self.follow_up_set.isChecked() else None,
            )
        if chosen == bulk.OPT_OUT:
            return self.channel.currentData()
        return None

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def accept(self) -> None:
        """Check the fields, confirm a deletion or opt-out, then run on a worker."""
        self._errors.clear()
        chosen, value = self.chosen(), self.value()
        if self.waiting_for_lists():
            return  # Apply is off meanwhile; Enter waits too
        if chosen in NEEDS_INTERESTS and not value:
            self._errors.show({"interest": "choose one of our services"})
            return
        if chosen == bulk.LOG_CONTACT:
            if self.follow_up_set.isChecked() and not self.follow_up.check():
                return
            try:
                bulk.check_contact(value)  # type: ignore[arg-type]
            except ValidationError as exc:
                self._errors.show(exc.errors)
                return
        many = _people(self._preview.allowed if self._preview else self._count)
        if chosen == bulk.DELETE and not messages.ask(
            self, "Delete prospects", f"Delete {many} and all their correspondence?\n\n"
            "This cannot be undone."
        ):  # fmt: skip
            return
        if chosen == bulk.OPT_OUT and not messages.ask(
            self, "Opt out", f"Opt {many} out of {self.channel.currentText().lower()}?\n\n"
            "Only an explicit opt-in with consent evidence lifts an opt-out."
        ):  # fmt: skip
            return
        self._start(chosen, value)
        super().accept()

    def _start(self, chosen: str, value: object) -> None:
        """Run the action on a worker. The dialog closes (and is deleted) meanwhile, so
        what happens next is told by the task to the window, not to the dialog."""
        ctx, selection, reason = self._ctx, self._selection, self.reason.text() or None
        bus, status, label = self._bus, self._status, dict(ACTIONS)[chosen]

        def work(progress, should_cancel):
            return bulk.run(ctx, selection, chosen, value, reason=reason,
                            progress=progress, should_cancel=should_cancel)  # fmt: skip

        parent = self.parentWidget()
        task = run_with_progress(parent, label, f"{label}: {_people(self._count)}…", work)
        task.succeeded.connect(lambda result: report(parent, bus, status, result))
        task.cancelled.connect(lambda: status(bulk.CANCELLED))
        task.failed.connect(
            lambda message: messages.show_error(parent, message, f"Could not {label.lower()}")
        )
        self.task = task
        self.started.emit(task)


def report(
    parent: QWidget | None,
    bus: ChangeBus | None,
    status: Callable[[str], None],
    result: bulk.BulkResult,
) -> None:
    """Say what a finished bulk action did; the pages showing it refresh from the bus."""
    if bus is not None and (result.changed or result.missing):
        bus.publish(Change.of(Kind.PROSPECTS, *KINDS.get(result.action, ())))
    if result.refused or result.missing:
        messages.inform(parent, "Not everyone was changed", result.summary())
    status(result.done_sentence())
