"""The follow-ups list: what needs chasing, overdue first.

A salesperson opens this every morning, so what is late must stand out
(red, bold) and what is due today comes next (amber). "Mine" shows the
follow-ups I logged; "Everyone" the whole team's. The choice is remembered.
Nothing is read until the page is first shown (then on a worker).
"""

from __future__ import annotations

from datetime import date
from html import escape

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.dates import format_due
from crm_desktop.domain.enums import ContactKind
from crm_desktop.errors import CrmError
from crm_desktop.services import correspondence
from crm_desktop.services.context import Context
from crm_desktop.services.results import FollowUpView
from crm_desktop.ui.common.appearance import due_soon_color, overdue_color
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import LoadsWhenShown, Reader
from crm_desktop.ui.common.table_model import ReadOnlyTableModel, with_empty_state

# The invisible root: the parent of every row (a shared default argument).
_ROOT = QModelIndex()

ContactIdRole = Qt.ItemDataRole.UserRole + 1
ProspectIdRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3  # "overdue" | "today" | "upcoming"

PAGE = "followups"  # the page's name in the window
SCOPE_KEY = "followups/scope"  # "mine" | "everyone"

STATUS_LABELS = {"overdue": "Overdue", "today": "Due today", "upcoming": "Upcoming"}

# How much of a long summary goes into a table cell / tooltip.
_CELL_CHARS = 200
_TIP_CHARS = 1_000


def _elide(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line: newlines and runs of spaces
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind_label(kind: str) -> str:
    try:
        return ContactKind(kind).label
    except ValueError:
        return kind


def _days_text(due: date, status: str, today: date) -> str:
    days = abs((due - today).days)
    if status == "today":
        return "Due today"
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} overdue" if status == "overdue" else f"Due in {days} {unit}"


def _show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


class FollowUpsModel(ReadOnlyTableModel):
    """Open follow-ups as rows of :class:`FollowUpView`, in the service's order.

    The service already orders overdue first, then by date; the model keeps
    that order and does not sort.
    """

    COLUMNS = ("Due", "Status", "Prospect", "School", "Kind", "Subject / summary", "Assigned to")
    DUE, STATUS, PROSPECT, SCHOOL, KIND, SUBJECT, ASSIGNED = range(len(COLUMNS))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[FollowUpView] = []
        self._today = date.today()
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[FollowUpView], today: date | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._today = today or date.today()
        self.endResetModel()

    def row_at(self, row: int) -> FollowUpView:
        return self._rows[row]

    def rows(self) -> list[FollowUpView]:
        return list(self._rows)

    def counts(self) -> dict[str, int]:
        result = {"overdue": 0, "today": 0, "upcoming": 0}
        for r in self._rows:
            result[r.status] = result.get(r.status, 0) + 1
        return result

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.SUBJECT:
                body = _elide(r.summary, _TIP_CHARS)
                return f"{r.subject}\n\n{body}" if r.subject else body
            if col in (self.DUE, self.STATUS):
                return _days_text(r.due, r.status, self._today)
            return self._display(r, col) or None
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.status == "overdue":
                return overdue_color()
            if r.status == "today":
                return due_soon_color()
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if r.status == "overdue" else None
        if role == ContactIdRole:
            return r.contact_id
        if role == ProspectIdRole:
            return r.prospect_id
        if role == StatusRole:
            return r.status
        return None

    def _display(self, r: FollowUpView, col: int) -> str:
        if col == self.DUE:
            return format_due(r.due)
        if col == self.STATUS:
            return STATUS_LABELS.get(r.status, r.status)
        if col == self.PROSPECT:
            return r.prospect_name
        if col == self.SCHOOL:
            return r.school_name or ""
        if col == self.KIND:
            return _kind_label(r.kind)
        if col == self.SUBJECT:
            if r.subject:
                return _elide(f"{r.subject} — {r.summary}", _CELL_CHARS)
            return _elide(r.summary, _CELL_CHARS)
        if col == self.ASSIGNED:
            return r.assigned_to
        return ""


