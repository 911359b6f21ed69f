"""The schools list: search, sort, add, edit, delete.

The list is a window onto SQL, as the prospect list is: a read on a worker
brings the number of matching schools and the first page
(``services.schools.count_schools`` and ``list_schools``), further pages are
read a page at a time when the view first shows them, and a few pages are
kept. So 30,000 schools cost what 200 do, and nothing is read until the tab
is first shown (the window refreshes a page when it brings it to the
front). Search runs in SQL as the user types, after a short pause so a fast
typist does not run a query per key; a click on a column header sorts in
SQL. Deleting a school never deletes people: its prospects stay, without a
school, and the confirmation says so with their number.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
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
from crm_desktop.ui.common.reads import LoadsWhenShown, Reader, give_current_row
from crm_desktop.ui.common.table_model import ReadOnlyTableModel, with_empty_state
from crm_desktop.ui.schools.school_dialog import SchoolDialog

# The invisible root: the parent of every row (a shared default argument).
_ROOT = QModelIndex()

SchoolIdRole = Qt.ItemDataRole.UserRole + 1

PAGE = "schools"  # the page's name in the window
SEARCH_DELAY_MS = 200
PAGE_SIZE = 200  # schools read at a time
MAX_PAGES = 20  # pages kept


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


@dataclass(frozen=True)
class SchoolQuery:
    """What the list shows: the search, and the column it is sorted by (a key of
    ``services.schools.SCHOOL_SORT_KEYS``)."""

    search: str = ""
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class SchoolsWindow:
    """One read of the list: how many schools match, the first page, and where the
    school to select is (None: not listed)."""

    query: SchoolQuery
    count: int
    first: list[SchoolView]
    position: int | None = None


def read_window(
    ctx: Context, query: SchoolQuery, select_id: int | None = None, page_size: int = PAGE_SIZE
) -> SchoolsWindow:
    """The count and first page for ``query`` (run on a worker)."""
    options = {"sort": query.sort, "descending": query.descending}
    count = schools.count_schools(ctx, query.search)
    first = schools.list_schools(ctx, query.search, limit=page_size, **options)
    position = next((i for i, s in enumerate(first) if s.id == select_id), None)
    if select_id is not None and position is None and count > len(first):
        position = schools.school_position(ctx, select_id, query.search, **options)
    return SchoolsWindow(query, count, first, position)


class SchoolsModel(ReadOnlyTableModel):
    """Schools as rows of :class:`SchoolView`: a window onto SQL, never every school.

    :meth:`show_window` shows what a read brought (the count and first page);
    other pages are read with ``list_schools(offset, limit)`` on the GUI thread
    when the view first asks for a row of theirs (one indexed query of
    :data:`PAGE_SIZE` rows), and the last :data:`MAX_PAGES` are kept.
    :meth:`set_rows` shows a list read whole (no database needed).

    Signals:
        sortRequested(): a header was clicked; :attr:`query` has the new order,
            and the view reads the list again (on a worker).
        pageFailed(str): a page could not be read; the message.
    """

    sortRequested = Signal()
    pageFailed = Signal(str)

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
    SORT_KEYS = ("name", "urn", "phase", "local_authority", "postcode", "phone", "website",
                 "prospects")  # fmt: skip

    def __init__(
        self, parent=None, *, ctx: Context | None = None, page_size: int | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._page_size = page_size or PAGE_SIZE
        self.query = SchoolQuery()
        self._count = 0
        self._pages: OrderedDict[int, list[SchoolView]] = OrderedDict()

    def show_window(self, window: SchoolsWindow) -> None:
        """Show what one read brought (a model reset)."""
        self.beginResetModel()
        self.query = window.query
        self._count = window.count
        self._pages.clear()
        self._pages[0] = list(window.first)
        self.endResetModel()

    def set_rows(self, rows: list[SchoolView]) -> None:
        """Show ``rows``, all of them (no page is read from the database)."""
        rows = list(rows)
        self.beginResetModel()
        self._count = len(rows)
        self._pages.clear()
        size = max(1, self._page_size)
        for number, start in enumerate(range(0, len(rows), size)):
            self._pages[number] = rows[start : start + size]
        self.endResetModel()

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    @property
    def page_size(self) -> int:
        return self._page_size

    def row_at(self, row: int) -> SchoolView | None:
        """The school at ``row``, reading its page if need be (None past the end)."""
        if not 0 <= row < self._count:
            return None
        number, offset = divmod(row, self._page_size)
        page = self._pages.get(number)
        if page is None:
            page = self._read_page(number)
        else:
            self._pages.move_to_end(number)
        # A page comes back short if schools were deleted since the count.
        return page[offset] if offset < len(page) else None

    def _read_page(self, number: int) -> list[SchoolView]:
        if self._ctx is None:
            return []
        query = self.query
        try:
            page = schools.list_schools(
                self._ctx, query.search, offset=number * self._page_size, limit=self._page_size,
                sort=query.sort, descending=query.descending,
            )  # fmt: skip
        except CrmError as exc:
            self.pageFailed.emit(str(exc))
            return []
        self._pages[number] = page
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    def row_of(self, school_id: int) -> int:
        """The row showing ``school_id`` among the pages read, or -1."""
        for number, page in self._pages.items():
            for offset, s in enumerate(page):
                if s.id == school_id:
                    return number * self._page_size + offset
        return -1

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A header click: the list is read again in that order (see sortRequested)."""
        if not 0 <= column < len(self.SORT_KEYS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        key = self.SORT_KEYS[column]
        if (key, descending) == (self.query.sort, self.query.descending):
            return
        self.query = replace(self.query, sort=key, descending=descending)
        self.sortRequested.emit()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self._count

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        s = self.row_at(index.row())
        if s is None:
            return None
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


class SchoolsView(LoadsWhenShown, QWidget):
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
        self.model = SchoolsModel(self, ctx=ctx)
        self.model.sortRequested.connect(self._reload)
        self.model.pageFailed.connect(self._page_failed)
        self.dialog: SchoolDialog | None = None  # the open add/edit form, if any
        self._load_error = ""
        self._loaded = False  # read once shown, not before (LoadsWhenShown)
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
        # Columns fit the first page's text: fitting them reads no other page.
        header.setResizeContentsPrecision(self.model.page_size)
        header.setSortIndicator(SchoolsModel.NAME, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorShown(True)
        self.table.setSortingEnabled(True)  # the model sorts in SQL (see SchoolsModel.sort)
        for col in range(self.model.columnCount()):  # headings whole before the rows arrive
            if col != SchoolsModel.NAME:
                header.resizeSection(col, header.sectionSizeHint(col))
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

    # ------------------------------------------------------------ public

    @Slot()
    def refresh(self) -> None:
        """Reload the list for the current search, keeping the selection."""
        self._reload()

    def selected_school(self) -> SchoolView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    @property
    def loaded(self) -> bool:
        """True once the list has been asked for (the page was shown or refreshed)."""
        return self._loaded

    @property
    def reading(self) -> bool:
        """True while a read of the list is under way."""
        return self._reader.pending

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
        """Read the count and first page for the current search and sort on a worker; then show it."""
        self._search_timer.stop()
        self._loaded = True
        if select_id is not None:  # else what is selected when the rows arrive
            self._wanted = select_id
        self._focus_list = focus_list
        ctx = self._ctx
        query = replace(self.model.query, search=self.search_edit.text())
        current = self.selected_school()
        wanted = self._wanted if self._wanted is not None else (current.id if current else None)

        def failed(error: CrmError) -> bool:  # e.g. the database file went away
            self._show_window(SchoolsWindow(query, 0, []), str(error))
            return True

        self._reader.read(lambda: read_window(ctx, query, wanted), self._show_window, failed=failed)

    def _show_window(self, window: SchoolsWindow, error: str = "") -> None:
        self._wanted = None
        focus_list, self._focus_list = self._focus_list, False
        self._load_error = error
        self.model.show_window(window)
        row = window.position if window.position is not None else -1
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(self.model.index(row, 0))
        else:
            give_current_row(self.table)
        self.count_label.setText(_plural(window.count, "school"))
        self._update_empty_state()
        self._update_buttons()
        if window.count:
            self._fit_columns()
        if focus_list and window.count:
            self.table.setFocus()
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)

    @Slot(str)
    def _page_failed(self, error: str) -> None:
        """A later page could not be read (the database went away): said in place of the list."""
        query = replace(self.model.query, search=self.search_edit.text())
        QTimer.singleShot(0, lambda: self._show_window(SchoolsWindow(query, 0, []), error))

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
        search = self.search_edit.text()
        if search and schools.school_position(self._ctx, dialog.saved.id, search) is None:
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
        """Columns fit their text (the rows in view), the long ones capped so the name,
        which takes the rest, keeps room; cut text is whole in the tooltip."""
        header = self.table.horizontalHeader()
        chars = {SchoolsModel.REGION: 20, SchoolsModel.WEBSITE: 18}
        for col in range(self.model.columnCount()):
            if col == SchoolsModel.NAME:
                continue
            limit = max(100, self.fontMetrics().horizontalAdvance("x" * chars.get(col, 28)))
            limit = max(limit, header.sectionSizeHint(col))  # the heading stays whole
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
