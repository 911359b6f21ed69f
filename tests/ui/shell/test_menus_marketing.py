"""The Marketing menu and the Exports tab: there, with shortcuts, opening the right things.

The suppression and assessment dialogs belong to another part of the app;
these tests only check that the menu opens them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu
from ui_tabs import EXPORTS_TAB, PROSPECTS_TAB

from crm_desktop.ui.exports.export_wizard import ExportWizard
from crm_desktop.ui.marketing.assessments_dialog import AssessmentsDialog
from crm_desktop.ui.marketing.suppression_dialog import SuppressionDialog

CTRL = Qt.KeyboardModifier.ControlModifier


def marketing_menu(window) -> QMenu:
    return window.menuBar().findChild(QMenu, "menu_marketing")


def test_marketing_menu_lists_its_items_with_shortcuts(qtbot, window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Marketing") == titles.index("&Prospect") + 1
    items = [a for a in marketing_menu(window).actions() if not a.isSeparator()]
    assert [a.text() for a in items] == [
        "&Export campaign list…",
        "&Import unsubscribes from email tool…",
        "&Suppression list…",
        "&Legitimate-interest assessments…",
    ]
    export = window.commands.export_campaign
    assert export.shortcut() == QKeySequence("Ctrl+E")
    assert "Ctrl+E" in export.toolTip()
    assert window.commands.show_exports.shortcut() == QKeySequence("Ctrl+4")
    assert window.tabs.tabText(EXPORTS_TAB) == "Exports"
    # Every shortcut in the window is used once.
    keys = [a.shortcut().toString() for a in window.commands if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys))


def test_each_item_opens_its_dialog(qtbot, window, prompter):
    window.commands.export_campaign.trigger()
    qtbot.waitUntil(lambda: window.findChild(ExportWizard) is not None)
    wizard = window.findChild(ExportWizard)
    assert wizard.isVisible()
    wizard.reject()

    for action, dialog_type in (
        (window.commands.suppression_list, SuppressionDialog),
        (window.commands.li_assessments, AssessmentsDialog),
    ):
        action.trigger()
        qtbot.waitUntil(lambda t=dialog_type: window.findChild(t) is not None)
        dialog = window.findChild(dialog_type)
        qtbot.waitUntil(dialog.isVisible)
        dialog.reject()

    prompter.files = [None]  # the file chooser opens; the user cancels it
    window.commands.import_unsubscribes.trigger()
    assert prompter.files == [] and prompter.messages == []


def test_ctrl_4_and_ctrl_1_switch_between_exports_and_prospects(qtbot, window):
    qtbot.keyClick(window.prospects.table, Qt.Key.Key_4, CTRL)
    assert window.tabs.currentIndex() == EXPORTS_TAB
    assert window.exports.isVisible()
    qtbot.keyClick(window.exports.table, Qt.Key.Key_1, CTRL)
    assert window.tabs.currentIndex() == PROSPECTS_TAB
