"""The prospect table's Qt model: a window onto SQL, never the whole table.

Every read runs on a worker thread (quiet
:class:`~crm_desktop.ui.common.workers.BackgroundTask` s), never on the GUI
thread, so typing in the search box or sorting a million prospects never
freezes the window. A new query (search, filters, sort) asks for its first
page and a count that stops at :data:`FIRST_COUNT` in one read; the table
keeps showing the previous rows until they arrive, then resets to them. If
there were more than :data:`FIRST_COUNT`, the exact count follows in a
second read and the rows are added (the status line says "1,000+" in
between). Further pages are read when the view first paints them (their
cells are blank for that moment) with ``list_prospects(offset, limit,
total)``, and kept in a small least-recently-used page cache. Every result
carries the generation of the query it was read for: one arriving after a
newer query started is dropped, so the table never shows an older query's
rows after a newer one's. Search, filters and sort are a
:class:`ProspectQuery` run in SQL (``sort()`` re-queries).

Also home to the small formatting helpers the prospect screens share, so a
date reads the same in the table and the detail pane.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.enums import Stage
from crm_desktop.errors import CrmError
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.context import Context
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.services.results import ProspectRow
from crm_desktop.ui.common import workers
from crm_desktop.ui.common.appearance import overdue_color

ProspectIdRole = Qt.ItemDataRole.UserRole + 1
"""The prospect's id (int) for any cell of its row."""
ProspectRowRole = Qt.ItemDataRole.UserRole + 2
"""The whole :class:`ProspectRow` for any cell of its row."""

PAGE_SIZE = 200
MAX_PAGES = 20
# A new query's first read counts this far; more is "1,000+" until the exact count arrives.
FIRST_COUNT = 1_000

# (header, sort key in prospects.SORT_KEYS)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Name", "name"),
    ("School", "school"),
    ("Role", "role"),
    ("Stage", "stage"),
    ("Owner", "owner"),
    ("Last contact", "last_contact"),
    ("Next follow-up", "next_follow_up"),
)
NAME, SCHOOL, ROLE, STAGE, OWNER, LAST_CONTACT, NEXT_FOLLOW_UP = range(len(COLUMNS))

_BOLD = QFont()
_BOLD.setBold(True)

Index = QModelIndex | QPersistentModelIndex


def stage_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return Stage(value).label
    except ValueError:
        return value


