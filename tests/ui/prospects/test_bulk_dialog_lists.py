"""The bulk dialog reads its owners and interests on a worker; Apply waits only where it
needs them (adding or removing an interest)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from reads_support import (
    TIMEOUT_MS,
    all_ran_off_the_gui_thread,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_reads,
    wait_for_reads,
)

from crm_desktop.errors import CrmError
from crm_desktop.services import bulk as B
from crm_desktop.services import interests as interest_service
from crm_desktop.services import prospects as prospect_service
from crm_desktop.ui.prospects import bulk_dialog
from crm_desktop.ui.prospects.bulk_dialog import BulkDialog

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def held(monkeypatch):
    """The lists' read waits on the worker until ``held.set()``."""
    with held_read(monkeypatch, bulk_dialog, "read_lists") as read:
        yield read


@pytest.fixture
def two(add_prospect, ctx):
    interest_service.add_interest(ctx, "Robotics club")
    return [add_prospect("Ada", "Lovelace", owner="bob"), add_prospect("Bob", "Babbage")]


def open_dialog(qtbot, ctx, ids) -> BulkDialog:
    dialog = BulkDialog(ctx, B.Selection.of(ids), len(ids))
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    return dialog


def choose_action(qtbot, dialog: BulkDialog, action: str) -> None:
    dialog.action.setFocus()
    dialog.action.setCurrentIndex(dialog.action.findData(action))


def texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def apply(qtbot, dialog: BulkDialog):
    with qtbot.waitSignal(dialog.started, timeout=TIMEOUT_MS) as started:
        qtbot.mouseClick(dialog.apply_button, LEFT)
    task = started.args[0]
    if task.is_running:
        qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS).wait()


def test_the_lists_are_read_off_the_gui_thread(qtbot, ctx, two, monkeypatch):
    recorded = recorded_reads(
        monkeypatch, (prospect_service, "list_owners"), (interest_service, "list_interests")
    )
    dialog = open_dialog(qtbot, ctx, two)
    wait_for_reads(qtbot)
    assert all_ran_off_the_gui_thread(recorded)
    assert dialog.lists_loaded
    assert texts(dialog.owner) == [bulk_dialog.NO_OWNER, "alice", "bob"]
    assert "Robotics club" in texts(dialog.interest) and dialog.interest.isEnabled()


def test_apply_waits_for_the_interests_and_an_owner_typed_meanwhile_is_kept(qtbot, ctx, two, held):
    dialog = open_dialog(qtbot, ctx, two)
    assert not dialog.lists_loaded and dialog.interest.count() == 0
    assert not dialog.interest.isEnabled()
    assert dialog.interest.placeholderText() == bulk_dialog.INTERESTS_LOADING
    # Setting an owner needs no list: it can be typed and applied at once...
    choose_action(qtbot, dialog, B.SET_OWNER)
    qtbot.waitUntil(lambda: dialog.preview_label.text().startswith("Applies to"))
    qtbot.mouseClick(dialog.owner.lineEdit(), LEFT)
    dialog.owner.lineEdit().selectAll()
    qtbot.keyClicks(dialog.owner.lineEdit(), "zoe")
    assert dialog.apply_button.isEnabled()
    # ...adding an interest waits for the list.
    choose_action(qtbot, dialog, B.ADD_INTEREST)
    qtbot.waitUntil(lambda: dialog.preview_label.text().startswith("Applies to"))
    assert not dialog.apply_button.isEnabled()
    assert dialog.apply_button.toolTip() == bulk_dialog.INTERESTS_LOADING
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter does not apply meanwhile
    assert dialog.isVisible() and dialog.task is None

    held.set()
    wait_for_reads(qtbot)
    assert dialog.lists_loaded and dialog.apply_button.isEnabled()
    assert dialog.interest.currentText() == interest_service.list_interests(ctx)[0][1]
    dialog.interest.setCurrentIndex(dialog.interest.findText("Robotics club"))
    apply(qtbot, dialog)
    for pid in two:
        assert "Robotics club" in prospect_service.get_prospect(ctx, pid).interests

    # The owner typed before the list arrived was kept.
    choose_action(qtbot, dialog, B.SET_OWNER)
    assert dialog.owner.currentText() == "zoe"


def test_an_owner_typed_before_the_list_arrives_is_applied(qtbot, ctx, two, held):
    dialog = open_dialog(qtbot, ctx, two)
    choose_action(qtbot, dialog, B.SET_OWNER)
    qtbot.mouseClick(dialog.owner.lineEdit(), LEFT)
    dialog.owner.lineEdit().selectAll()
    qtbot.keyClicks(dialog.owner.lineEdit(), "carol")
    held.set()
    wait_for_reads(qtbot)
    assert dialog.owner.currentText() == "carol"
    assert "bob" in texts(dialog.owner)
    apply(qtbot, dialog)
    assert {prospect_service.get_prospect(ctx, p).owner for p in two} == {"carol"}


def test_lists_that_cannot_be_read_are_said_and_other_actions_still_apply(
    qtbot, ctx, two, monkeypatch, prompter
):
    def broken(_ctx):
        raise CrmError("The database is busy.")

    monkeypatch.setattr(bulk_dialog, "read_lists", broken)
    dialog = open_dialog(qtbot, ctx, two)
    wait_for_reads(qtbot)
    assert prompter.messages and "The database is busy." in prompter.messages[-1][2]
    assert not dialog.lists_loaded
    choose_action(qtbot, dialog, B.REMOVE_INTEREST)
    qtbot.waitUntil(lambda: dialog.preview_label.text().startswith("Applies to"))
    assert not dialog.apply_button.isEnabled()
    assert dialog.interest.placeholderText() == bulk_dialog.INTERESTS_UNREADABLE
    assert dialog.apply_button.toolTip() == bulk_dialog.INTERESTS_UNREADABLE
    choose_action(qtbot, dialog, B.SET_STAGE)
    qtbot.waitUntil(lambda: dialog.preview_label.text().startswith("Applies to"))
    dialog.stage.setCurrentIndex(dialog.stage.findData("trial"))
    apply(qtbot, dialog)
    assert {prospect_service.get_prospect(ctx, p).stage for p in two} == {"trial"}


def test_a_name_typed_into_the_owner_box_replaces_no_owner(qtbot, ctx, two):
    dialog = open_dialog(qtbot, ctx, two)
    wait_for_reads(qtbot)
    choose_action(qtbot, dialog, B.SET_OWNER)
    edit = dialog.owner.lineEdit()
    assert (edit.text(), edit.placeholderText()) == ("", bulk_dialog.NO_OWNER)
    assert dialog.value() is None  # nothing typed: no owner
    qtbot.mouseClick(edit, LEFT, pos=edit.rect().center())
    qtbot.keyClicks(edit, "sam")
    assert dialog.value() == "sam"
    dialog.owner.setCurrentIndex(dialog.owner.findData("bob"))
    assert dialog.value() == "bob"
    dialog.owner.setCurrentIndex(0)  # (no owner) picked from the list again
    assert (edit.text(), dialog.value()) == ("", None)
