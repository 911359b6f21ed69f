"""Who is signed in shows in the title and status bar; File > Sign out switches user."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMenu
from sqlalchemy import select
from ui_tabs import EXPORTS_TAB, PROSPECTS_TAB, REQUESTS_TAB

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.roles import Role
from crm_desktop.services import users
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog

OWNER_PASSWORD = "correct horse battery"
BOB_PASSWORD = "bobs long password"


def team_db(db):
    """``db`` and its owner's user name: the owner (admin), bob (sales), jane (manager)."""
    owner = users.single_user_context(db)
    users.change_password(owner, OWNER_PASSWORD)
    users.add_user(owner, "bob", "sales", BOB_PASSWORD, display_name="Bob Jones")
    users.add_user(owner, "jane", "manager", "janes long password", display_name="Jane Smith")
    return db, owner.user


def user_label(window) -> QLabel:
    return window.statusBar().findChild(QLabel, "userLabel")


def audit_actions(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(e.actor, e.action) for e in session.scalars(select(AuditEntry))]


def test_title_and_status_bar_name_the_signed_in_user_and_role(make_window, db):
    db, owner = team_db(db)
    window = make_window(users.sign_in(db, "jane", "janes long password"))
    assert window.windowTitle() == "crm.db — CRM Desktop — Jane Smith (manager)"
    label = user_label(window)
    assert label.isVisible() and label.text() == "Jane Smith · Manager"
    assert "jane" in label.toolTip()


def test_single_user_mode_shows_the_owner_and_greys_out_sign_out(make_window, db):
    owner = users.single_user_context(db)
    window = make_window(owner)
    assert f"({Role.ADMIN.label.lower()})" in window.windowTitle()
    assert user_label(window).text().endswith("· Admin")
    sign_out = window.commands.sign_out
    assert not sign_out.isEnabled()
    assert "Add a user" in sign_out.toolTip()  # says why, in the menu
    assert window.menuBar().findChild(QMenu, "menu_file").toolTipsVisible()
    assert window.sign_out() is False  # nothing happens


def test_adding_a_user_turns_sign_out_on(qtbot, make_window, db):
    owner = users.single_user_context(db)
    users.change_password(owner, OWNER_PASSWORD)
    window = make_window(owner)
    assert not window.commands.sign_out.isEnabled()
    dialog = window.manage_users()
    added = dialog.add_user()
    added.username.setText("bob")
    added.password.setText(BOB_PASSWORD)
    added.again.setText(BOB_PASSWORD)
    added.accept()
    assert window.commands.sign_out.isEnabled()


def test_sign_out_then_sign_in_as_someone_else_applies_their_role(qtbot, make_window, db, prompter):
    db, owner = team_db(db)
    admin = users.sign_in(db, owner, OWNER_PASSWORD)
    window = make_window(admin)
    assert window.tabs.isTabVisible(EXPORTS_TAB) and window.tabs.isTabVisible(REQUESTS_TAB)
    window.commands.show_exports.trigger()
    window.prospects.search.setText("something the admin looked for")
    editing = window.new_prospect()  # an open dialog of the admin's
    assert isinstance(editing, ProspectDialog) and editing.isVisible()

    seen = {}

    def sign_in(parent, database):
        # What is on screen while the next person types their password.
        seen["tabs visible"] = window.tabs.isVisible()
        seen["dialog visible"] = editing.isVisible()
        seen["title"] = window.windowTitle()
        seen["menus enabled"] = window.menuBar().isEnabled()
        return users.sign_in(database, "bob", BOB_PASSWORD)

    prompter.sign_in = sign_in
    # Through the real menu: File > Sign out.
    file_menu = window.menuBar().findChild(QMenu, "menu_file")
    assert window.commands.sign_out in file_menu.actions()
    assert window.commands.sign_out.isEnabled()
    window.commands.sign_out.trigger()

    assert seen == {
        "tabs visible": False,
        "dialog visible": False,
        "title": "crm.db — CRM Desktop — signed out",
        "menus enabled": False,
    }
    assert (window.ctx.user, window.ctx.role) == ("bob", Role.SALES)
    assert window.windowTitle() == "crm.db — CRM Desktop — Bob Jones (sales)"
    assert user_label(window).text() == "Bob Jones · Sales"
    assert window.tabs.isVisible() and window.tabs.currentIndex() == PROSPECTS_TAB
    assert window.prospects.search.text() == ""  # the previous user's search is gone
    # Sales sees neither exports nor requests, nor the admin's menu items.
    assert not window.tabs.isTabVisible(EXPORTS_TAB)
    assert not window.tabs.isTabVisible(REQUESTS_TAB)
    assert not window.commands.manage_users.isVisible()
    assert not window.commands.export_campaign.isVisible()
    assert window.menuBar().isEnabled()
    assert (owner, "sign-out") in audit_actions(db)
    assert audit_actions(db)[-1] == ("bob", "sign-in")


def test_cancelling_the_sign_in_after_sign_out_closes_the_window(qtbot, make_window, db, prompter):
    db, owner = team_db(db)
    window = make_window(users.sign_in(db, "jane", "janes long password"))
    prompter.sign_ins.append(None)  # the next person cancels
    assert window.sign_out() is False
    assert not window.isVisible()
    assert not window.tabs.isVisible()
    assert window.windowTitle().endswith("signed out")
    assert ("jane", "sign-out") in audit_actions(db)


def test_sign_out_is_reachable_with_the_keyboard_from_the_file_menu(
    qtbot, make_window, db, prompter
):
    db, owner = team_db(db)
    window = make_window(users.sign_in(db, "jane", "janes long password"))
    prompter.sign_ins.append(users.sign_in(db, "bob", BOB_PASSWORD))
    file_menu = window.menuBar().findChild(QMenu, "menu_file")
    file_menu.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitUntil(file_menu.isVisible)
    QTest.keyClick(file_menu, Qt.Key.Key_S)  # "&Sign out…"
    qtbot.waitUntil(lambda: window.ctx.user == "bob")
    assert window.windowTitle().endswith("Bob Jones (sales)")
