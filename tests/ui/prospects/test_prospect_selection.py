"""Whatever way a prospect row becomes selected, the actions on it follow."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from crm_desktop.ui.prospects.log_contact_dialog import LogContactDialog
from crm_desktop.ui.prospects.prospect_model import ProspectIdRole


def row_centre(table, row: int):
    return table.visualRect(table.model().index(row, 0)).center()


def selection_actions_enabled(window) -> list[bool]:
    c = window.commands
    return [a.isEnabled() for a in (c.log_contact, c.edit_prospect, c.delete_prospect)]


def test_a_mouse_click_on_a_row_enables_log_contact_edit_and_delete(
    qtbot, make_window, add_prospect
):
    add_prospect("Ada", "Lovelace")
    pid = add_prospect("Grace", "Hopper")
    window = make_window()
    page = window.prospects
    assert page.selected_id() is None
    assert selection_actions_enabled(window) == [False, False, False]

    row = page.model.position_of(pid)
    table = page.table
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(table, row))

    assert page.selected_id() == pid
    assert selection_actions_enabled(window) == [True, True, True]
    assert page.detail.prospect_id == pid

    # Ctrl+L on the clicked row opens Log contact for that prospect.
    qtbot.keyClick(table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.findChild(LogContactDialog) is not None)
    dialog = window.findChild(LogContactDialog)
    assert dialog.windowTitle() == "Log contact with Grace Hopper"
    dialog.reject()


def test_clicking_another_row_moves_the_actions_to_it(qtbot, make_window, add_prospect):
    first = add_prospect("Ada", "Lovelace")
    second = add_prospect("Grace", "Hopper")
    window = make_window()
    page, table = window.prospects, window.prospects.table
    for pid in (first, second, first):
        row = page.model.position_of(pid)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(table, row))
        assert page.selected_id() == pid
        assert window.commands.edit_prospect.isEnabled()
        assert page.detail.prospect_id == pid


@pytest.mark.parametrize("how", ["keys", "search", "programmatic"])
def test_keys_search_and_code_select_rows_with_the_actions(qtbot, make_window, add_prospect, how):
    add_prospect("Ada", "Lovelace")
    pid = add_prospect("Grace", "Hopper")
    window = make_window()
    page = window.prospects
    if how == "keys":
        page.table.setFocus()
        qtbot.keyClick(page.table, Qt.Key.Key_Down)
        qtbot.keyClick(page.table, Qt.Key.Key_Down)
        pid = page.model.index(1, 0).data(ProspectIdRole)
    elif how == "search":
        qtbot.keyClicks(page.search, "Hopper")
        qtbot.keyClick(page.search, Qt.Key.Key_Return)
    else:
        assert page.select_prospect(pid)
    assert page.selected_id() == pid
    assert selection_actions_enabled(window) == [True, True, True]


def test_ctrl_click_clearing_the_selection_disables_the_actions(qtbot, make_window, add_prospect):
    pid = add_prospect("Grace", "Hopper")
    window = make_window()
    page, table = window.prospects, window.prospects.table
    pos = row_centre(table, page.model.position_of(pid))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.commands.log_contact.isEnabled()
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pos
    )
    assert page.selected_id() is None
    assert selection_actions_enabled(window) == [False, False, False]
