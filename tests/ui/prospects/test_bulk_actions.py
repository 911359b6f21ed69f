"""Selecting many prospects (Shift/Ctrl-click, Ctrl+A, "Select all N matching") and
changing them at once through the bulk dialog, on a worker with progress and Cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from reads_support import wait_for_reads

from crm_desktop.services import bulk as B
from crm_desktop.services import prospects as P
from crm_desktop.services import rights as R
from crm_desktop.ui.prospects.bulk_dialog import BulkDialog

TIMEOUT_MS = 10_000
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def click_row(qtbot, table, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    pos = table.visualRect(table.model().index(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def open_bulk(qtbot, window) -> BulkDialog:
    qtbot.mouseClick(window.prospects.bulk_bar.change, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(BulkDialog) is not None, timeout=TIMEOUT_MS)
    dialog = window.findChild(BulkDialog)
    qtbot.waitUntil(
        lambda: dialog.preview_label.text().startswith("Applies to"), timeout=TIMEOUT_MS
    )
    return dialog


def apply(qtbot, dialog: BulkDialog):
    with qtbot.waitSignal(dialog.started, timeout=TIMEOUT_MS) as started:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    task = started.args[0]
    if task.is_running:
        qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS).wait()
    return task


def test_shift_and_ctrl_click_select_many_and_the_pane_says_how_many(
    qtbot, make_window, add_prospect
):
    ids = [add_prospect(f"P{i}", f"Person{i}") for i in range(5)]
    window = make_window()
    page, table = window.prospects, window.prospects.table
    click_row(qtbot, table, 0)
    assert page.selected_id() == page.model.row(0).id
    assert not page.bulk_bar.isVisible()
    click_row(qtbot, table, 2, SHIFT)
    assert page.selected_count() == 3
    assert page.selected_id() is None  # the single-prospect actions step aside
    assert not window.commands.edit_prospect.isEnabled()
    assert page.detail_stack.currentWidget() is page.multi_pane
    assert page.multi_pane.title.text() == "3 prospects selected"
    assert page.bulk_bar.isVisible()
    assert page.bulk_bar.count_label.text() == "3 prospects selected."
    assert page.bulk_bar.select_all.text() == "Select all 5 matching"
    click_row(qtbot, table, 4, CTRL)
    selection, count = page.bulk_selection()
    assert count == 4 and selection.query is None
    assert sorted(selection.ids) == sorted([page.model.row(r).id for r in (0, 1, 2, 4)])
    # A plain click goes back to one prospect, its pane and its actions.
    click_row(qtbot, table, 1)
    assert page.selected_id() == page.model.row(1).id
    assert page.detail_stack.currentWidget() is page.detail
    assert window.commands.edit_prospect.isEnabled() and not page.bulk_bar.isVisible()
    assert len(ids) == 5


def test_ctrl_a_selects_all_matching_as_the_filter_and_sets_their_stage(
    qtbot, make_window, add_prospect, ctx
):
    for i in range(4):
        add_prospect(f"Oak{i}", "Teacher", school="Oakfield Primary")
    other = add_prospect("Elm", "Teacher", school="Elm Academy")
    window = make_window()
    page, table = window.prospects, window.prospects.table
    page.search.setText("oakfield")
    page.apply_query()
    wait_for_reads(qtbot)  # the rows are read on a worker
    assert page.model.rowCount() == 4
    click_row(qtbot, table, 0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_A, CTRL)
    assert page.all_matching_selected()
    assert page.bulk_bar.count_label.text() == "All 4 prospects matching are selected."
    selection, count = page.bulk_selection()
    assert count == 4 and selection.query is not None and selection.query.search == "oakfield"

    dialog = open_bulk(qtbot, window)
    assert dialog.preview_label.text() == "Applies to 4 prospects."
    dialog.action.setCurrentIndex(dialog.action.findData(B.SET_STAGE))
    dialog.stage.setCurrentIndex(dialog.stage.findData("trial"))
    apply(qtbot, dialog)
    stages = {r.first_name: r.stage for r in P.list_prospects(ctx)}
    assert stages == {"Oak0": "trial", "Oak1": "trial", "Oak2": "trial", "Oak3": "trial",
                      "Elm": "lead"}  # fmt: skip
    qtbot.waitUntil(lambda: "Stage set to Trial for 4" in window.statusBar().currentMessage())
    # The table shows the new stage (the page refreshed from the change).
    wait_for_reads(qtbot)
    assert page.model.row(0).stage == "trial"
    assert P.get_prospect(ctx, other).stage == "lead"


def test_select_all_matching_button_and_refused_people_are_named(
    qtbot, make_window, add_prospect, ctx, prompter
):
    ids = [add_prospect(f"P{i}", "Person") for i in range(4)]
    R.restrict(ctx, ids[1], "Accuracy contested")
    window = make_window()
    page, table = window.prospects, window.prospects.table
    click_row(qtbot, table, 0)
    click_row(qtbot, table, 1, CTRL)
    qtbot.mouseClick(page.bulk_bar.select_all, Qt.MouseButton.LeftButton)
    assert page.all_matching_selected() and not page.bulk_bar.select_all.isVisible()
    dialog = open_bulk(qtbot, window)
    dialog.action.setCurrentIndex(dialog.action.findData(B.SET_OWNER))
    assert dialog.owner.isVisible() and not dialog.stage.isVisible()
    qtbot.waitUntil(lambda: "P1 Person (restricted)" in dialog.preview_label.text())
    dialog.owner.setEditText("zoe")
    apply(qtbot, dialog)
    owners = {r.id: r.owner for r in P.list_prospects(ctx)}
    assert [owners[i] for i in ids] == ["zoe", "alice", "zoe", "zoe"]
    (level, title, text) = prompter.messages[-1]
    assert title == "Not everyone was changed" and "P1 Person (restricted)" in text


def test_log_contact_checks_the_form_first(qtbot, make_window, add_prospect, ctx):
    add_prospect("Ada", "Lovelace")
    add_prospect("Bob", "Babbage")
    window = make_window()
    table = window.prospects.table
    click_row(qtbot, table, 0)
    click_row(qtbot, table, 1, SHIFT)
    dialog = open_bulk(qtbot, window)
    dialog.action.setCurrentIndex(dialog.action.findData(B.LOG_CONTACT))
    assert dialog.summary.isVisible()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "summary" in dialog.errors() and dialog.isVisible()
    dialog.summary.setPlainText("Both at the open evening")
    apply(qtbot, dialog)
    assert all(r.last_contact_at is not None for r in P.list_prospects(ctx))


def test_cancel_in_the_progress_dialog_changes_nothing(
    qtbot, make_window, add_prospect, ctx, prompter, monkeypatch
):
    ids = [add_prospect(f"P{i}", "Person") for i in range(6)]
    monkeypatch.setattr(B, "CHUNK", 2)
    release = threading.Event()
    original = B.audit.record_many

    def held(*args, **kwargs):  # the first chunk waits until the test has clicked Cancel
        written = original(*args, **kwargs)
        release.wait(TIMEOUT_MS / 1000)
        return written

    monkeypatch.setattr(B.audit, "record_many", held)
    window = make_window()
    page = window.prospects
    click_row(qtbot, page.table, 0)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_A, CTRL)
    dialog = open_bulk(qtbot, window)
    dialog.action.setCurrentIndex(dialog.action.findData(B.DELETE))
    assert dialog.apply_button.text() == "Delete 6 prospects"
    prompter.answers.append(True)  # yes, delete them
    with qtbot.waitSignal(dialog.started, timeout=TIMEOUT_MS) as started:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    task = started.args[0]
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    progress = task.dialog
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    assert progress.labelText() == "Cancelling…"
    release.set()
    if task.is_running:
        qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS).wait()
    assert P.count_prospects(ctx) == 6
    assert sorted(r.id for r in P.list_prospects(ctx)) == sorted(ids)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == B.CANCELLED)
