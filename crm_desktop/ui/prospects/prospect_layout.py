"""How the Prospects tab shares its width: columns fit the table, the detail pane gives way.

Fixed column widths wider than the table put "Next follow-up" behind a
horizontal scrollbar even on an empty table, and a proportional splitter
squeezed the table as much as the detail pane. Here the columns are sized to
their content (the header and the rows in view) and then fitted to the
table's width: short columns (stage, owner, dates) keep their content width,
and the text columns (name, school, role) share what is left, eliding
("Newark Riverside Prim…") before anything goes off screen. The splitter
gives the table the width its columns want, and when the window shrinks the
detail pane gives up width first, down to its minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QSplitter, QStyle, QStyleOptionHeader, QTableView

# Rows looked at for content widths: the ones a first screen shows.
SAMPLE_ROWS = 60
# Room a cell needs around its text (margins and the focus frame).
CELL_PADDING = 14


def content_widths(
    table: QTableView, *, samples: Mapping[int, str] = {}, bold: frozenset[int] = frozenset()
) -> list[int]:
    """Each column's width for its header and the first rows' text.

    ``samples`` gives a column a text it must fit even when no row has one
    yet (a date column on an empty table); ``bold`` columns may be drawn in
    bold (overdue dates) and are measured so.
    """
    model = table.model()
    header = table.horizontalHeader()
    plain = table.fontMetrics()
    heavy_font = QFont(table.font())
    heavy_font.setBold(True)
    heavy = QFontMetrics(heavy_font)
    rows = min(model.rowCount(), SAMPLE_ROWS)
    widths = []
    for column in range(model.columnCount()):
        metrics = heavy if column in bold else plain
        texts = [samples.get(column, "")]
        texts.extend(str(model.index(row, column).data() or "") for row in range(rows))
        widest = max(metrics.horizontalAdvance(text) for text in texts)
        widths.append(max(header_width(header, column), widest + CELL_PADDING))
    return widths


def header_width(header: QHeaderView, column: int) -> int:
    """The width ``column``'s header text needs, with room for the sort arrow
    only on the sorted column (Qt's own size hint makes room on every one)."""
    if column == header.sortIndicatorSection():
        return header.sectionSizeHint(column)
    option = QStyleOptionHeader()
    option.initFrom(header)
    option.section = column
    option.orientation = Qt.Orientation.Horizontal
    option.text = str(header.model().headerData(column, Qt.Orientation.Horizontal) or "")
    size = header.style().sizeFromContents(
        QStyle.ContentsType.CT_HeaderSection, option, QSize(), header
    )
    return min(size.width(), header.sectionSizeHint(column))


def fit_widths(
    wanted: list[int],
    available: int,
    elastic: Mapping[int, tuple[int, int]],
    fixed: Mapping[int, int] = {},
    hidden: frozenset[int] = frozenset(),
) -> list[int]:
    """Column widths that fill ``available`` pixels where they can.

    ``elastic`` maps the columns that may grow or shrink to their (minimum,
    maximum) content width; other columns keep their ``wanted`` width, or
    the width in ``fixed`` (set by hand). Spare width goes to the elastic
    columns; a shortfall is taken from them in proportion to what each has
    above its minimum. Only when every elastic column is at its minimum do
    the widths add up to more than ``available``.
    """
    widths = list(wanted)
    for column, width in fixed.items():
        widths[column] = width
    flexible = [c for c in elastic if c not in fixed and c not in hidden]
    for c in flexible:
        low, high = elastic[c]
        widths[c] = min(max(widths[c], low), high)
    shown = [c for c in range(len(widths)) if c not in hidden]
    spare = available - sum(widths[c] for c in shown)
    if not flexible:
        return widths
    if spare > 0:
        share, rest = divmod(spare, len(flexible))
        for i, c in enumerate(flexible):
            widths[c] += share + (1 if i < rest else 0)
    elif spare < 0:
        room = {c: widths[c] - elastic[c][0] for c in flexible}
        total_room = sum(room.values())
        cut = min(-spare, total_room)
        if total_room:
            taken = 0
            for c in flexible:
                part = cut * room[c] // total_room
                widths[c] -= part
                taken += part
            for c in flexible:  # rounding leftovers, one pixel at a time
                if taken >= cut:
                    break
                if widths[c] > elastic[c][0]:
                    widths[c] -= 1
                    taken += 1
    return widths


def _minimum_width(widget) -> int:
    """The width a splitter may not squeeze ``widget`` below (as QSplitter decides it)."""
    return widget.minimumWidth() or widget.minimumSizeHint().width()


class TableFirstSplitter(QSplitter):
    """A horizontal splitter whose second pane (the detail) yields width first.

    ``table_width`` is called on every resize with the splitter's width and
    returns the width the first pane should have; the second pane gets the
    rest, but never less than its minimum width unless the first would go
    below its own.
    """

    def __init__(self, table_width: Callable[[int], int], parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._table_width = table_width

    def split_for(self, total: int) -> tuple[int, int]:
        """The (table, detail) widths for ``total`` pixels."""
        first_min, second_min = (_minimum_width(self.widget(i)) for i in (0, 1))
        high = max(total - second_min, first_min)
        table = min(max(self._table_width(total), first_min), high, total)
        return table, total - table

    def share(self) -> None:
        """Apply the split for the current width."""
        if self.count() != 2:
            return
        total = sum(self.sizes())
        if total <= 0:
            return
        split = list(self.split_for(total))
        if self.sizes() != split:
            self.setSizes(split)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.share()
