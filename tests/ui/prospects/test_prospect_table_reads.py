"""The prospect table reads on workers: what a person sees while and after rows arrive."""

from __future__ import annotations

from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.services import prospects
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.ui.prospects.prospect_model import NAME, ProspectTableModel

CTRL = Qt.KeyboardModifier.ControlModifier


def small_pages(monkeypatch) -> None:
    """Pages of 7 rows, so 60 prospects need many reads (the app reads 200 at a time)."""
    monkeypatch.setattr(
        ProspectTableModel.__init__, "__kwdefaults__", {"page_size": 7, "max_pages": 20}
    )


def click_row(qtbot, table, row: int) -> None:
    pos = table.visualRect(table.model().index(row, NAME)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_ctrl_end_shows_the_last_prospect_once_its_page_arrives_and_ctrl_home_the_first(
    qtbot, make_window, demo_ctx, monkeypatch
):
    small_pages(monkeypatch)
    window = make_window()
    page = window.prospects
    listing = prospects.list_prospects(demo_ctx, ProspectQuery())
    click_row(qtbot, page.table, 0)
    assert page.selected_id() == listing[0].id
    qtbot.keyClick(page.table, Qt.Key.Key_End, CTRL)
    wait_for_reads(qtbot)  # the last page, then the detail pane's read
    assert page.table.currentIndex().row() == 59
    # Ctrl moves the cursor only (extended selection): the row is painted once read.
    assert page.table.currentIndex().data(page_id_role()) == listing[-1].id
    assert page.model.index(59, NAME).data() == f"{listing[-1].first_name} {listing[-1].last_name}"
    # The pane follows the cursor, though its row's page arrived after the key.
    assert page.detail.prospect_id == listing[-1].id
    click_row(qtbot, page.table, 59)  # and a click selects it
    wait_for_reads(qtbot)
    assert page.selected_id() == listing[-1].id
    assert listing[-1].last_name in page.detail.plain_text()
    assert window.commands.edit_prospect.isEnabled()
    qtbot.keyClick(page.table, Qt.Key.Key_Home, CTRL)
    wait_for_reads(qtbot)
    assert page.table.currentIndex().row() == 0
    click_row(qtbot, page.table, 0)
    wait_for_reads(qtbot)
    assert page.selected_id() == listing[0].id
    assert listing[0].last_name in page.detail.plain_text()


def test_typing_fast_shows_the_last_querys_rows_and_count(qtbot, make_window, demo_ctx):
    window = make_window()
    page = window.prospects
    page.search.setFocus()
    word = prospects.list_prospects(demo_ctx, ProspectQuery(), limit=1)[0].last_name.lower()
    for letter in word:
        qtbot.keyClick(page.search, letter)
        qtbot.wait(1)  # each letter its own query, as a fast typist's
    wait_for_reads(qtbot)
    expected = [p.id for p in prospects.list_prospects(demo_ctx, ProspectQuery(search=word))]
    model = page.model
    assert model.shown_query.search == word
    assert [model.index(r, NAME).data(page_id_role()) for r in range(model.rowCount())] == expected
    qtbot.waitUntil(lambda: window.count_label.text().startswith(f"{len(expected)} of 60"))


def test_clicking_a_header_twice_sorts_both_ways_with_the_mouse(qtbot, make_window, demo_ctx):
    window = make_window()
    header = window.prospects.table.horizontalHeader()
    model = window.prospects.model
    for column, key in ((2, "role"), (3, "stage")):
        x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        seen = []
        for _ in range(2):
            qtbot.mouseClick(
                header.viewport(),
                Qt.MouseButton.LeftButton,
                pos=header.rect().center().__class__(x, 5),
            )
            wait_for_reads(qtbot)
            seen.append((model.shown_query.sort, model.shown_query.descending))
            q = ProspectQuery(sort=key, descending=model.shown_query.descending)
            first = prospects.list_prospects(demo_ctx, q, limit=1)[0].id
            assert model.index(0, NAME).data(page_id_role()) == first
        assert sorted(seen) == [(key, False), (key, True)]


def page_id_role():
    from crm_desktop.ui.prospects.prospect_model import ProspectIdRole

    return ProspectIdRole
