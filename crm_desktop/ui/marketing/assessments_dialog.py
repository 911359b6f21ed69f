"""Legitimate-interest assessments: the written tests LI marketing relies on.

Marketing on legitimate interest needs a written assessment: the purpose,
why marketing is necessary for it, and why it is fair to the people
(the balancing test). One assessment usually covers a whole kind of
campaign, so they are written once here and linked to many prospects; the
list shows how many rely on each.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
)

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import CrmError, DuplicateError
from crm_desktop.reports.marketing_text import with_labels
from crm_desktop.services import assessments as assessment_service
from crm_desktop.services.assessments import AssessmentView
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.appearance import colours
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.marketing.consent_dialog import raw_text

AssessmentIdRole = Qt.ItemDataRole.UserRole + 1
_ROOT = QModelIndex()
NAME, PROSPECTS, CREATED = range(3)
HEADERS = ("Name", "Prospects", "Written")

FIELDS = ("name", "purpose", "necessity", "balancing")
LABELS = {
    "name": "The name",
    "purpose": "The purpose",
    "necessity": "Necessity",
    "balancing": "The balancing test",
}
HINTS = {
    "purpose": "What the marketing is for, e.g. telling school business managers about "
    "our attendance analytics.",
    "necessity": "Why marketing to these people is needed for that purpose, and why "
    "a less intrusive way would not do.",
    "balancing": "Why it is fair to them: would they expect to hear from us, what is the "
    "impact on them, how easily can they opt out?",
}


class AssessmentsModel(QAbstractTableModel):
    """The assessments as rows (name, prospects linked, when written)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[AssessmentView] = []

    def set_rows(self, rows: list[AssessmentView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def assessment(self, row: int) -> AssessmentView:
        return self._rows[row]

    def row_of(self, assessment_id: int) -> int | None:
        return next((i for i, a in enumerate(self._rows) if a.id == assessment_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0):
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        a = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return a.name
            if column == PROSPECTS:
                return f"{a.prospect_count:,}"
            if column == CREATED:
                return format_date(a.created_at.astimezone().date())
        if role == Qt.ItemDataRole.ToolTipRole and column == NAME:
            return a.name
        if role == Qt.ItemDataRole.TextAlignmentRole and column == PROSPECTS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == AssessmentIdRole:
            return a.id
        return None


class NewAssessmentDialog(QDialog):
    """The form for a new assessment.

    Once stored, ``created`` is the new :class:`AssessmentView`, it is said on
    ``bus`` as ``Change(ASSESSMENTS, ids={id}, select=id)`` and the dialog closes.
    """

    def __init__(self, ctx: Context, parent=None, *, bus: ChangeBus | None = None):
        """``bus``: where the new assessment is said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.created: AssessmentView | None = None
        self.setObjectName("newAssessmentDialog")
        self.setWindowTitle("New legitimate-interest assessment")
        self.setMinimumWidth(520)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel(self)
        general.setObjectName("formError")
        self._errors = messages.FormErrors(form, FIELDS, general)

        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Attendance analytics for SBMs, 2026")
        self.name.setMaxLength(400)
        form.addRow("&Name", self.name)
        self._errors.add("name", self.name)
        self.texts: dict[str, QPlainTextEdit] = {}
        for field, text in (
            ("purpose", "&Purpose"),
            ("necessity", "N&ecessity"),
            ("balancing", "&Balancing test"),
        ):
            edit = QPlainTextEdit(self)
            edit.setObjectName(field)
            edit.setTabChangesFocus(True)
            edit.setPlaceholderText(HINTS[field])
            edit.setMinimumHeight(70)
            form.addRow(text, edit)
            self._errors.add(field, edit)
            self.texts[field] = edit

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(general)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.name.setFocus()

    def errors(self) -> dict[str, str]:
        return self._errors.shown()

    def accept(self) -> None:
        self._errors.clear()
        try:
            created = assessment_service.create_assessment(
                self._ctx,
                self.name.text(),
                purpose=raw_text(self.texts["purpose"]),
                necessity=raw_text(self.texts["necessity"]),
                balancing=raw_text(self.texts["balancing"]),
            )
        except ValidationError as exc:
            self._errors.show(with_labels(exc.errors, LABELS))
            return
        except DuplicateError as exc:
            self._errors.show({"name": str(exc)})
            return
        except CrmError as exc:
            messages.show_error(self, exc, "Could not save the assessment")
            return
        self.created = created
        self.bus.publish(Change.of(Kind.ASSESSMENTS, ids=(created.id,), select=created.id))
        super().accept()


class AssessmentsDialog(QDialog):
    """List, read and add legitimate-interest assessments.

    A new one is said on ``bus`` (see :class:`NewAssessmentDialog`); the list
    reads itself again on every ``Change(ASSESSMENTS)``, selecting its ``select``.
    """

    def __init__(self, ctx: Context, parent=None, *, bus: ChangeBus | None = None):
        """``bus``: where new assessments are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.setObjectName("assessmentsDialog")
        self.setWindowTitle("Legitimate-interest assessments")
        self.setMinimumSize(560, 460)

        intro = QLabel(
            "Marketing without consent, on legitimate interest, needs a written assessment: "
            "its purpose, why marketing is necessary, and why it is fair to the people "
            "(the balancing test). Write one per kind of campaign and link prospects to it "
            "under Lawful basis.",
            self,
        )
        intro.setWordWrap(True)

        self.model = AssessmentsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("assessmentsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(PROSPECTS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CREATED, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())

        self.detail = QTextBrowser(self)
        self.detail.setObjectName("assessmentText")
        self.detail.setOpenLinks(False)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)

        self.new_button = QPushButton("&New assessment…", self)
        self.new_button.clicked.connect(self.new_assessment)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.new_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self._wanted: int | None = None  # the assessment to select when the read arrives
        # Read on a worker; "Loading…" covers the list meanwhile.
        self._reader = Reader(self, cover=self.table, error_title="Could not load the assessments")
        self.bus.changed.connect(self._bus_changed)
        self.refresh()

    def _bus_changed(self, change: Change) -> None:
        if Kind.ASSESSMENTS in change.kinds:
            self.refresh(select_id=change.select)

    def refresh(self, select_id: int | None = None) -> None:
        """Reload the list on a worker (counts change as prospects are linked).

        Then select ``select_id``, or else what is selected when the rows arrive.
        """
        if select_id is not None:
            self._wanted = select_id
        ctx = self._ctx

        def failed(_error: CrmError) -> bool:
            self._show_rows([])
            return False  # and the message says why

        self._reader.read(
            lambda: assessment_service.list_assessments(ctx), self._show_rows, failed=failed
        )

    def _show_rows(self, rows: list[AssessmentView]) -> None:
        select_id, self._wanted = self._wanted, None
        if select_id is None:
            select_id = self.selected_id()
        self.model.set_rows(rows)
        row = self.model.row_of(select_id) if select_id is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.table.selectRow(row)
        self._show_selected()

    def selected_id(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        return index.data(AssessmentIdRole) if index.isValid() else None

    def new_assessment(self) -> NewAssessmentDialog:
        dialog = NewAssessmentDialog(self._ctx, self, bus=self.bus)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _show_selected(self) -> None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            self.detail.setHtml(
                f"<p style='color:{colours().muted}'>No assessments yet. Use <b>New assessment…</b> "
                "to write the first.</p>"
            )
            return
        a = self.model.assessment(index.row())
        people = (
            "1 prospect relies" if a.prospect_count == 1 else f"{a.prospect_count:,} prospects rely"
        )
        parts = [
            f"<h3 style='margin-top:0'>{escape(a.name)}</h3>",
            f"<p style='color:{colours().muted}'>Written by {escape(a.created_by)} on "
            f"{escape(format_datetime(a.created_at))} · {people} on it</p>",
        ]
        for title, text in (
            ("Purpose", a.purpose),
            ("Necessity", a.necessity),
            ("Balancing test", a.balancing),
        ):
            body = escape(text).replace("\n", "<br>")
            parts.append(f"<p><b>{title}</b><br>{body}</p>")
        self.detail.setHtml("".join(parts))


def pick_label(a: AssessmentView) -> str:
    """How an assessment reads in a picker: its name and how many rely on it."""
    return f"{a.name} ({a.prospect_count:,} prospect{'' if a.prospect_count == 1 else 's'})"
