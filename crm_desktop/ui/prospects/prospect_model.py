"""The prospect table's Qt model: a window onto SQL, never the whole table.

``rowCount`` comes from :func:`services.prospects.count_prospects`; rows are
fetched a page at a time, when the view first asks for them, with
``list_prospects(offset, limit)`` (the rows of ``list_prospects``, read
with a deferred join so deep pages stay fast), and kept in a small
least-recently-used page cache. So
the table scrolls through a million prospects while holding a few thousand
rows in memory. Search, filters and sort are a :class:`ProspectQuery` run in
SQL (``sort()`` re-queries instead of sorting in Python).

Also home to the small formatting helpers the prospect screens share, so a
date reads the same in the table and the detail pane.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import date

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
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.context import Context
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.services.results import ProspectRow
from crm_desktop.ui.common.appearance import overdue_color

ProspectIdRole = Qt.ItemDataRole.UserRole + 1
"""The prospect's id (int) for any cell of its row."""
ProspectRowRole = Qt.ItemDataRole.UserRole + 2
"""The whole :class:`ProspectRow` for any cell of its row."""

PAGE_SIZE = 200
MAX_PAGES = 20

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
            new query or a refresh); the status bar shows it.
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
        self._query = ProspectQuery()
        self._page_size = page_size
        self._max_pages = max_pages
        self._pages: OrderedDict[int, list[ProspectRow]] = OrderedDict()
        self._count = prospect_service.count_prospects(ctx, self._query)
        self._today = date.today()

    # ------------------------------------------------------------ querying

    @property
    def query(self) -> ProspectQuery:
        return self._query

    def set_query(self, query: ProspectQuery) -> None:
        """Show the prospects matching ``query`` (a model reset)."""
        if query.sort not in prospect_service.SORT_KEYS:
            raise ValueError(f"unknown sort key {query.sort!r}")
        self.beginResetModel()
        self._query = query
        self._pages.clear()
        self._today = date.today()
        self._count = prospect_service.count_prospects(self._ctx, query)
        self.endResetModel()
        self.countChanged.emit(self._count)

    def reload(self) -> None:
        """Re-read everything after rows were added, deleted or the database changed."""
        self.set_query(self._query)

    def refresh_rows(self) -> None:
        """Re-read the rows in view after edits that keep the row count.

        Unlike :meth:`reload` this keeps the view's selection and scroll
        position; if the count did change, it falls back to a reset.
        """
        count = prospect_service.count_prospects(self._ctx, self._query)
        if count != self._count:
            self.reload()
            return
        self._pages.clear()
        self._today = date.today()
        if count:
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, len(COLUMNS) - 1))

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
        return prospect_service.prospect_position(self._ctx, prospect_id, self._query)

    def row(self, row: int) -> ProspectRow | None:
        """The row at ``row``, fetching its page if needed (None past the end)."""
        if row < 0 or row >= self._count:
            return None
        page_no, offset = divmod(row, self._page_size)
        page = self._pages.get(page_no)
        if page is None:
            page = prospect_service.list_prospects(
                self._ctx, self._query, offset=page_no * self._page_size, limit=self._page_size
            )
            self._pages[page_no] = page
            while len(self._pages) > self._max_pages:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        # A page can come back short if someone deleted rows since the count.
        return page[offset] if offset < len(page) else None

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
        row = self.row(index.row())
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
        if key == self._query.sort and descending == self._query.descending:
            return
        self.set_query(replace(self._query, sort=key, descending=descending))

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