class FollowUpsView(LoadsWhenShown, QWidget):
    """Open follow-ups with a Mine / Everyone choice and Mark done.

    Signals:

    ``prospectActivated(int)``
        The user double-clicked a row or pressed Enter on it; the prospect id.

    Follow-ups marked done here are said on ``bus`` as ``Change(CONTACTS,
    by=PAGE)``: other pages show counts and next follow-ups; this one has
    already read them again.
    """

    prospectActivated = Signal(int)

    # Seam for tests: how an error is shown to the user.
    show_error = staticmethod(_show_error)

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        bus: ChangeBus | None = None,
    ) -> None:
        """``settings``: where the Mine/Everyone choice is kept (default: the app's);
        ``bus``: where follow-ups marked done are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._settings = settings if settings is not None else QSettings()
        self._load_error = ""
        self._loaded = False  # read once shown, not before (LoadsWhenShown)
        self._reader = Reader(self)
        self.model = FollowUpsModel(self)

        self.counts_label = QLabel()
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        self.counts_label.setAccessibleName("Follow-up counts")

        self.mine_button = QRadioButton("&Mine")
        self.everyone_button = QRadioButton("&Everyone")
        self.mine_button.setToolTip("Follow-ups you logged")
        self.everyone_button.setToolTip("Follow-ups logged by anyone")
        self._scope_group = QButtonGroup(self)
        self._scope_group.addButton(self.mine_button)
        self._scope_group.addButton(self.everyone_button)
        if self._saved_scope() == "everyone":
            self.everyone_button.setChecked(True)
        else:
            self.mine_button.setChecked(True)
        self._scope_group.buttonToggled.connect(self._scope_toggled)

        top = QHBoxLayout()
        top.addWidget(self.counts_label, 1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.mine_button)
        top.addWidget(self.everyone_button)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FollowUpsModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        header.setResizeContentsPrecision(200)
        self.table.activated.connect(self._row_activated)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.stack, self.empty_label = with_empty_state(self.table, self)

        self.mark_done_action = QAction("Mark &done", self)
        self.mark_done_action.setShortcut(QKeySequence("Ctrl+D"))
        self.mark_done_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.mark_done_action.setStatusTip("Mark the selected follow-ups as done")
        self.mark_done_action.triggered.connect(self.mark_selected_done)
        self.addAction(self.mark_done_action)

        self.mark_done_button = QPushButton("Mark done")
        self.mark_done_button.setToolTip("Mark the selected follow-ups as done (Ctrl+D)")
        self.mark_done_button.clicked.connect(self.mark_selected_done)
        self.open_button = QPushButton("Open prospect")
        self.open_button.setToolTip("Open the selected follow-up's prospect (Enter)")
        self.open_button.clicked.connect(self._open_current)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.mark_done_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)

    # ------------------------------------------------------------ public

    @property
    def mine(self) -> bool:
        """True when only my follow-ups are shown."""
        return self.mine_button.isChecked()

    def set_mine(self, mine: bool) -> None:
        (self.mine_button if mine else self.everyone_button).setChecked(True)

    @Slot()
    def refresh(self) -> None:
        """Reload from the database (on a worker), keeping the selection where it can."""
        self._loaded = True
        ctx, mine = self._ctx, self.mine

        def failed(error: CrmError) -> bool:  # e.g. the database file went away
            self._show_rows([], str(error))
            return True

        self._reader.read(
            lambda: correspondence.list_followups(ctx, mine=mine), self._show_rows, failed=failed
        )

    def _show_rows(self, rows: list[FollowUpView], error: str = "") -> None:
        selected = set(self.selected_contact_ids())
        current = self.table.currentIndex()
        current_id = current.data(ContactIdRole) if current.isValid() else None
        self._load_error = error
        self.model.set_rows(rows)
        self._restore_selection(selected, current_id)
        self._update_counts()
        self._update_empty_state()
        self._update_buttons()
        if rows:
            self._fit_columns()

    def selected_contact_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.row_at(r).contact_id for r in rows]

    @Slot()
    def mark_selected_done(self) -> None:
        """Mark every selected follow-up done, then reload."""
        ids = self.selected_contact_ids()
        if not ids:
            return
        done, errors = 0, []
        for contact_id in ids:
            try:
                correspondence.complete_followup(self._ctx, contact_id)
                done += 1
            except CrmError as exc:
                errors.append(str(exc))
        self.refresh()
        if done:
            self.bus.publish(Change.of(Kind.CONTACTS, by=PAGE))
        if errors:
            self.show_error(self, "Could not mark done", "\n".join(errors))

    # ----------------------------------------------------------- private

    def _fit_columns(self) -> None:
        """Size columns to their text, but leave the summary room to show."""
        header = self.table.horizontalHeader()
        limit = max(120, self.fontMetrics().horizontalAdvance("x" * 26))
        for col in range(self.model.columnCount()):
            if col == FollowUpsModel.SUBJECT:
                continue
            self.table.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col), limit))

    def _saved_scope(self) -> str:
        return str(self._settings.value(SCOPE_KEY, "mine"))

    def _scope_toggled(self, _button: QRadioButton, checked: bool) -> None:
        if not checked:
            return
        self._settings.setValue(SCOPE_KEY, "mine" if self.mine else "everyone")
        if self._loaded:  # else the list is read when the page is first shown
            self.refresh()

    def _restore_selection(self, selected: set[int], current_id: int | None) -> None:
        sel = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row, r in enumerate(self.model.rows()):
            index = self.model.index(row, 0)
            if r.contact_id in selected:
                sel.select(index, flags)
            if r.contact_id == current_id:
                sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)

    def _update_counts(self) -> None:
        c = self.model.counts()
        parts = [
            (c["overdue"], "overdue", overdue_color()),
            (c["today"], "due today", due_soon_color()),
            (c["upcoming"], "upcoming", None),
        ]
        html = []
        for n, words, color in parts:
            text = f"{n} {words}"
            if n and color is not None:
                text = f'<b style="color:{color.name()}">{text}</b>'
            html.append(text)
        self.counts_label.setText(" · ".join(html))
        self.counts_label.setAccessibleDescription(
            f"{c['overdue']} overdue, {c['today']} due today, {c['upcoming']} upcoming"
        )

    def _update_empty_state(self) -> None:
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.table)
            return
        if self._load_error:
            text = f"<p><b>Follow-ups could not be loaded.</b></p><p>{escape(self._load_error)}</p>"
        elif self.mine:
            text = (
                "<p><b>You have no open follow-ups.</b></p>"
                "<p>When you log a contact with a follow-up date, it appears here.<br>"
                "Choose <i>Everyone</i> to see the whole team's.</p>"
            )
        else:
            text = (
                "<p><b>No open follow-ups.</b></p>"
                "<p>When anyone logs a contact with a follow-up date, it appears here.</p>"
            )
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)

    @Slot()
    def _update_buttons(self) -> None:
        has_selection = self.table.selectionModel().hasSelection()
        self.mark_done_action.setEnabled(has_selection)
        self.mark_done_button.setEnabled(has_selection)
        self.open_button.setEnabled(self.table.currentIndex().isValid() and has_selection)

    @Slot(QModelIndex)
    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.prospectActivated.emit(int(index.data(ProspectIdRole)))

    @Slot()
    def _open_current(self) -> None:
        self._row_activated(self.table.currentIndex())
