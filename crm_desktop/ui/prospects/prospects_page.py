"""The Prospects tab: search box, filters, the SQL-backed table and the detail pane.

Each keystroke in the search box re-queries as soon as the event loop is
free (letters typed or pasted in one go make one query); filters apply at
once. Both become a :class:`ProspectQuery` that the model reads on a worker
thread, dropping the results of any older query, so typing never waits for
the database and the table never shows an older query's rows after a
newer one's. Nothing here filters or sorts rows in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from crm_desktop.domain.enums import JOB_ROLES, Stage
from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.services import import_batches
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import schools as school_service
from crm_desktop.services.bulk import Selection
from crm_desktop.services.context import Context
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.services.results import ProspectView
from crm_desktop.ui.common.changes import Change, ChangeBus, Kind, bus_for
from crm_desktop.ui.common.reads import Reader
from crm_desktop.ui.common.registry import PaneSpec
from crm_desktop.ui.prospects.bulk_bar import BulkBar, MultiPane
from crm_desktop.ui.prospects.import_chip import ImportChip
from crm_desktop.ui.prospects.prospect_detail import ProspectDetail
from crm_desktop.ui.prospects.prospect_layout import TableFirstSplitter, content_widths, fit_widths
from crm_desktop.ui.prospects.prospect_model import (
    COLUMNS,
    LAST_CONTACT,
    NAME,
    NEXT_FOLLOW_UP,
    ROLE,
    SCHOOL,
    ProspectIdRole,
    ProspectTableModel,
    format_date,
)

PAGE = "prospects"  # the page's name in the window
# No pause after a keystroke: the query runs on a worker and a newer one drops it.
SEARCH_DELAY_MS = 0
# The import feature's action, if the window has it: the empty list offers it,
# and a file dropped on the list opens it (the window connects fileDropped).
IMPORT_ACTION = "import_contacts"
# After a new search or sort, the prospect on show stays selected if it is
# still listed. Finding its row is one SQL query over the matches; above this
# many it is only looked for on the first page, so a re-sort stays instant.
RESELECT_LIMIT = 10_000
# Text columns that share the table's spare width and elide when it is short:
# (minimum, maximum) content width. The other columns keep their content width.
ELASTIC_COLUMNS = {NAME: (80, 240), SCHOOL: (70, 300), ROLE: (56, 200)}
# A date column must fit a long date even before any row has one.
_LONG_DATE = format_date(date(2026, 9, 30))
DATE_SAMPLES = {LAST_CONTACT: _LONG_DATE, NEXT_FOLLOW_UP: _LONG_DATE}
# Table : detail when the window is wide enough; the table takes more if its
# columns need it (the detail pane yields first), until the user drags the split.
SPLIT = (64, 36)
FILTERS = ("school", "role", "interest", "stage", "owner")
_ANY = {
    "school": "Any school",
    "role": "Any role",
    "interest": "Any interest",
    "stage": "Any stage",
    "owner": "Any owner",
}


class ProspectsPage(QWidget):
    """Find and browse prospects.

    Signals:
        selectionChanged(): the selected prospect changed, or none is selected.
        activated(): Enter or double-click on a row (the window opens the editor).
        countChanged(int): the number of prospects matching search and filters.
        fileDropped(str): a file was dropped on the list, to import it (the path).
        bulkRequested(): the selection bar's or pane's "Change…" button was clicked.
        deleteManyRequested(): Del was pressed with several prospects selected.
    """

    selectionChanged = Signal()
    activated = Signal()
    countChanged = Signal(int)
    fileDropped = Signal(str)
    bulkRequested = Signal()
    deleteManyRequested = Signal()

    def __init__(
        self,
        ctx: Context,
        action: Callable[[str], QAction],
        parent=None,
        *,
        marketing: PaneSpec,
        bus: ChangeBus | None = None,
    ):
        """``action(name)``: the window's action of that name (New, Log contact, Edit, Delete).

        ``marketing``: the detail pane's Marketing tab (lent by the marketing feature).
        ``bus``: the window's; the detail pane says its changes on it ``by=PAGE``.
        """
        super().__init__(parent)
        self._ctx = ctx
        self.bus = bus_for(self, bus)
        self._select_after_reset: int | None = None
        self._fitting = False
        self._hand_sized: dict[int, int] = {}  # columns resized by hand this session
        self._user_table_width: int | None = None  # the split, once dragged
        # The import the table is limited to (see show_import), and the database it is in.
        self._import_id: int | None = None
        self._import_db: object | None = None

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search name, email or school  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.installEventFilter(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_query)
        self.search.textChanged.connect(self._search_timer.start)
        self.search.returnPressed.connect(self._search_entered)

        new_button = QToolButton(self)
        new_button.setDefaultAction(action("new_prospect"))
        new_button.setObjectName("newProspectButton")
        try:
            self._import_action: QAction | None = action(IMPORT_ACTION)
        except KeyError:
            self._import_action = None

        self.filters: dict[str, QComboBox] = {}
        filter_row = QHBoxLayout()
        filter_row.setSpacing(6)
        for name in FILTERS:
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{name}")
            combo.setToolTip(f"Show only prospects with this {name}")
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
            combo.setMaxVisibleItems(20)
            combo.currentIndexChanged.connect(self.apply_query)
            self.filters[name] = combo
            filter_row.addWidget(combo, 2 if name == "school" else 1)
        self.clear_button = QToolButton(self)
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Clear the search and all filters")
        self.clear_button.clicked.connect(self.clear_filters)
        filter_row.addWidget(self.clear_button)

        self.model = ProspectTableModel(ctx, self)
        self.table = QTableView(self)
        self.table.setObjectName("prospectTable")
        self._setup_table()
        self.model.modelReset.connect(self._after_reset)
        self.model.countChanged.connect(self._count_changed)
        self.model.dataChanged.connect(self._rows_arrived)
        self.model.on_error = self._rows_unreadable

        self.detail = ProspectDetail(
            ctx,
            [action(name) for name in ("log_contact", "edit_prospect", "delete_prospect")],
            self,
            marketing=marketing,
            bus=self.bus,
            by=PAGE,
        )
        self.detail.setObjectName("prospectDetail")
        self.bus.changed.connect(self._bus_changed)

        self.splitter = TableFirstSplitter(self._table_width_for, self)
        self.splitter.setObjectName("prospectSplitter")
        self.splitter.addWidget(self.table)
        # With several prospects selected, the pane says how many instead.
        self.multi_pane = MultiPane(self)
        self.multi_pane.changeRequested.connect(self.bulkRequested)
        self.detail_stack = QStackedWidget(self)
        self.detail_stack.addWidget(self.detail)
        self.detail_stack.addWidget(self.multi_pane)
        self.splitter.addWidget(self.detail_stack)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(self._split_dragged)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addLayout(filter_row)
        self.bulk_bar = BulkBar(self)
        self.bulk_bar.selectAllRequested.connect(self.select_all_matching)
        self.bulk_bar.clearRequested.connect(self.clear_selection)
        self.bulk_bar.changeRequested.connect(self.bulkRequested)
        self.import_chip = ImportChip(self)
        self.import_chip.cleared.connect(self.clear_import_filter)
        self._import_reader = Reader(
            self.import_chip, cover=None, error_title="Could not read the import"
        )
        layout.addWidget(self.import_chip)
        layout.addWidget(self.bulk_bar)
        layout.addWidget(self.splitter, 1)

        QWidget.setTabOrder(self.search, new_button)
        QWidget.setTabOrder(new_button, self.filters["school"])
        for first, second in zip(FILTERS, FILTERS[1:], strict=False):
            QWidget.setTabOrder(self.filters[first], self.filters[second])
        QWidget.setTabOrder(self.filters["owner"], self.clear_button)
        QWidget.setTabOrder(self.clear_button, self.import_chip.close_button)
        QWidget.setTabOrder(self.import_chip.close_button, self.table)

        # The filter lists are read on a worker; meanwhile they offer "Any" and
        # what needs no database (stages, the usual job roles).
        self._filter_reader = Reader(self, cover=None)
        self._fill_filters(filter_choices(None))
        self.reload_filters()
        self._update_empty_state()

    def _setup_table(self) -> None:
        t = self.table
        t.setModel(self.model)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Shift/Ctrl-click and Ctrl+A select many (for the bulk actions).
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideRight)
        t.setTabKeyNavigation(False)
        t.setCornerButtonEnabled(False)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 10)
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = t.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)  # fit_columns fills the width itself
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header.sectionResized.connect(self._section_resized)
        t.viewport().installEventFilter(self)
        t.installEventFilter(self)  # Del with several rows selected
        t.setSortingEnabled(True)
        # A mouse click makes a row current *before* it selects it; keys and
        # setCurrentIndex select first. Following both signals means the
        # actions see the finished selection whichever way it was made.
        t.selectionModel().currentRowChanged.connect(self._current_changed)
        t.selectionModel().selectionChanged.connect(self._selection_changed)
        t.activated.connect(lambda _index: self.activated.emit())

        self._empty = QLabel(t.viewport())
        self._empty.setObjectName("tableEmpty")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setMargin(24)
        self.import_button = QPushButton("&Import contacts…", t.viewport())
        self.import_button.setObjectName("emptyImportButton")
        self.import_button.setToolTip("Add prospects from a spreadsheet, an export or vCards")
        self.import_button.hide()
        empty_layout = QVBoxLayout(t.viewport())
        empty_layout.addStretch(1)
        empty_layout.addWidget(self._empty)
        empty_layout.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(1)
        if self._import_action is not None:
            self.import_button.clicked.connect(self._import_action.trigger)
            self._import_action.changed.connect(self._update_empty_state)
            t.viewport().setAcceptDrops(True)

    # --------------------------------------------------------------- query

    def query(self) -> ProspectQuery:
        """The search and filters on show, with the table's current sort."""
        data = {name: combo.currentData() for name, combo in self.filters.items()}
        return replace(
            self.model.query,
            search=self.search.text(),
            school_id=data["school"],
            role=data["role"],
            interest_id=data["interest"],
            stage=data["stage"],
            owner=data["owner"],
            import_id=self._import_id,
        )

    def is_filtered(self) -> bool:
        q = self.query()
        return (
            bool(q.search.strip())
            or q.import_id is not None
            or any(combo.currentData() is not None for combo in self.filters.values())
        )

    def apply_query(self) -> None:
        """Run the search and filters now (the timer calls this after typing stops)."""
        self._search_timer.stop()
        query = self.query()
        if query != self.model.query:
            self.model.set_query(query)
        self.clear_button.setEnabled(self.is_filtered())

    def clear_filters(self) -> None:
        """Clear the search and every filter, the import's too."""
        self._forget_import()
        for combo in self.filters.values():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.apply_query()

    # --------------------------------------------------------- by import

    @property
    def import_id(self) -> int | None:
        """The import the table is limited to, or None."""
        return self._import_id

    def show_import(self, import_id: int, *, select_id: int | None = None) -> None:
        """Show only the people import ``import_id`` brought in (created, updated or
        opted out), with the banner saying which import; ``select_id`` is selected.

        The search and the other filters are cleared first, so every one of them
        shows; they can then narrow it again.
        """
        for combo in self.filters.values():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._import_id, self._import_db = import_id, self._ctx.db
        self.import_chip.show_waiting(import_id)
        self._read_import()
        self._select_after_reset = select_id
        self.apply_query()
        if self._select_after_reset is not None:  # the query was already this one
            self.reload(select_id=select_id)

    def clear_import_filter(self) -> None:
        """Show everyone again (the banner's ×); the search and other filters stay."""
        if self._import_id is None:
            return
        self._forget_import()
        self.apply_query()

    def _forget_import(self) -> None:
        self._import_reader.cancel()
        self._import_id = self._import_db = None
        self.import_chip.clear()

    def _read_import(self) -> None:
        """Read what the import was, and how many people it has now, on a worker."""
        ctx, import_id = self._ctx, self._import_id
        if import_id is None:
            return
        self._import_reader.read(
            lambda: import_batches.get_batch(ctx, import_id),
            self._show_import_batch,
            failed=self._import_unreadable,
        )

    def _show_import_batch(self, batch: import_batches.ImportBatchView) -> None:
        if batch.id == self._import_id:
            self.import_chip.show_batch(batch)

    def _import_unreadable(self, error: CrmError) -> bool:
        if isinstance(error, NotFoundError):
            # Not in this database (any more): the filter would show nobody.
            self.clear_import_filter()
            return False  # said as a message
        return False

    def reload(self, select_id: int | None = None) -> None:
        """Re-run the query (rows added or deleted); select ``select_id`` if given."""
        self._select_after_reset = select_id
        if self._import_id is not None and self._import_db is not self._ctx.db:
            self._forget_import()  # another database: its imports are others
            self.model.set_query(self.query())
            self.clear_button.setEnabled(self.is_filtered())
        else:
            self._read_import()  # its people may have changed
            self.model.reload()
        self.detail.reload()

    def refresh_rows(self) -> None:
        """Re-read rows and the detail pane after edits elsewhere, keeping the selection."""
        self.model.refresh_rows()
        self.detail.reload()

    def _bus_changed(self, change: Change) -> None:
        # Changes made in the detail pane (by=PAGE) are not sent back here by the
        # window; a follow-up marked done there moves the row's next follow-up.
        if change.by == PAGE and Kind.CONTACTS in change.kinds:
            self.model.refresh_rows()

    def reload_filters(self) -> None:
        """Refill the filter lists (new schools, owners, roles or interests), read on a worker.

        If they cannot be read, the lists stay as they are: the table says why.
        """
        ctx = self._ctx
        self._filter_reader.read(
            lambda: filter_choices(ctx), self._fill_filters, failed=lambda _error: True
        )

    def _fill_filters(self, choices: dict[str, list[tuple[object, str]]]) -> None:
        """Put ``choices`` in the filter lists, keeping what each has chosen."""
        changed = False
        for name, combo in self.filters.items():
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(_ANY[name], None)
            for value, label in choices[name]:
                combo.addItem(label, value)
            index = combo.findData(current) if current is not None else 0
            changed |= index < 0
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        if changed:
            self.apply_query()
        self.clear_button.setEnabled(self.is_filtered())

    def filters_lack(self, prospect: ProspectView) -> bool:
        """True if ``prospect``'s school, role or owner is missing from the filter lists."""
        values = (
            ("school", prospect.school_id),
            ("role", prospect.role),
            ("owner", prospect.owner),
        )
        return any(v is not None and self.filters[n].findData(v) < 0 for n, v in values)

    # ----------------------------------------------------------- selection

    def selected_id(self) -> int | None:
        """The one prospect selected; None when none is, or several are."""
        if self.selected_count() > 1:
            return None
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return index.data(ProspectIdRole)

    def selected_prospect(self) -> ProspectView | None:
        """The selected prospect, read fresh (so an edit starts from the latest version)."""
        prospect_id = self.selected_id()
        if prospect_id is None:
            return None
        try:
            return prospect_service.get_prospect(self._ctx, prospect_id)
        except NotFoundError:
            self.reload()
            return None

    def select_prospect(self, prospect_id: int, *, clear_filters: bool = False) -> bool:
        """Select ``prospect_id`` in the table; with ``clear_filters``, even if hidden.

        While the rows of a new search are still being read, the prospect is
        selected when they arrive (if they list it).
        """
        if self.model.pending:
            if clear_filters and self.is_filtered():
                self.clear_filters()
            self._select_after_reset = prospect_id
            return True
        row = self.model.position_of(prospect_id)
        if row is None and clear_filters and self.is_filtered():
            self.clear_filters()
            self._select_after_reset = prospect_id
            return True
        if row is None:
            return False
        self._select_row(row)
        return True

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        prospect_id = current.data(ProspectIdRole) if current.isValid() else None
        if prospect_id != self.detail.prospect_id:
            self.detail.show_prospect(prospect_id)
        self.selectionChanged.emit()

    def _rows_arrived(self, top: QModelIndex, bottom: QModelIndex) -> None:
        """A page read on a worker arrived: if it holds the current row (Ctrl+End
        went there before its page was read), the detail pane shows its prospect."""
        current = self.table.selectionModel().currentIndex()
        if current.isValid() and top.row() <= current.row() <= bottom.row():
            self._current_changed(current, current)

    def _selection_changed(self, _selected, _deselected) -> None:
        self._show_selection()
        self.selectionChanged.emit()

    def selected_count(self) -> int:
        """How many rows are selected, counted from the selection's ranges (no row is read)."""
        rows = 0
        for part in self.table.selectionModel().selection():
            rows += part.bottom() - part.top() + 1
        return rows

    def all_matching_selected(self) -> bool:
        count = self.model.rowCount()
        return count > 0 and self.selected_count() == count

    def bulk_selection(self) -> tuple[Selection, int] | None:
        """What the bulk actions act on, and how many that is (None: nothing selected).

        Every row selected (Ctrl+A, "Select all N matching") is the filter
        itself, not a list of row numbers: the action runs on whoever matches
        it when it runs. Otherwise the ids of the rows selected.
        """
        count = self.selected_count()
        if not count:
            return None
        if count == self.model.rowCount():
            return Selection.matching(self.model.query), count
        ids: list[int] = []
        for part in self.table.selectionModel().selection():
            for row in range(part.top(), part.bottom() + 1):
                found = self.model.row(row)
                if found is not None:
                    ids.append(found.id)
        return Selection.of(ids), len(ids)

    def select_all_matching(self) -> None:
        self.table.selectAll()

    def clear_selection(self) -> None:
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            self._select_row(current.row())
        else:
            self.table.clearSelection()

    def _show_selection(self) -> None:
        count = self.selected_count()
        matching = self.model.rowCount()
        self.bulk_bar.show_selection(count, matching, everyone=count == matching)
        if count > 1:
            self.multi_pane.show_count(count)
            self.detail_stack.setCurrentWidget(self.multi_pane)
        else:
            self.detail_stack.setCurrentWidget(self.detail)

    # -------------------------------------------------------------- layout

    def fit_columns(self) -> None:
        """Size the columns to their content, fitted to the table's width."""
        header = self.table.horizontalHeader()
        hidden = frozenset(c for c in range(len(COLUMNS)) if header.isSectionHidden(c))
        widths = fit_widths(
            self._wanted_widths(),
            self.table.viewport().width(),
            ELASTIC_COLUMNS,
            self._hand_sized,
            hidden,
        )
        self._fitting = True
        try:
            for column, width in enumerate(widths):
                if column not in hidden and header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def _wanted_widths(self) -> list[int]:
        return content_widths(self.table, samples=DATE_SAMPLES, bold=frozenset({NEXT_FOLLOW_UP}))

    def _table_width_for(self, total: int) -> int:
        """The table's share of ``total`` splitter pixels (the splitter caps it).

        The table gets :data:`SPLIT` of the width, or more if its columns
        want more: the detail pane yields first, down to its minimum width,
        and only then do the text columns elide.
        """
        if self._user_table_width is not None:
            return self._user_table_width
        header = self.table.horizontalHeader()
        wanted = self._wanted_widths()
        for column, (low, high) in ELASTIC_COLUMNS.items():
            wanted[column] = min(max(wanted[column], low), high)
        for column, width in self._hand_sized.items():
            wanted[column] = width
        scrollbar = self.table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        needed = sum(w for c, w in enumerate(wanted) if not header.isSectionHidden(c))
        needed += scrollbar + 2 * self.table.frameWidth()
        return max(total * SPLIT[0] // 100, needed)

    def _split_dragged(self, _pos: int, _index: int) -> None:
        self._user_table_width = self.splitter.sizes()[0]

    def _section_resized(self, column: int, _old: int, new: int) -> None:
        if not self._fitting:
            self._hand_sized[column] = new

    def _relayout(self) -> None:
        self.splitter.share()
        self.fit_columns()

    def _after_reset(self) -> None:
        self._relayout()
        explicit, self._select_after_reset = self._select_after_reset, None
        wanted = explicit or self.detail.prospect_id
        row = None
        if wanted is not None:
            search_sql = explicit is not None or (
                self.model.count_is_exact and self.model.rowCount() <= RESELECT_LIMIT
            )
            row = self.model.position_of(wanted, search_sql=search_sql)
        if row is not None:
            self._select_row(row)
            if self.detail.prospect_id != wanted:
                self.detail.show_prospect(wanted)
        else:
            self.detail.show_prospect(None)
        self._show_selection()
        self.selectionChanged.emit()

    def _rows_unreadable(self, message: str) -> None:
        self._empty.setText(f"The prospects could not be read.\n\n{message}")
        self._empty.show()
        self.import_button.hide()

    def _count_changed(self, count: int) -> None:
        self._update_empty_state()
        self.countChanged.emit(count)

    def _update_empty_state(self) -> None:
        if self.model.rowCount() or not self.model.loaded:
            self._empty.hide()  # rows, or none read yet: nothing to say
            self.import_button.hide()
            return
        offer_import = not self.is_filtered() and self._may_import()
        if self.is_filtered():
            text = "No prospects match the search and filters."
        elif offer_import:
            text = (
                "No prospects yet.\n\nAdd one with Prospect > New prospect (Ctrl+N), "
                "import a file (drop it here), or try the app with File > Load demo data."
            )
        else:
            text = (
                "No prospects yet.\n\nAdd one with Prospect > New prospect (Ctrl+N), "
                "or try the app with File > Load demo data."
            )
        self._empty.setText(text)
        self._empty.show()
        self.import_button.setVisible(offer_import)
        self.import_button.setEnabled(offer_import and self._import_action.isEnabled())

    def _may_import(self) -> bool:
        """The window offers importing and this user may (enabled: not read-only)."""
        return self._import_action is not None and self._import_action.isVisible()

    def _dropped_file(self, event: QDropEvent) -> str | None:
        """The one local file ``event`` carries, if it may be imported now."""
        if not (self._may_import() and self._import_action.isEnabled()):
            return None
        data = event.mimeData()
        files = [u.toLocalFile() for u in data.urls() if u.isLocalFile()] if data.hasUrls() else []
        return files[0] if len(files) == 1 else None

    # ------------------------------------------------------------ keyboard

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _search_entered(self) -> None:
        self.apply_query()
        self._focus_table()

    def _focus_table(self) -> None:
        if self.model.rowCount() and self.selected_id() is None:
            self._select_row(0)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
            return False
        if watched is self.table.viewport() and event.type() in _DROP_EVENTS:
            path = self._dropped_file(event)
            if path is None:
                event.ignore()
                return True
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.fileDropped.emit(path)
            return True
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Delete
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
            and self.selected_count() > 1
        ):
            # Delete prospect acts on one; several go to the bulk dialog's Delete.
            self.deleteManyRequested.emit()
            return True
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self.apply_query()
                self._focus_table()
                return True
            if event.key() == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ settings

    def save_state(self) -> tuple[QByteArray, QByteArray]:
        """The split (if not the one it would get anyway), and the header
        (order, sort) with the widths set by hand."""
        table, detail = self.splitter.sizes()
        chosen = self._user_table_width
        if chosen is None and table > 0 and table != self.splitter.split_for(table + detail)[0]:
            chosen = table
        columns = {
            "header": bytes(self.table.horizontalHeader().saveState().toBase64()).decode("ascii"),
            "hand_sized": {str(c): w for c, w in self._hand_sized.items()},
        }
        return (
            QByteArray(json.dumps({"table_width": chosen}).encode("utf-8")),
            QByteArray(json.dumps(columns).encode("utf-8")),
        )

    def restore_state(self, splitter: object, header: object, width: int) -> None:
        """Restore the split, the column order and sort, and widths set by hand.

        Without a chosen split the table gets what its columns need of
        ``width`` (see :meth:`_table_width_for`). Other columns are fitted to
        the content again: widths saved from a wider window (or the fixed
        widths of older versions, whose state is read for order and sort
        only) would push columns off screen.
        """
        chosen = _saved_json(splitter).get("table_width")
        if isinstance(chosen, int) and chosen > 0:
            self._user_table_width = chosen
        self.splitter.setSizes(list(self.splitter.split_for(width)))
        state, hand_sized = _column_state(header)
        h = self.table.horizontalHeader()
        if state is not None:
            self._fitting = True
            try:
                restored = h.restoreState(state)
            finally:
                self._fitting = False
            h.setStretchLastSection(False)
            if restored:
                self._hand_sized = {c: w for c, w in hand_sized.items() if 0 <= c < len(COLUMNS)}
                section = h.sortIndicatorSection()
                if 0 <= section < len(COLUMNS):
                    self.model.sort(section, h.sortIndicatorOrder())
        self._relayout()


_DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def filter_choices(ctx: Context | None) -> dict[str, list[tuple[object, str]]]:
    """Each filter's (value, label) choices; with no ``ctx``, only those needing no database."""
    roles = sorted(
        {*JOB_ROLES, *(prospect_service.list_roles(ctx) if ctx else ())}, key=lambda r: r.lower()
    )
    return {
        "school": school_service.school_names(ctx) if ctx else [],
        "role": [(role, role) for role in roles],
        "interest": (
            [(i, name) for i, name, _n in interest_service.list_interests(ctx)] if ctx else []
        ),
        "stage": [(stage.value, stage.label) for stage in Stage],
        "owner": [(o, o) for o in prospect_service.list_owners(ctx)] if ctx else [],
    }


def _saved_json(saved: object) -> dict:
    """What :meth:`ProspectsPage.save_state` wrote; {} for anything else."""
    if not isinstance(saved, QByteArray) or saved.isEmpty():
        return {}
    try:
        value = json.loads(bytes(saved).decode("utf-8"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _column_state(saved: object) -> tuple[QByteArray | None, dict[int, int]]:
    """The header state and hand-set widths in what :meth:`save_state` wrote.

    Older versions stored the bare header state; its order and sort are
    kept, its widths are not.
    """
    if not isinstance(saved, QByteArray) or saved.isEmpty():
        return None, {}
    columns = _saved_json(saved)
    try:
        state = QByteArray.fromBase64(columns["header"].encode("ascii"))
        hand_sized = {int(c): int(w) for c, w in columns["hand_sized"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return saved, {}
    return state, hand_sized
