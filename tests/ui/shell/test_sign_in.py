"""Signing in from the desktop app once a database has several users."""

from PySide6.QtCore import Qt

from crm_desktop.domain.roles import Role
from crm_desktop.persistence import open_database
from crm_desktop.services import users
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.sign_in_dialog import SignInDialog

PASSWORD = "correct horse battery"


def two_user_db(path):
    db = open_database(path, create=True)
    owner = users.single_user_context(db)
    users.change_password(owner, PASSWORD)
    users.add_user(owner, "bob", "sales", "bobs long password")
    return db


def test_wrong_then_right_password(qtbot, tmp_path):
    db = two_user_db(tmp_path / "team.db")
    dialog = SignInDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText("bob")
    qtbot.keyClicks(dialog.password, "not my password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.ctx is None
    assert dialog.error.text() == "Unknown user name or wrong password."
    assert dialog.password.text() == ""  # cleared for the next try
    # The growing delay is real: an immediate retry is refused, even if right.
    qtbot.keyClicks(dialog.password, "bobs long password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert "wait" in dialog.error.text()
    db.dispose()


def test_right_password_gives_the_users_role(qtbot, tmp_path):
    db = two_user_db(tmp_path / "team.db")
    dialog = SignInDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText("bob")
    qtbot.keyClicks(dialog.password, "bobs long password")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert (dialog.ctx.user, dialog.ctx.role) == ("bob", Role.SALES)
    db.dispose()


def test_single_user_database_needs_no_sign_in(tmp_path, prompter):
    db = open_database(tmp_path / "solo.db", create=True)
    ctx = messages.acting_context(None, db)
    assert ctx.role is Role.ADMIN and prompter.sign_ins == []
    db.dispose()


def test_opening_a_team_database_signs_in_or_stays_put(window, tmp_path, prompter):
    team = tmp_path / "team.db"
    two_user_db(team).dispose()
    before = window.ctx.db.display_name
    prompter.sign_ins.append(None)  # cancel
    assert window.switch_database(team) is False
    assert window.ctx.db.display_name == before
    signed = users.sign_in(open_database(team), "bob", "bobs long password")
    prompter.sign_ins.append(signed)
    assert window.switch_database(team) is True
    assert (window.ctx.user, window.ctx.role) == ("bob", Role.SALES)
    assert window.ctx.db.display_name == str(team)