class ProspectTableModel(QAbstractTableModel):
    """Rows of the prospect table for the current :class:`ProspectQuery`.

    Signals:
        countChanged(int): the number of matching prospects changed (after a
            new query or a refresh, and when an exact count follows "1,000+");
            the status bar shows it.

    ``on_error(message)``, if set, is told when a read fails (the database
    cannot be read); the rows shown stay as they were.
    """

    countChanged = Signal(int)

    def __init__(
        self,
        ctx: Context,
        parent=None,
        *,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ):
        super().__init__(parent)
        self._ctx = ctx
        self._query = ProspectQuery()  # the query whose rows are shown
        self._wanted = self._query  # the newest asked for
        self._page_size = page_size
        self._max_pages = max_pages
        self._pages: OrderedDict[int, list[ProspectRow]] = OrderedDict()
        self._requested: set[int] = set()  # pages being read for this generation
        self._count = 0
        self._exact = True
        self._generation = 0  # queries started; results of older ones are dropped
        self._shown_generation = -1  # the generation whose rows are shown
        self._today = date.today()
        self.on_error: Callable[[str], None] | None = None
        self.error: str | None = None
        self.set_query(self._query)

    # ------------------------------------------------------------ querying

    @property
    def query(self) -> ProspectQuery:
        """The newest query asked for (its rows may still be on their way)."""
        return self._wanted

    @property
    def shown_query(self) -> ProspectQuery:
        """The query whose rows the table shows."""
        return self._query

    @property
    def pending(self) -> bool:
        """True until the newest query's first rows have arrived."""
        return self._shown_generation != self._generation

    @property
    def loaded(self) -> bool:
        """True once any query's rows have arrived (False while the first is read)."""
        return self._shown_generation >= 0

    @property
    def count_is_exact(self) -> bool:
        """False while the count is "more than :data:`FIRST_COUNT`" (``rowCount`` is one more)."""
        return self._exact

    def count_text(self) -> str:
        """The count as the status line says it: "1,234", or "1,000+" until counted."""
        return f"{self._count:,}" if self._exact else f"{FIRST_COUNT:,}+"

    def set_query(self, query: ProspectQuery) -> None:
        """Show the prospects matching ``query``: read on a worker, then a model reset."""
        if query.sort not in prospect_service.SORT_KEYS:
            raise ValueError(f"unknown sort key {query.sort!r}")
        self._wanted = query
        self._generation += 1
        self._requested.clear()
        ctx, size = self._ctx, self._page_size

        def first():
            count = prospect_service.count_prospects(ctx, query, at_most=FIRST_COUNT)
            rows = prospect_service.list_prospects(ctx, query, offset=0, limit=size)
            return count, rows

        self._read(first, lambda result: self._show(query, *result))

    def reload(self) -> None:
        """Re-read everything after rows were added, deleted or the database changed."""
        self.set_query(self._wanted)

    def refresh_rows(self) -> None:
        """Re-read the rows in view after edits that keep the row count.

        Unlike :meth:`reload` this keeps the view's selection and scroll
        position: the count and the cached pages are read again on a worker
        and replace the old ones when they arrive. If the count did change,
        it falls back to a reset.
        """
        if self.pending:
            self.reload()
            return
        ctx, q, size, total = self._ctx, self._query, self._page_size, self._count
        pages = list(self._pages)
        self._generation += 1
        self._shown_generation = self._generation  # the same rows stay on show
        self._requested.clear()

        def again():
            count = prospect_service.count_prospects(ctx, q)
            return count, {
                n: prospect_service.list_prospects(ctx, q, offset=n * size, limit=size, total=count)
                for n in pages
            }

        self._read(again, lambda result: self._refreshed(total, *result))

    def position_of(self, prospect_id: int, *, search_sql: bool = True) -> int | None:
        """The row showing ``prospect_id`` under the current query, or None.

        Looks in the cached pages first; then, with ``search_sql``, asks the
        database (one query over every matching row).
        """
        for page, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.id == prospect_id:
                    return page * self._page_size + offset
        if not search_sql:
            return None
        found = prospect_service.prospect_position(self._ctx, prospect_id, self._query)
        return found if found is not None and found < self._count else None

    def row(self, row: int) -> ProspectRow | None:
        """The row at ``row``, read now if its page is not cached (None past the end).

        For actions that need a row at once (the rows selected for a bulk
        change); painting uses the cache and reads missing pages on a worker.
        """
        if row < 0 or row >= self._count:
            return None
        page_no, offset = divmod(row, self._page_size)
        page = self._pages.get(page_no)
        if page is None:
            page = prospect_service.list_prospects(
                self._ctx,
                self._query,
                offset=page_no * self._page_size,
                limit=self._page_size,
                total=self._count,
            )
            self._keep(page_no, page)
        else:
            self._pages.move_to_end(page_no)
        # A page can come back short if someone deleted rows since the count.
        return page[offset] if offset < len(page) else None

    def cached_row(self, row: int) -> ProspectRow | None:
        """The row at ``row`` if its page is cached; else None, and the page is read."""
        if row < 0 or row >= self._count:
            return None
        page_no, offset = divmod(row, self._page_size)
        page = self._pages.get(page_no)
        if page is None:
            self._request(page_no)
            return None
        self._pages.move_to_end(page_no)
        return page[offset] if offset < len(page) else None

    # ------------------------------------------------------------ reading

    def _read(self, func: Callable[[], object], done: Callable[[object], None]) -> None:
        """Run ``func`` on a worker; ``done(result)`` if no newer query started meanwhile."""
        generation = self._generation
        task = workers.BackgroundTask.quiet_read(func)
        task.succeeded.connect(lambda result: self._current(generation) and done(result))
        task.failed.connect(lambda _message: self._current(generation) and self._failed(task))
        task.start()

    def _current(self, generation: int) -> bool:
        """Whether a result read for ``generation`` is still wanted (and the model alive)."""
        return shiboken6.isValid(self) and generation == self._generation

    def _failed(self, task: workers.BackgroundTask) -> None:
        error = task.error
        if not isinstance(error, CrmError):
            raise error if error is not None else RuntimeError("A read stopped unexpectedly.")
        self.error = str(error)
        self._requested.clear()
        if self.on_error is not None:
            self.on_error(self.error)

    def _show(self, query: ProspectQuery, count: int, first: list[ProspectRow]) -> None:
        self.beginResetModel()
        self._query = query
        self._shown_generation = self._generation
        self.error = None
        self._pages.clear()
        self._requested.clear()
        self._today = date.today()
        self._exact = count <= FIRST_COUNT
        self._count = count if self._exact else FIRST_COUNT + 1
        if first:
            self._pages[0] = first
        self.endResetModel()
        self.countChanged.emit(self._count)
        if not self._exact:
            ctx = self._ctx
            self._read(lambda: prospect_service.count_prospects(ctx, query), self._counted)

    def _counted(self, count: int) -> None:
        """The exact count, after "1,000+": rows are added (or the query re-read)."""
        if count < self._count:
            self.reload()  # rows were deleted meanwhile
            return
        self._exact = True
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        self.countChanged.emit(self._count)

    def _refreshed(self, before: int, count: int, pages: dict[int, list[ProspectRow]]) -> None:
        if count != before:
            self.reload()
            return
        self._pages = OrderedDict(pages)
        self._today = date.today()
        if count:
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, len(COLUMNS) - 1))

    def _request(self, page_no: int) -> None:
        if page_no in self._requested:
            return
        self._requested.add(page_no)
        ctx, q, size, total = self._ctx, self._query, self._page_size, self._count
        self._read(
            lambda: prospect_service.list_prospects(
                ctx, q, offset=page_no * size, limit=size, total=total
            ),
            lambda rows: self._page_arrived(page_no, rows),
        )

    def _page_arrived(self, page_no: int, rows: list[ProspectRow]) -> None:
        self._requested.discard(page_no)
        self._keep(page_no, rows)
        first = page_no * self._page_size
        last = min(first + self._page_size, self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _keep(self, page_no: int, rows: list[ProspectRow]) -> None:
        self._pages[page_no] = rows
        self._pages.move_to_end(page_no)
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    # ---------------------------------------------------------- Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.cached_row(index.row())
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == ProspectIdRole:
            return row.id
        if role == ProspectRowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == NEXT_FOLLOW_UP:
            due = row.next_follow_up
            return QBrush(overdue_color()) if due is not None and due < self._today else None
        if role == Qt.ItemDataRole.FontRole and column == NEXT_FOLLOW_UP:
            due = row.next_follow_up
            return _BOLD if due is not None and due <= self._today else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][0]
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"Sort by {COLUMNS[section][0].lower()}"
        elif orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-query in SQL ordered by ``column`` (called when a header is clicked)."""
        if not 0 <= column < len(COLUMNS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        key = COLUMNS[column][1]
        if key == self._wanted.sort and descending == self._wanted.descending:
            return
        self.set_query(replace(self._wanted, sort=key, descending=descending))

    # ------------------------------------------------------------- helpers

    @staticmethod
    def _display(row: ProspectRow, column: int) -> str | None:
        if column == NAME:
            return row.full_name
        if column == SCHOOL:
            return row.school_name or ""
        if column == ROLE:
            return row.role or ""
        if column == STAGE:
            return stage_label(row.stage)
        if column == OWNER:
            return row.owner or ""
        if column == LAST_CONTACT:
            # The date is what a glance needs; the tooltip has the time.
            last = row.last_contact_at
            return format_date(last.astimezone().date()) if last is not None else ""
        if column == NEXT_FOLLOW_UP:
            return format_date(row.next_follow_up)
        return None

    def _tooltip(self, row: ProspectRow, column: int) -> str | None:
        if column == NAME:
            return f"{row.full_name} <{row.email}>" if row.email else row.full_name
        if column == LAST_CONTACT and row.last_contact_at is not None:
            return f"Last contact {format_datetime(row.last_contact_at)}"
        if column == NEXT_FOLLOW_UP and row.next_follow_up is not None:
            if row.next_follow_up < self._today:
                return f"Overdue since {format_date(row.next_follow_up)}"
            if row.next_follow_up == self._today:
                return "Due today"
        text = self._display(row, column)
        return text or None
