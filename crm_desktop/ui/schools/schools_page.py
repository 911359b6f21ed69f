"""The schools list: search, add, edit, delete.

Search runs in SQL (``services.schools.list_schools``) as the user types,
after a short pause so a fast typist does not run a query per key. Deleting
a school never deletes people: its prospects stay, without a school, and the
confirmation says so with their number.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import SchoolPhase
from crm_desktop.errors import CrmError
from crm_desktop.services import schools
from crm_desktop.services.context import Context
from crm_desktop.services.results import SchoolView
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader, give_current_row
from crm_desktop.ui.common.table_model import ReadOnlyTableModel, with_empty_state
from crm_desktop.ui.schools.school_dialog import SchoolDialog

# The invisible root: the parent of every row (a shared default argument).
_ROOT = QModelIndex()

SchoolIdRole = Qt.ItemDataRole.UserRole + 1

PAGE = "schools"  # the page's name in the window
SEARCH_DELAY_MS = 200


def phase_label(phase: str | None) -> str:
    if not phase:
        return ""
    try:
        return SchoolPhase(phase).label
    except ValueError:
        return phase


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


class SchoolsModel(ReadOnlyTableModel):
    """Schools as rows of :class:`SchoolView`, in the order the service gave."""

    COLUMNS = (
        "Name",
        "URN",
        "Phase/type",
        "Local authority / region",
        "Postcode",
        "Phone",
        "Website",
        "Prospects",
    )
    NAME, URN, PHASE, REGION, POSTCODE, PHONE, WEBSITE, PROSPECTS = range(len(COLUMNS))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[SchoolView] = []

    def set_rows(self, rows: list[SchoolView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> SchoolView:
        return self._rows[row]

    def row_of(self, school_id: int) -> int:
        """The row showing ``school_id``, or -1."""
        return next((i for i, s in enumerate(self._rows) if s.id == school_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self._display(s, col)
            if role == Qt.ItemDataRole.ToolTipRole:
                return text or None
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.PROSPECTS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SchoolIdRole:
            return s.id
        return None

    def _display(self, s: SchoolView, col: int) -> str:
        if col == self.NAME:
            return s.name
        if col == self.URN:
            return s.urn or ""
        if col == self.PHASE:
            return phase_label(s.phase)
        if col == self.REGION:
            return s.local_authority or ""
        if col == self.POSTCODE:
            return s.postcode or ""
        if col == self.PHONE:
            return s.phone_display
        if col == self.WEBSITE:
            return s.website or ""
        if col == self.PROSPECTS:
            return f"{s.prospect_count:,}"
        return ""


class SchoolsView(QWidget):
    """Search, add, edit and delete schools.

    A school added, edited or deleted here is said on ``bus`` as
    ``Change(SCHOOLS, by=PAGE)`` (prospect lists and school pickers
    elsewhere read them again; this page already has).
    """

    # Seams for tests: a yes/no question and an error message.
    ask = staticmethod(_ask)
    show_error = staticmethod(_show_error)

    def __init__(
        self, ctx: Context, parent: QWidget | None = None, *, bus: ChangeBus | None = None
    ) -> None:
        """``bus``: where schools added, edited or deleted here are said (the window's)."""
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self.model = SchoolsModel(self)
        self.dialog: SchoolDialog | None = None  # the open add/edit form, if any
        self._load_error = ""
        self._wanted: int | None = None  # the school to select when the read arrives
        self._focus_list = False  # Enter in the search box: the list takes the keyboard

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search name, URN, local authority or postcode")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search schools")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self._search_now)
        self.count_label = QLabel()

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.count_label)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(SchoolsModel.NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        header.setResizeContentsPrecision(200)
        self.table.activated.connect(self._row_activated)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.stack, self.empty_label = with_empty_state(self.table, self)
        # The list is read on a worker; "Loading…" covers it, not the search box.
        self._reader = Reader(self, cover=self.stack)

        self.add_action = self._action(
            "&Add school…", [QKeySequence("Ctrl+Shift+N"), QKeySequence(Qt.Key.Key_Insert)]
        )
        self.add_action.triggered.connect(self.add_school)
        self.addAction(self.add_action)
        self.edit_action = self._action("&Edit school…", [])
        self.edit_action.triggered.connect(self.edit_selected)
        # Delete only from the table: in the search box the key deletes text.
        self.delete_action = self._action("&Delete school", [QKeySequence.StandardKey.Delete])
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.triggered.connect(self.delete_selected)
        self.table.addAction(self.delete_action)

        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Add a school (Ctrl+Shift+N or Insert)")
        self.add_button.clicked.connect(self.add_action.trigger)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Edit the selected school (Enter or double-click)")
        self.edit_button.clicked.connect(self.edit_action.trigger)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected school (Del); its prospects stay")
        self.delete_button.clicked.connect(self.delete_action.trigger)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)

        self.refresh()

    # ------------------------------------------------------------ public

    @Slot()
    def refresh(self) -> None:
        """Reload the list for the current search, keeping the selection."""
        self._reload()

    def selected_school(self) -> SchoolView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    @Slot()
    def add_school(self) -> SchoolDialog:
        """Open the form for a new school (window-modal, not blocking)."""
        return self._open_dialog(None)

    @Slot()
    def edit_selected(self) -> SchoolDialog | None:
        school = self.selected_school()
        if school is None:
            return None
        return self._open_dialog(school)

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected school after a confirmation naming its prospects."""
        school = self.selected_school()
        if school is None:
            return
        try:  # the count may have changed since the list was loaded
            school = schools.get_school(self._ctx, school.id)
        except CrmError as exc:
            self.show_error(self, "School not deleted", str(exc))
            self.refresh()
            return
        n = school.prospect_count
        if n == 1:
            detail = "Its 1 prospect is not deleted: it stays, without a school."
        elif n:
            detail = f"Its {n:,} prospects are not deleted: they stay, without a school."
        else:
            detail = "No prospects are linked to it."
        if not self.ask(self, "Delete school", f"Delete {school.name}?\n\n{detail}"):
            return
        try:
            schools.delete_school(self._ctx, school.id)
        except CrmError as exc:
            self.show_error(self, "School not deleted", str(exc))
            self.refresh()
            return
        self.refresh()
        self.bus.publish(Change.of(Kind.SCHOOLS, by=PAGE))

    # ----------------------------------------------------------- private

    def _reload(self, select_id: int | None = None, *, focus_list: bool = False) -> None:
        """Read the list for the current search on a worker; then show it."""
        self._search_timer.stop()
        if select_id is not None:  # else what is selected when the rows arrive
            self._wanted = select_id
        self._focus_list = focus_list
        ctx, search = self._ctx, self.search_edit.text()

        def failed(error: CrmError) -> bool:  # e.g. the database file went away
            self._show_rows([], str(error))
            return True

        self._reader.read(lambda: schools.list_schools(ctx, search), self._show_rows, failed=failed)

    def _show_rows(self, rows: list[SchoolView], error: str = "") -> None:
        select_id, self._wanted = self._wanted, None
        if select_id is None:
            current = self.selected_school()
            select_id = current.id if current else None
        focus_list, self._focus_list = self._focus_list, False
        self._load_error = error
        self.model.set_rows(rows)
        row = self.model.row_of(select_id) if select_id is not None else -1
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(self.model.index(row, 0))
        else:
            give_current_row(self.table)
        self.count_label.setText(_plural(len(rows), "school"))
        self._update_empty_state()
        self._update_buttons()
        if rows:
            self._fit_columns()
        if focus_list and rows:
            self.table.setFocus()
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)

    def _action(self, text: str, keys: list[QKeySequence]) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return action

    def _open_dialog(self, school: SchoolView | None) -> SchoolDialog:
        dialog = SchoolDialog(self._ctx, school, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._dialog_saved(dialog))
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _dialog_saved(self, dialog: SchoolDialog) -> None:
        if dialog.saved is None:
            return
        if self.search_edit.text() and self.model.row_of(dialog.saved.id) < 0:
            # A new school the search would hide: show it rather than lose it.
            self.search_edit.blockSignals(True)
            self.search_edit.clear()
            self.search_edit.blockSignals(False)
        self._reload(select_id=dialog.saved.id)
        self.bus.publish(Change.of(Kind.SCHOOLS, by=PAGE))

    @Slot()
    def _search_now(self) -> None:
        """Enter in the search box: results now, and the keyboard to the list."""
        self._reload(focus_list=True)

    @Slot()
    def _dialog_closed(self) -> None:
        self.dialog = None

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        limit = max(120, self.fontMetrics().horizontalAdvance("x" * 28))
        for col in range(self.model.columnCount()):
            if col == SchoolsModel.NAME:
                continue
            self.table.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col), limit))

    def _update_empty_state(self) -> None:
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.table)
            return
        search = self.search_edit.text().strip()
        if self._load_error:
            self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
            self.empty_label.setText(f"Schools could not be loaded.\n\n{self._load_error}")
        elif search:
            self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
            self.empty_label.setText(
                f"No schools match “{search}”.\n\n"
                "Search looks at the name, URN, local authority and postcode."
            )
        else:
            self.empty_label.setTextFormat(Qt.TextFormat.RichText)
            self.empty_label.setText(
                "<p><b>No schools yet.</b></p>"
                "<p>Add one with <i>Add…</i> (Ctrl+Shift+N), or give a prospect a school "
                "and it appears here.</p>"
            )
        self.stack.setCurrentWidget(self.empty_label)

    @Slot()
    def _update_buttons(self) -> None:
        selected = self.selected_school() is not None
        for widget in (self.edit_action, self.delete_action, self.edit_button):
            widget.setEnabled(selected)
        self.delete_button.setEnabled(selected)

    @Slot(QModelIndex)
    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self._open_dialog(self.model.row_at(index.row()))
