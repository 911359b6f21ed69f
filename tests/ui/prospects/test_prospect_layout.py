"""The Prospects tab shows every column at the first-run size and at 1024x640."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QTableView

from crm_desktop.domain.dates import format_date
from crm_desktop.ui.prospects.prospect_layout import CELL_PADDING, fit_widths
from crm_desktop.ui.prospects.prospect_model import COLUMNS, NAME, NEXT_FOLLOW_UP

LONG_NAME = "Montgomery-Fotheringham-Wolstenholme-Bartholomew"


def sized(qtbot, window, width: int, height: int):
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height)
    page = window.prospects
    qtbot.waitUntil(lambda: sum(page.splitter.sizes()) > 0)
    return page


def assert_every_column_on_screen(page) -> None:
    table = page.table
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0
    right = table.viewport().width()
    for column, (title, _key) in enumerate(COLUMNS):
        start = header.sectionViewportPosition(column)
        assert start >= 0 and start + header.sectionSize(column) <= right, title
        # The header's text fits, with the sort arrow on the sorted column.
        arrow = 16 if column == header.sortIndicatorSection() else 0
        text = header.fontMetrics().horizontalAdvance(title) + 12 + arrow
        assert header.sectionSize(column) >= text, title


@pytest.mark.parametrize("size", [(1280, 800), (1024, 640)])
def test_every_column_is_on_screen_with_demo_data(qtbot, make_window, demo_ctx, add_prospect, size):
    add_prospect("Zed", LONG_NAME)
    window = make_window()
    page = sized(qtbot, window, *size)
    assert_every_column_on_screen(page)
    # A long date fits the date columns, in bold as an overdue one is drawn.
    font = page.table.font()
    font.setBold(True)
    page.table.setFont(font)
    wide = page.table.fontMetrics().horizontalAdvance(format_date(date(2026, 9, 30)))
    assert page.table.columnWidth(NEXT_FOLLOW_UP) >= wide + CELL_PADDING


@pytest.mark.parametrize("size", [(1280, 800), (1024, 640)])
def test_an_empty_table_has_no_horizontal_scrollbar(qtbot, window, size):
    page = sized(qtbot, window, *size)
    assert page.model.rowCount() == 0
    assert_every_column_on_screen(page)
    header = page.table.horizontalHeader()
    total = sum(header.sectionSize(c) for c in range(len(COLUMNS)))
    assert total == page.table.viewport().width()  # filled, no gap, no overflow


def test_names_elide_and_the_detail_pane_yields_width_first(
    qtbot, make_window, demo_ctx, add_prospect
):
    pid = add_prospect("Zed", LONG_NAME)
    window = make_window()
    page = sized(qtbot, window, 1280, 800)
    assert page.select_prospect(pid)
    around = window.width() - sum(page.splitter.sizes())  # margins and the handle
    needed = page._table_width_for(0)  # what the columns want, text columns unelided
    detail_min = page.detail.minimumSizeHint().width()

    page = sized(qtbot, window, needed + detail_min + 150 + around, 800)
    table_wide, detail_wide = page.splitter.sizes()
    assert table_wide == needed
    page = sized(qtbot, window, needed + detail_min + 50 + around, 800)
    table_narrower, detail_narrower = page.splitter.sizes()
    assert table_narrower == table_wide  # the table kept its width...
    assert detail_narrower == detail_wide - 100  # ...the detail pane gave it up

    page = sized(qtbot, window, 1024, 640)
    assert page.splitter.sizes()[1] == detail_min  # it yielded all it can
    assert_every_column_on_screen(page)
    name_width = page.table.fontMetrics().horizontalAdvance(f"Zed {LONG_NAME}")
    assert page.table.columnWidth(NAME) < name_width  # elided, not pushed off screen
    assert page.selected_id() == pid


def test_a_column_sized_by_hand_keeps_its_width_across_restarts(
    qtbot, make_window, demo_ctx, tmp_path
):
    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    first = make_window(window_settings=settings)
    sized(qtbot, first, 1280, 800)
    header = first.prospects.table.horizontalHeader()
    header.resizeSection(NAME, 230)  # as a drag does
    first.close()
    second = make_window(window_settings=settings)
    page = sized(qtbot, second, 1280, 800)
    assert page.table.columnWidth(NAME) == 230
    assert_every_column_on_screen(page)  # the other columns made room


def test_old_fixed_widths_are_not_restored(qtbot, make_window, demo_ctx, tmp_path):
    """Settings written by earlier versions held the header state alone, with
    widths too wide for the window: the order and sort are kept, the widths refitted."""
    old = QTableView()
    old.setModel(make_window().prospects.model)
    h: QHeaderView = old.horizontalHeader()
    for column, width in enumerate((150, 175, 120, 100, 90, 100, 110)):
        h.resizeSection(column, width)
    settings = QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat)
    settings.setValue("prospects/header.v1", h.saveState())
    window = make_window(window_settings=settings)
    page = sized(qtbot, window, 1024, 640)
    assert_every_column_on_screen(page)
    assert isinstance(page.save_state()[1], QByteArray)


def test_fit_widths_shares_spare_width_and_takes_a_shortfall_from_text_columns():
    elastic = {0: (100, 240), 1: (90, 300)}
    assert fit_widths([150, 200, 100], 500, elastic) == [175, 225, 100]
    assert fit_widths([150, 200, 100], 350, elastic) == [118, 132, 100]
    assert fit_widths([150, 200, 100], 250, elastic) == [100, 90, 100]  # minimums: overflow
    assert fit_widths([150, 200, 100], 350, elastic, fixed={0: 160}) == [160, 90, 100]
    assert fit_widths([150, 200, 100], 400, elastic, hidden=frozenset({1})) == [300, 200, 100]
