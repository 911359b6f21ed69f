"""Users and passwords from the desktop app."""

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from reads_support import wait_for_reads

from crm_desktop.domain.roles import Role
from crm_desktop.services import users
from crm_desktop.ui.admin.users_dialog import AddUserDialog, ChangePasswordDialog, UsersDialog
from crm_desktop.ui.common.changes import Kind

OWNER_PW = "owner long password"


def owner_ctx(db):
    return users.single_user_context(db)


def test_owner_sets_a_password_then_adds_a_user(qtbot, db):
    ctx = owner_ctx(db)
    change = ChangePasswordDialog(ctx)
    qtbot.addWidget(change)
    change.show()
    assert not change.needs_old  # no password yet
    qtbot.keyClicks(change.new, OWNER_PW)
    qtbot.keyClicks(change.again, "different one!!")
    qtbot.keyClick(change.again, Qt.Key.Key_Return)
    assert change.isVisible() and "differ" in change.error.text()
    qtbot.keyClicks(change.again, OWNER_PW)
    with qtbot.waitSignal(change.accepted):
        qtbot.keyClick(change.again, Qt.Key.Key_Return)
    assert users.has_password(ctx)

    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the users are read on a worker
    add = dialog.add_user()
    qtbot.keyClicks(add.username, "Sam.Taylor")
    add.role.setCurrentIndex(add.role.findData("marketing"))
    qtbot.keyClicks(add.password, "short")
    qtbot.keyClicks(add.again, "short")
    qtbot.keyClick(add.again, Qt.Key.Key_Return)
    assert "at least 12 characters" in add.error.text()
    for field in (add.password, add.again):
        field.setText("sams long password")
    with qtbot.waitSignal(dialog.bus.changed) as changed:
        qtbot.keyClick(add.again, Qt.Key.Key_Return)
    assert changed.args[0].kinds == {Kind.USERS}
    wait_for_reads(qtbot)
    names = {dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())}
    assert names == {ctx.user, "sam.taylor"}
    assert users.sign_in(db, "sam.taylor", "sams long password").role is Role.MARKETING


def test_adding_before_a_password_is_refused_with_the_reason(qtbot, db):
    add = AddUserDialog(owner_ctx(db))
    qtbot.addWidget(add)
    add.show()
    qtbot.keyClicks(add.username, "sam")
    add.password.setText("sams long password")
    add.again.setText("sams long password")
    add.accept()
    assert "Set your own password first" in add.error.text() and add.isVisible()


def test_admin_changes_role_resets_and_deactivates(qtbot, db, prompter):
    ctx = owner_ctx(db)
    users.change_password(ctx, OWNER_PW)
    users.add_user(ctx, "sam", "sales", "sams long password")
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the users are read on a worker
    dialog.select("sam")
    dialog.role_box.setCurrentIndex(dialog.role_box.findData("manager"))
    assert dialog.set_role()
    wait_for_reads(qtbot)
    assert dialog.selected() == "sam"  # kept through the list's new read
    assert dialog.tree.selectedItems()[0].text(2) == "Manager"
    reset = dialog.reset_password()
    new = reset.findChild(QLineEdit, "newPassword")
    again = reset.findChild(QLineEdit, "againPassword")
    new.setText("a fresh long password")
    again.setText("a fresh long password")
    reset.accept()
    wait_for_reads(qtbot)
    assert users.sign_in(db, "sam", "a fresh long password").role is Role.MANAGER
    prompter.answers.append(True)
    dialog.select("sam")
    assert dialog.deactivate()
    assert {u.username: u.active for u in users.list_users(ctx)}["sam"] is False
    wait_for_reads(qtbot)
    assert dialog.tree.selectedItems()[0].text(3) == "deactivated"
    # The last admin cannot be demoted: the message shows in the dialog.
    dialog.select(ctx.user)
    dialog.role_box.setCurrentIndex(dialog.role_box.findData("sales"))
    assert not dialog.set_role()
    assert "always be an active admin" in dialog.error.text()


def test_menu_items_open_the_dialogs_and_hide_by_role(make_window, ctx):
    window = make_window(users.single_user_context(ctx.db))
    window.commands.manage_users.trigger()
    assert any(
        isinstance(w, UsersDialog) and w.isVisible() for w in window.findChildren(UsersDialog)
    )
    window.commands.change_password.trigger()
    assert window.findChildren(ChangePasswordDialog)
    from crm_desktop.services.context import Context

    sales = make_window(Context(ctx.db, user="sam", role=Role.SALES))
    assert not sales.commands.manage_users.isVisible()
    assert sales.commands.change_password.isVisible()


def test_the_users_are_read_off_the_gui_thread_and_shown(qtbot, db, monkeypatch):
    ctx = owner_ctx(db)
    threads = []
    real = users.list_users

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(users, "list_users", recording)
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1)
    assert threads and threading.main_thread() not in threads
    assert dialog.tree.topLevelItem(0).text(0) == ctx.user


def test_a_selection_made_while_the_list_is_read_is_kept(qtbot, db):
    ctx = owner_ctx(db)
    users.change_password(ctx, OWNER_PW)
    users.add_user(ctx, "sam", "sales", "sams long password")
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    wait_for_reads(qtbot)
    dialog.select(ctx.user)
    dialog.refresh()
    dialog.select("sam")  # the person clicks another user before the list comes back
    wait_for_reads(qtbot)
    assert dialog.selected() == "sam"
