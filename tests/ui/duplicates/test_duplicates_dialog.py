"""Probable duplicates and the merge screen, driven with the mouse and the keys."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from reads_support import wait_for_reads
from ui_shots import save_shot

from crm_desktop.domain.roles import Role
from crm_desktop.services import duplicates, marketing, prospects
from crm_desktop.services.context import Context
from crm_desktop.ui.common.changes import Kind
from crm_desktop.ui.duplicates import duplicates_dialog as DD
from crm_desktop.ui.duplicates.duplicates_dialog import DuplicatesDialog
from crm_desktop.ui.duplicates.merge_dialog import MergeDialog


@pytest.fixture
def pair(add_prospect):
    keep = add_prospect("Jane", "Smith", email="jane@oak.sch.uk", school="Oak Primary")
    other = add_prospect(
        "Jane", "Smyth", email="jane.smyth@oak.sch.uk", phone="07700 900123", school="Oak Primary"
    )
    return keep, other


def open_list(qtbot, ctx, status=None) -> DuplicatesDialog:
    dialog = DuplicatesDialog(ctx, status=status)
    qtbot.addWidget(dialog)
    dialog.resize(900, 420)
    dialog.show()
    wait_for_reads(qtbot)
    return dialog


def click_row(qtbot, tree, row: int, *, double: bool = False) -> None:
    item = tree.topLevelItem(row)
    rect = tree.visualItemRect(item)
    point = QPoint(rect.left() + 10, rect.center().y())
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    if double:
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(8, widget.height() // 2))


def test_pairs_are_read_off_the_gui_thread_and_listed(qtbot, ctx, pair, monkeypatch):
    threads = []
    real = duplicates.probable_duplicates

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(duplicates, "probable_duplicates", recording)
    dialog = open_list(qtbot, ctx)
    assert threads and threading.main_thread() not in threads
    assert dialog.tree.topLevelItemCount() == 1
    row = dialog.tree.topLevelItem(0)
    assert [row.text(i) for i in range(4)] == [
        "Jane Smith", "Jane Smyth", "Oak Primary", duplicates.SIMILAR_NAME,
    ]  # fmt: skip
    assert dialog.count.text() == "1 probable duplicate"
    save_shot(dialog, "duplicates", "list")


def test_empty_state(qtbot, ctx, add_prospect):
    add_prospect("Ada", "Lovelace")
    dialog = open_list(qtbot, ctx)
    assert dialog.stack.currentWidget() is dialog.empty
    assert dialog.empty.text() == "No probable duplicates."
    assert not dialog.merge_button.isEnabled() and not dialog.dismiss_button.isEnabled()


def test_not_duplicates_with_the_mouse_removes_the_pair_for_good(qtbot, ctx, pair):
    keep, other = pair
    dialog = open_list(qtbot, ctx)
    click_row(qtbot, dialog.tree, 0)
    assert dialog.selected().first_id == keep
    click(qtbot, dialog.dismiss_button)
    wait_for_reads(qtbot)
    assert dialog.stack.currentWidget() is dialog.empty
    assert duplicates.dismissed_pairs(ctx) == [(keep, other)]


def test_merge_with_mouse_clicks_picks_fields_and_merges(qtbot, ctx, pair, prompter):
    keep, other = pair
    marketing.opt_out(ctx, other, "email", reason="Unsubscribed")
    said = []
    dialog = open_list(qtbot, ctx, status=said.append)
    changes = []
    dialog.bus.changed.connect(changes.append)
    click_row(qtbot, dialog.tree, 0, double=True)
    merge = dialog.merge_dialog
    assert isinstance(merge, MergeDialog)
    wait_for_reads(qtbot)
    # Differences are highlighted; the blank phone defaults to the other's.
    assert {"last_name", "email", "phone"} <= merge.highlighted
    assert "first_name" not in merge.highlighted
    assert merge.choices()["phone"] == "other"
    assert "Opted out of Email" in merge.combined.text()
    assert "#2 brings 0 contacts, 1 consent event" in merge.combined.text()
    click(qtbot, merge.radios[("email", "other")])
    click(qtbot, merge.radios[("last_name", "other")])
    assert merge.choices()["email"] == "other" and merge.choices()["last_name"] == "other"
    save_shot(merge, "duplicates", "merge")
    prompter.answers = [True]
    with qtbot.waitSignal(merge.accepted):
        click(qtbot, merge.merge_button)
    [(title, question)] = prompter.questions
    assert "Merge Jane Smyth (#2) into Jane Smith (#1)?" in question
    view = merge.view
    assert said == [f"Merged into {view.full_name} (#{keep})."]
    assert (view.id, view.last_name, view.email) == (keep, "Smyth", "jane.smyth@oak.sch.uk")
    assert view.phone == "+447700900123"
    [change] = changes
    assert {Kind.PROSPECTS, Kind.MARKETING, Kind.CONTACTS} <= change.kinds
    assert change.ids == {keep, other} and change.select == keep
    wait_for_reads(qtbot)
    assert dialog.stack.currentWidget() is dialog.empty  # read again: the pair is gone
    assert prospects.count_prospects(ctx) == 1
    email = next(c for c in marketing.marketing_view(ctx, keep).channels if c.channel == "email")
    assert email.opted_out


def test_answering_no_merges_nothing(qtbot, ctx, pair, prompter):
    keep, other = pair
    merge = MergeDialog(ctx, keep, other)
    qtbot.addWidget(merge)
    merge.show()
    wait_for_reads(qtbot)
    prompter.answers = [False]
    click(qtbot, merge.merge_button)
    assert merge.isVisible()
    assert prospects.count_prospects(ctx) == 2


def test_the_keys_choose_and_merge(qtbot, ctx, pair, prompter):
    keep, other = pair
    dialog = open_list(qtbot, ctx)
    dialog.tree.setFocus()
    qtbot.keyClick(dialog.tree, Qt.Key.Key_Return)
    merge = dialog.merge_dialog
    wait_for_reads(qtbot)
    qtbot.waitUntil(merge.isActiveWindow)  # shortcuts and mnemonics act in the active window
    # The keyboard starts at the first field whose values differ.
    qtbot.waitUntil(lambda: merge.focusWidget() is merge.radios[("last_name", "keep")])
    radio = merge.radios[("email", "other")]
    radio.setFocus()
    qtbot.keyClick(radio, Qt.Key.Key_Space)
    assert merge.choices()["email"] == "other"
    # Space on a focused button works it, as a click does.
    merge.all_other.setFocus()
    qtbot.keyClick(merge.all_other, Qt.Key.Key_Space)
    assert set(merge.choices().values()) == {"other"}
    merge.all_keep.setFocus()
    qtbot.keyClick(merge.all_keep, Qt.Key.Key_Space)
    assert set(merge.choices().values()) == {"keep"}
    radio.setFocus()
    qtbot.keyClick(radio, Qt.Key.Key_Space)
    prompter.answers = [True]
    with qtbot.waitSignal(merge.accepted):
        qtbot.keyClick(radio, Qt.Key.Key_Return)  # the default button: Merge
    assert prospects.get_prospect(ctx, keep).email == "jane.smyth@oak.sch.uk"


def test_swap_keeps_the_other_record(qtbot, ctx, pair, prompter):
    keep, other = pair
    merge = MergeDialog(ctx, keep, other)
    qtbot.addWidget(merge)
    merge.show()
    wait_for_reads(qtbot)
    click(qtbot, merge.swap_button)
    wait_for_reads(qtbot)
    assert merge.preview.keep.id == other
    prompter.answers = [True]
    with qtbot.waitSignal(merge.accepted):
        click(qtbot, merge.merge_button)
    assert merge.view.id == other
    assert prospects.count_prospects(ctx) == 1


def test_a_record_changed_meanwhile_is_read_again_not_overwritten(qtbot, ctx, pair, prompter):
    keep, other = pair
    merge = MergeDialog(ctx, keep, other)
    qtbot.addWidget(merge)
    merge.show()
    wait_for_reads(qtbot)
    prospects.set_stage(ctx, other, "trial")  # a colleague, meanwhile
    prompter.answers = [True]
    click(qtbot, merge.merge_button)
    assert "changed by someone else" in merge.error.text()
    wait_for_reads(qtbot)
    assert merge.preview.other.values["stage"] == "Trial"
    assert prospects.count_prospects(ctx) == 2


def test_sales_may_dismiss_but_not_merge(qtbot, ctx, pair):
    sales = Context(ctx.db, user="sam", role=Role.SALES)
    dialog = open_list(qtbot, sales)
    click_row(qtbot, dialog.tree, 0)
    assert not dialog.merge_button.isVisible()
    assert dialog.merge_selected() is None
    assert dialog.dismiss_button.isEnabled()
    merge = MergeDialog(sales, *pair)
    qtbot.addWidget(merge)
    merge.show()
    wait_for_reads(qtbot)
    assert not merge.merge_button.isEnabled()
    assert "may not merge" in merge.merge_button.toolTip()


def test_long_lists_are_cut_at_shown_and_say_so(qtbot, ctx, pair, monkeypatch):
    monkeypatch.setattr(DD, "SHOWN", 0)
    dialog = open_list(qtbot, ctx)
    assert dialog.tree.topLevelItemCount() == 0
    assert dialog.count.text() == "Showing the first 0 of 1 probable duplicates."


def test_the_menu_item_opens_the_list(make_window, ctx, pair, qtbot):
    window = make_window()
    window.commands.find_duplicates.trigger()
    wait_for_reads(qtbot)
    [dialog] = [w for w in window.findChildren(DuplicatesDialog) if w.isVisible()]
    assert dialog.tree.topLevelItemCount() == 1
    assert QApplication.activeModalWidget() in (None, dialog)


def test_an_import_can_list_only_its_prospects_pairs_then_all(
    make_window, ctx, pair, add_prospect, qtbot
):
    alan = add_prospect("Alan", "Turing", school="Elm")
    turin = add_prospect("Alan", "Turin", school="Elm")
    window = make_window()
    review = window.provided("duplicates.review")
    dialog = review(window, [turin])
    wait_for_reads(qtbot)
    assert dialog.scope.isVisible() and dialog.scope.text() == "Only pairs involving this prospect."
    assert [
        dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())
    ] == ["Alan Turing"]
    assert dialog.selected().second_id == turin and dialog.selected().first_id == alan
    click(qtbot, dialog.show_all_button)
    wait_for_reads(qtbot)
    assert dialog.tree.topLevelItemCount() == 2
    assert not dialog.scope.isVisible()


def test_duplicates_of_the_selected_person(make_window, ctx, pair, add_prospect, qtbot):
    keep, other = pair
    add_prospect("Alan", "Turing", school="Elm")
    add_prospect("Alan", "Turin", school="Elm")
    window = make_window()
    assert not window.commands.duplicates_of_prospect.isEnabled()  # nobody selected
    window.prospects.select_prospect(other)
    assert window.commands.duplicates_of_prospect.isEnabled()
    window.commands.duplicates_of_prospect.trigger()
    wait_for_reads(qtbot)
    [dialog] = [w for w in window.findChildren(DuplicatesDialog) if w.isVisible()]
    assert dialog.scope.text() == "Only pairs involving Jane Smyth."
    assert dialog.tree.topLevelItemCount() == 1
    assert (dialog.selected().first_id, dialog.selected().second_id) == (keep, other)
