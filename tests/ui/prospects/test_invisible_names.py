"""The prospect form refuses a name typed as only invisible characters, as the CLI does."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from crm_desktop.services import prospects
from crm_desktop.ui.prospects.prospect_dialog import ProspectDialog


def type_text(widget, text: str) -> None:
    """Key presses carrying ``text``, as a keyboard layout or input method sends them.

    (QTest.keyClicks takes ASCII only.)
    """
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
            )


def test_a_zero_width_name_is_refused_in_the_form_and_nothing_is_saved(qtbot, ctx):
    dialog = ProspectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.first_name, "\u200b\u200d")
    QTest.keyClicks(dialog.last_name, "Lovelace")
    QTest.keyClicks(dialog.email, "ada@example.com")
    assert dialog.first_name.text() == "\u200b\u200d"  # typed, though nothing shows
    QTest.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    errors = dialog.errors()
    assert errors["first_name"] == "First name needs at least one visible character."
    assert "last_name" not in errors
    assert dialog.isVisible() and dialog.saved is None
    assert prospects.count_prospects(ctx) == 0
