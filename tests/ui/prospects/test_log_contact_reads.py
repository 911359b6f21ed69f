"""Log contact reads the prospect's open follow-ups on a worker; Save waits for them."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from reads_support import (
    TIMEOUT_MS,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_read,
    wait_for_reads,
)

from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import correspondence, prospects
from crm_desktop.services.context import Context
from crm_desktop.ui.prospects.log_contact_dialog import HINT, READING_HINT, LogContactDialog

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def followed(ctx, add_prospect):
    """A prospect with a follow-up of mine due today: (prospect id, follow-up id)."""
    pid = add_prospect("Katherine", "Johnson")
    mine = correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Send the quote", follow_up_on=date.today())
    )
    return pid, mine.id


@pytest.fixture
def held(monkeypatch):
    """The follow-ups' read waits on the worker until ``held.set()``."""
    with held_read(monkeypatch, correspondence, "list_followups") as read:
        yield read


def open_dialog(qtbot, ctx, pid) -> LogContactDialog:
    dialog = LogContactDialog(ctx, prospects.get_prospect(ctx, pid))
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    return dialog


def test_the_open_follow_ups_are_read_off_the_gui_thread(qtbot, ctx, followed, monkeypatch):
    pid, follow_up = followed
    read = recorded_read(monkeypatch, correspondence, "list_followups")
    dialog = open_dialog(qtbot, ctx, pid)
    wait_for_reads(qtbot)
    assert read.ran_off_the_gui_thread()
    assert list(dialog.open_follow_ups) == [follow_up]
    assert dialog.open_follow_ups[follow_up].isChecked()  # my own: ticked


def test_save_waits_for_the_follow_ups_and_then_marks_mine_done(qtbot, ctx, followed, held):
    pid, follow_up = followed
    dialog = open_dialog(qtbot, ctx, pid)
    # Typing starts at once; saving waits, and says why.
    qtbot.keyClicks(dialog.summary, "Quote accepted")
    assert not dialog.save_button.isEnabled()
    assert dialog.hint.text() == READING_HINT
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(dialog.summary, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible() and dialog.logged is None
    assert len(correspondence.list_correspondence(ctx, pid)) == 1  # only the first call

    held.set()
    wait_for_reads(qtbot)
    assert dialog.save_button.isEnabled() and dialog.hint.text() == HINT
    check = dialog.open_follow_ups[follow_up]
    assert check.isVisible() and check.isChecked()
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.logged.summary == "Quote accepted"
    assert correspondence.list_followups(ctx, prospect_id=pid) == []  # marked done


def test_a_colleagues_follow_up_arrives_unticked_and_can_be_ticked_by_mouse(
    qtbot, ctx, followed, held
):
    pid, mine = followed
    bob = Context(ctx.db, user="bob")
    theirs = correspondence.log_contact(
        bob, pid, ContactInput(kind="email-out", summary="Ring back", follow_up_on=date.today())
    ).id
    dialog = open_dialog(qtbot, ctx, pid)
    height = dialog.height()
    held.set()
    wait_for_reads(qtbot)
    assert dialog.height() > height  # the dialog grew to hold them
    box = dialog.open_follow_ups[theirs]
    assert not box.isChecked()
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    assert box.isChecked()
    assert sorted(dialog.follow_ups_to_close()) == sorted([mine, theirs])


def test_follow_ups_that_cannot_be_read_are_said_and_the_contact_can_still_be_logged(
    qtbot, ctx, followed, monkeypatch, prompter
):
    from crm_desktop.errors import DatabaseError

    pid, _ = followed

    def broken(*_args, **_kwargs):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(correspondence, "list_followups", broken)
    dialog = open_dialog(qtbot, ctx, pid)
    wait_for_reads(qtbot)
    assert "The database file went away." in prompter.errors()[0]
    assert dialog.open_follow_ups == {} and dialog.save_button.isEnabled()
    monkeypatch.undo()
    dialog.summary.setPlainText("Left a message")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert len(correspondence.list_followups(ctx, prospect_id=pid)) == 1  # still open
