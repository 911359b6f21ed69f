"""File > Settings reads what is stored on a worker; the form waits for it."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox
from reads_support import wait_for_reads

from crm_desktop.errors import DatabaseError
from crm_desktop.services import settings, users
from crm_desktop.ui.admin.settings_dialog import SettingsDialog
from crm_desktop.ui.common import workers

TIMEOUT_MS = 10_000
CONTROLLER = {
    "name": "Acme Learning Ltd", "address": "1 Park Row\nLeeds LS1 5AB",
    "email": "privacy@acme-learning.co.uk", "dpo_name": "Priya Shah",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


def open_settings(qtbot, ctx) -> SettingsDialog:
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    return dialog


def test_what_is_stored_is_read_off_the_gui_thread(qtbot, ctx, monkeypatch):
    settings.set_controller(ctx, **CONTROLLER)
    threads = []
    for module, name in ((settings, "get_controller"), (users, "display_name")):
        real = getattr(module, name)

        def recording(*args, _real=real, **kwargs):
            threads.append(threading.current_thread())
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
    dialog = open_settings(qtbot, ctx)
    wait_for_reads(qtbot)
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert dialog.name.text() == "Acme Learning Ltd"
    assert dialog.address.toPlainText() == "1 Park Row\nLeeds LS1 5AB"
    assert dialog.dpo_email.text() == ""
    assert dialog.display_name.text() == users.display_name(ctx)
    assert dialog.name.isEnabled() and dialog.name.hasFocus()


def test_the_form_waits_for_what_is_stored_and_saves_nothing_meanwhile(qtbot, ctx, monkeypatch):
    settings.set_controller(ctx, **CONTROLLER)
    release = threading.Event()
    real = settings.get_controller

    def slow(*args, **kwargs):
        assert release.wait(TIMEOUT_MS / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(settings, "get_controller", slow)
    dialog = open_settings(qtbot, ctx)
    try:
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        assert not save.isEnabled() and not dialog.name.isEnabled()
        assert dialog.name.placeholderText() == "Loading…"
        QTest.keyClick(dialog, Qt.Key.Key_Return)
        dialog.accept()  # nothing is saved over what is stored
        assert dialog.isVisible() and dialog.errors() == {}
    finally:
        release.set()
    wait_for_reads(qtbot)
    assert save.isEnabled() and dialog.name.text() == "Acme Learning Ltd"
    assert dialog.dpo_email.placeholderText() == "optional; else the contact email"
    monkeypatch.undo()
    assert settings.get_controller(ctx).name == "Acme Learning Ltd"


def test_settings_that_cannot_be_read_are_said_and_cannot_be_saved_over(
    qtbot, ctx, monkeypatch, prompter
):
    def broken(*_args, **_kwargs):
        raise DatabaseError("The database file went away.")

    monkeypatch.setattr(settings, "get_controller", broken)
    dialog = open_settings(qtbot, ctx)
    wait_for_reads(qtbot)
    assert "The database file went away." in prompter.errors()[0]
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()
    assert not dialog.name.isEnabled()
