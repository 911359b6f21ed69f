"""Add or edit a prospect.

The form collects what a person typed as a :class:`ProspectInput` and hands
it to the prospect services, which validate it exactly as the CLI and the
importers do. A :class:`ValidationError` is shown under each field it names
and the dialog stays open with the input intact; nothing is stored until
the service accepts the whole record.

The lists the form suggests from (schools, job roles, owners, interests)
are read on a worker (:mod:`~crm_desktop.ui.common.reads`), so the form
opens at once however big the database is, and typing can start at once.
Saving does not wait for them: until they arrive, a school is saved by the
name typed (the service finds it, or adds it), an edited prospect keeps
their school and interests as they were, and a new one has no interests.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import JOB_ROLES, DataSource, Stage
from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.errors import ConflictError, CrmError
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.services.context import Context
from crm_desktop.services.results import ProspectView, Saved
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.date_field import DateField
from crm_desktop.ui.common.reads import Reader

# Form order: the first field with an error in this order gets the focus.
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "school",
    "role",
    "interests",
    "stage",
    "owner",
    "source",
    "source_detail",
    "source_date",
    "reason",
)
# The interests list shows this many rows at least and at most.
INTEREST_ROWS = (3, 6)


def editable_combo(items: list[str], current: str = "", parent: QWidget | None = None) -> QComboBox:
    """A combo that suggests ``items`` but takes any text, completing as you type."""
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(20)
    combo.addItems(items)
    completer = combo.completer()  # editable combos complete from their own items
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCurrentIndex(-1)
    combo.setEditText(current)
    return combo


def refill_combo(combo: QComboBox, items: list[tuple[str, object]]) -> None:
    """Replace an editable combo's items, keeping what is typed in it as it is.

    The lists arrive while the person may be typing in the combo: its text,
    cursor and selection stay; no item becomes current by itself.
    """
    edit = combo.lineEdit()
    text, cursor = edit.text(), edit.cursorPosition()
    start, length = edit.selectionStart(), len(edit.selectedText())
    combo.clear()
    for label, data in items:
        combo.addItem(label, data)
    combo.setCurrentIndex(-1)
    combo.setEditText(text)
    if length:
        edit.setSelection(start, length)
    else:
        edit.setCursorPosition(cursor)


def read_lists(ctx: Context) -> dict[str, list]:
    """What the form suggests from (run on a worker): schools, roles, owners, interests."""
    return {
        "schools": school_service.school_names(ctx),
        "roles": prospect_service.list_roles(ctx),
        "owners": prospect_service.list_owners(ctx),
        "interests": [name for _id, name, _count in interest_service.list_interests(ctx)],
    }


class ProspectDialog(QDialog):
    """The prospect form. ``prospect`` None adds a new prospect.

    Once saved, ``saved`` is the service's :class:`Saved` (``record`` the
    saved :class:`ProspectView`, ``warnings`` any accepted-but-odd input); it
    is said on ``bus`` as ``Change(PROSPECTS, ids={id}, select=id)``, and
    the dialog closes.
    """

    def __init__(
        self,
        ctx: Context,
        prospect: ProspectView | None = None,
        parent=None,
        *,
        bus: ChangeBus | None = None,
    ):
        """``bus``: where the saved prospect is said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._prospect = prospect
        self.saved: Saved | None = None
        # Until the lists arrive: the interests and the school (id, name) the
        # form holds but cannot show yet.
        self.lists_loaded = False
        self._wanted_interests: list[str] = []
        self._wanted_school: tuple[int, str] | None = None
        self.setObjectName("prospectDialog")
        self.setWindowTitle(f"Edit {prospect.full_name}" if prospect else "New prospect")
        self.setMinimumWidth(480)

        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._general_error = QLabel(self)
        self._general_error.setObjectName("formError")
        self._errors = messages.FormErrors(self._form, FIELDS, self._general_error)

        self.first_name = self._line("first_name", "&First name", "Required")
        self.last_name = self._line("last_name", "&Last name", "Required")
        self.email = self._line("email", "&Email", "name@school.sch.uk")
        self.phone = self._line("phone", "&Phone", "e.g. 01632 960123")
        # Said as soon as a suppressed address is typed, before saving.
        self.suppression_note = QLabel(self)
        self.suppression_note.setObjectName("suppressionNote")
        self.suppression_note.setProperty("notice", True)
        self.suppression_note.setWordWrap(True)
        self.suppression_note.setTextFormat(Qt.TextFormat.PlainText)
        self._form.addRow("", self.suppression_note)
        self._form.setRowVisible(self.suppression_note, False)
        self.email.editingFinished.connect(self.check_suppression)
        self.phone.editingFinished.connect(self.check_suppression)
        self.school = self._school_combo()
        self._add("school", "Sc&hool", self.school)
        self.role = editable_combo(sorted(JOB_ROLES, key=str.lower), parent=self)
        self.role.lineEdit().setPlaceholderText("Pick or type a job role")
        self._add("role", "Job &role", self.role)
        self.interests = self._interest_list()
        self._add("interests", "&Interests", self.interests)
        self.stage = QComboBox(self)
        for stage in Stage:
            self.stage.addItem(stage.label, stage.value)
        self._add("stage", "S&tage", self.stage)
        self.owner = editable_combo([ctx.user], ctx.user, self)
        self._add("owner", "&Owner", self.owner)
        self.source = QComboBox(self)
        self.source.addItem("Not set", None)
        for source in DataSource:
            self.source.addItem(source.label, source.value)
        self._add("source", "So&urce", self.source)
        self.source_detail = self._line("source_detail", "Source &detail", "e.g. BETT 2026 stand")
        self.source_date_set = QCheckBox("Source d&ate", self)
        self.source_date = DateField(self, value=date.today())
        self.source_date.setObjectName("sourceDate")
        self.source_date.setAccessibleName("Source date")
        self.source_date.setMaximumDate(date.today(), "The source date cannot be in the future.")
        self.source_date.setEnabled(False)
        self.source_date_set.toggled.connect(self.source_date.setEnabled)
        self.source_date_set.setToolTip("Tick to record when we got this contact")
        self._add("source_date", self.source_date_set, self.source_date, self.source_date_set)
        # Edits can say why (e.g. a rectification request); the audit trail keeps it.
        self.reason = self._line(
            "reason", "Reason for c&hange", "Optional, e.g. rectification request #12"
        )
        if prospect is None:
            self._form.setRowVisible(self.reason, False)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self._general_error)
        layout.addLayout(self._form)
        layout.addWidget(self.buttons)

        order = [
            self.first_name,
            self.last_name,
            self.email,
            self.phone,
            self.school,
            self.role,
            self.interests,
            self.stage,
            self.owner,
            self.source,
            self.source_detail,
            self.source_date_set,
            self.source_date,
            self.reason,
            self.buttons,
        ]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        if prospect is not None:
            self._load(prospect)
        self.first_name.setFocus()
        self._lists_reader = Reader(
            self, cover=self.interests, error_title="Could not read the lists to choose from"
        )
        self._lists_reader.read(lambda: read_lists(ctx), self._fill_lists)

    # ------------------------------------------------------------ building

    def _add(
        self, name: str, label: str | QWidget, field: QWidget, focus: QWidget | None = None
    ) -> None:
        self._form.addRow(label, field)
        self._errors.add(name, focus or field)

    def _line(self, name: str, label: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        self._add(name, label, edit)
        return edit

    def _school_combo(self) -> QComboBox:
        combo = editable_combo([], parent=self)
        combo.setObjectName("school")
        combo.lineEdit().setPlaceholderText("Pick a school, or type a new one to add it")
        return combo

    def _interest_list(self) -> QListWidget:
        widget = QListWidget(self)
        widget.setObjectName("interests")
        widget.setSpacing(2)
        widget.setUniformItemSizes(True)
        self._size_interest_list(widget, INTEREST_ROWS[1])  # the usual, while they are read
        return widget

    @staticmethod
    def _size_interest_list(widget: QListWidget, rows: int) -> bool:
        """Show ``rows`` rows; True if that changed the list's height."""
        row = max(widget.fontMetrics().height(), 16) + 2 * widget.spacing() + 2
        height = row * rows + 2 * widget.frameWidth()
        changed = height != widget.height()
        widget.setFixedHeight(height)
        return changed

    def _fill_lists(self, lists: dict[str, list]) -> None:
        """The lists have been read: offer them, keeping everything typed or chosen."""
        refill_combo(self.school, [(name, school_id) for school_id, name in lists["schools"]])
        if self._wanted_school is not None:
            school_id, name = self._wanted_school
            index = self.school.findData(school_id)
            if index >= 0 and self.school.currentText().strip() == name:
                text = self.school.currentText()
                self.school.setCurrentIndex(index)
                self.school.setEditText(text)
        roles = sorted({*JOB_ROLES, *lists["roles"]}, key=str.lower)
        refill_combo(self.role, [(role, None) for role in roles])
        owners = sorted({*lists["owners"], self._ctx.user}, key=str.lower)
        refill_combo(self.owner, [(owner, None) for owner in owners])
        self.interests.clear()
        for name in lists["interests"]:
            item = QListWidgetItem(name, self.interests)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        low, high = INTEREST_ROWS
        if self._size_interest_list(self.interests, min(max(self.interests.count(), low), high)):
            self.adjustSize()  # fewer services than rows kept for them
        if self.interests.count() == 0:
            self.interests.setToolTip(
                "No services on the list yet: add them with File > Manage interests…"
            )
        self.lists_loaded = True
        self._check_interests(self._wanted_interests)
        self._wanted_school = None

    def _check_interests(self, names: list[str]) -> None:
        chosen = {name.lower() for name in names}
        for row in range(self.interests.count()):
            item = self.interests.item(row)
            checked = item.text().lower() in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _load(self, p: ProspectView) -> None:
        self.first_name.setText(p.first_name)
        self.last_name.setText(p.last_name)
        self.email.setText(p.email or "")
        self.phone.setText(p.phone_display)
        index = self.school.findData(p.school_id) if p.school_id is not None else -1
        self.school.setCurrentIndex(index)
        self.school.setEditText(p.school_name or "")
        self.role.setEditText(p.role or "")
        if not self.lists_loaded:
            self._wanted_interests = list(p.interests)
            known = p.school_id is not None and p.school_name
            self._wanted_school = (p.school_id, p.school_name) if known else None
        self._check_interests(p.interests)
        self.stage.setCurrentIndex(max(self.stage.findData(p.stage), 0))
        self.owner.setEditText(p.owner or "")
        self.source.setCurrentIndex(max(self.source.findData(p.source), 0))
        self.source_detail.setText(p.source_detail or "")
        if p.source_date is not None:
            self.source_date.setDate(p.source_date)
            self.source_date_set.setChecked(True)

    # ------------------------------------------------------------- reading

    def prospect_input(self) -> ProspectInput:
        """What the form holds, as typed."""
        school_text = self.school.currentText().strip()
        index = self.school.currentIndex()
        school_id = None
        if index >= 0 and self.school.itemText(index) == school_text:
            school_id = self.school.itemData(index)
        elif self._wanted_school is not None and self._wanted_school[1] == school_text:
            school_id = self._wanted_school[0]  # their school, before the list arrived
        if self.lists_loaded:
            interests = [
                self.interests.item(row).text()
                for row in range(self.interests.count())
                if self.interests.item(row).checkState() == Qt.CheckState.Checked
            ]
        else:
            interests = list(self._wanted_interests)  # nobody could change them yet
        source_date: date | None = None
        if self.source_date_set.isChecked():
            source_date = self.source_date.date()
        return ProspectInput(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            email=self.email.text(),
            phone=self.phone.text(),
            school=None if school_id is not None else school_text,
            school_id=school_id,
            role=self.role.currentText(),
            interests=interests,
            stage=self.stage.currentData(),
            owner=self.owner.currentText(),
            source=self.source.currentData(),
            source_detail=self.source_detail.text(),
            source_date=source_date,
        )

    def errors(self) -> dict[str, str]:
        """The field messages on show (field name -> text)."""
        return self._errors.shown()

    def check_suppression(self) -> list[str]:
        """Warn under the phone field if a new email or phone is on the suppression list.

        The record is still saved (a suppressed address is no reason to lose
        the contact), but as opted out of those channels; the form says so
        before saving, and the status bar after.
        """
        email, phone = self.email.text(), self.phone.text()
        if self._prospect is not None:  # an address they already had is opted out already
            if email.strip().lower() == (self._prospect.email or "").lower():
                email = ""
            if phone.strip() == self._prospect.phone_display:
                phone = ""
        try:
            warnings = prospect_service.check_suppressed(self._ctx, email, phone)
        except CrmError:  # e.g. the database went away: saving will say so
            warnings = []
        self.suppression_note.setText("\n".join(warnings))
        self._form.setRowVisible(self.suppression_note, bool(warnings))
        return warnings

    # -------------------------------------------------------------- saving

    def accept(self) -> None:
        """Save through the service; on an error keep the dialog open."""
        self._clear_errors()
        if self.source_date_set.isChecked() and not self.source_date.check():
            self.source_date.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        data = self.prospect_input()
        try:
            if self._prospect is None:
                saved = prospect_service.create_prospect(self._ctx, data)
            else:
                saved = prospect_service.update_prospect(
                    self._ctx,
                    self._prospect.id,
                    data,
                    expected_version=self._prospect.version,
                    reason=self.reason.text() or None,
                )
        except ValidationError as exc:
            self.show_errors(exc.errors)
            return
        except ConflictError:
            saved = self._resolve_conflict(data)
            if saved is None:
                return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not save the prospect")
            return
        self.saved = saved
        record_id = saved.record.id
        self.bus.publish(Change.of(Kind.PROSPECTS, ids=(record_id,), select=record_id))
        super().accept()

    def _resolve_conflict(self, mine: ProspectInput):
        """Someone saved this prospect after it was opened: show what they
        changed, then reapply this edit on top of theirs or reload theirs.

        Returns the saved result, or None when the dialog stays open.
        """
        original = self._prospect
        try:
            theirs = prospect_service.get_prospect(self._ctx, original.id)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not save the prospect")
            return None
        changes = prospect_service.differences(original, theirs)
        listing = "\n".join(f"  {label}: {old} → {new}" for label, old, new in changes)
        question = (
            f"Someone else saved {theirs.full_name} after you opened it. They changed:\n\n"
            f"{listing or '  (nothing you can see here)'}\n\n"
            "Reapply your changes on top of theirs?\n"
            "Yes saves your changes over theirs, field by field; No reloads their "
            "version so you can edit it again."
        )
        self._prospect = theirs
        if not messages.ask(self, "Changed by someone else", question):
            self._load(theirs)
            return None
        merged = prospect_service.merge_edit(original, mine, theirs)
        try:
            return prospect_service.update_prospect(
                self._ctx, theirs.id, merged, expected_version=theirs.version
            )
        except ValidationError as exc:
            self.show_errors(exc.errors)
        except CrmError as exc:
            messages.show_error(self, exc, "Could not save the prospect")
        return None

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each message under its field and focus the first bad field."""
        self._errors.show(errors)
        self.adjustSize()

    def _clear_errors(self) -> None:
        self._errors.clear()
