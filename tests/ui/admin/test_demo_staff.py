"""Demo staff in File > Users: named, on records, never able to sign in."""

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from reads_support import wait_for_reads

from crm_desktop.services import users
from crm_desktop.services.demo import generate_demo
from crm_desktop.ui.admin.users_dialog import UsersDialog


def test_demo_staff_show_as_such_and_cannot_get_a_password(qtbot, db):
    owner = users.single_user_context(db)
    generate_demo(owner, 30, seed=3, today=date(2026, 6, 1))
    dialog = UsersDialog(owner)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_reads(qtbot)  # the users are read on a worker
    rows = {
        dialog.tree.topLevelItem(i).text(0): dialog.tree.topLevelItem(i)
        for i in range(dialog.tree.topLevelItemCount())
    }
    assert rows["amira.khan"].text(1) == "Amira Khan"
    assert rows["amira.khan"].text(3) == "demo staff (cannot sign in)"
    assert rows[owner.user].text(3) == "active (no password)"
    tree = dialog.tree
    QTest.mouseClick(
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        pos=tree.visualItemRect(rows["amira.khan"]).center(),
    )
    assert dialog.selected() == "amira.khan"
    assert not dialog.reset_button.isEnabled()
    QTest.mouseClick(
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        pos=tree.visualItemRect(rows[owner.user]).center(),
    )
    assert dialog.selected() == owner.user and dialog.reset_button.isEnabled()
    assert not users.sign_in_required(db)
