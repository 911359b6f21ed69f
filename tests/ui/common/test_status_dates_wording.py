"""Issue 10, item 19: a status bar that keeps to the tab on show, one date format
everywhere, error messages that read as sentences, and Add user that offers to
set the owner's password."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel
from ui_tabs import FOLLOWUPS_TAB, PROSPECTS_TAB, SCHOOLS_TAB

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.validation import ContactInput, ValidationError
from crm_desktop.services import correspondence, history, users
from crm_desktop.ui.admin.users_dialog import AddUserDialog, ChangePasswordDialog, UsersDialog
from crm_desktop.ui.common.changes import Kind
from crm_desktop.ui.common.messages import field_message
from crm_desktop.ui.privacy.retention_page import RetentionModel

OWNER_PW = "owner long password"


def test_leaving_a_tab_clears_its_message_and_the_count_is_for_prospects_only(
    qtbot, make_window, demo_ctx
):
    window = make_window()
    count = window.statusBar().findChild(QLabel, "countLabel")
    assert count.isVisible() and count.text() == "60 prospects"
    window.status("Saved Ada Lovelace.")
    assert window.statusBar().currentMessage() == "Saved Ada Lovelace."
    # Click the Follow-ups tab with the mouse, as a user does.
    bar = window.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(FOLLOWUPS_TAB).center())
    assert window.tabs.currentIndex() == FOLLOWUPS_TAB
    assert window.statusBar().currentMessage() == ""  # not a stale "Saved …"
    assert not count.isVisible()  # "60 prospects" is not about follow-ups
    window.commands.show_schools.trigger()
    assert window.tabs.currentIndex() == SCHOOLS_TAB and not count.isVisible()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(PROSPECTS_TAB).center())
    assert count.isVisible() and count.text() == "60 prospects"


def test_one_date_format_from_one_helper():
    assert format_date(date(2026, 12, 7)) == "7 Dec 2026"
    assert format_date(date(2026, 3, 1), weekday=True) == "Sun 1 Mar 2026"
    assert format_date(None) == ""
    moment = datetime(2026, 12, 7, 14, 30).astimezone()
    assert format_datetime(moment) == "7 Dec 2026 14:30"
    assert format_date(moment) == "7 Dec 2026"


def test_history_and_retention_write_dates_the_same_way(ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace")
    follow_up = date.today() + timedelta(days=9)
    correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Intro", follow_up_on=follow_up)
    )
    [call] = [e for e in history.history(ctx, pid) if e.kind == "correspondence"]
    assert f"Follow up on {format_date(follow_up)}" in call.detail
    assert follow_up.isoformat() not in call.detail

    old = add_prospect("Old", "Smith")
    when = datetime(2022, 3, 4, 10, 0, tzinfo=UTC)
    correspondence.log_contact(ctx, old, ContactInput(kind="call", summary="x", occurred_at=when))
    model = RetentionModel(ctx)
    model.reload()
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == "Old Smith")
    assert model.index(row, 2).data() == "4 Mar 2022"  # not "04 Mar 2022"


def test_messages_read_as_sentences():
    assert str(ValidationError({"first_name": "is required"})) == "First name is required"
    assert (
        str(ValidationError({"email": "'x' is not a valid email address"}))
        == "Email: 'x' is not a valid email address"
    )
    assert field_message("first_name", "is required") == "First name is required."


def test_add_user_before_the_owner_has_a_password_opens_change_my_password(qtbot, db, prompter):
    owner = users.single_user_context(db)
    dialog = UsersDialog(owner)
    qtbot.addWidget(dialog)
    dialog.show()
    prompter.answers = [True]  # "Set your password now?"
    QTest.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    title, text = prompter.questions[-1]
    assert title == "Set your password first" and "crm user passwd" not in text
    change = dialog.findChild(ChangePasswordDialog)
    assert change is not None and change.isVisible() and not change.needs_old
    qtbot.keyClicks(change.new, OWNER_PW)
    qtbot.keyClicks(change.again, OWNER_PW)
    with qtbot.waitSignal(change.accepted):
        qtbot.keyClick(change.again, Qt.Key.Key_Return)
    assert users.has_password(owner)
    # ...and then straight on to adding the user.
    add = dialog.add_dialog
    assert isinstance(add, AddUserDialog) and add.isVisible()
    qtbot.keyClicks(add.username, "sam")
    add.password.setText("sams long password")
    add.again.setText("sams long password")
    with qtbot.waitSignal(dialog.bus.changed) as changed:
        add.accept()
    assert changed.args[0].kinds == {Kind.USERS}
    assert {u.username for u in users.list_users(owner)} == {owner.user, "sam"}


def test_declining_to_set_a_password_adds_nobody(qtbot, db, prompter):
    owner = users.single_user_context(db)
    dialog = UsersDialog(owner)
    qtbot.addWidget(dialog)
    prompter.answers = [False]
    assert dialog.add_user() is None
    assert dialog.findChild(ChangePasswordDialog) is None and dialog.add_dialog is None
    assert [u.username for u in users.list_users(owner)] == [owner.user]
