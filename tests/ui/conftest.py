"""Qt fixtures: a scripted prompter, private QSettings, a main window on a test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget
from reads_support import wait_for_reads

from crm_desktop.services.context import Context
from crm_desktop.services.demo import generate_demo
from crm_desktop.ui.common import messages, workers

TIMEOUT_MS = 10_000
BLNS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "blns.txt"

HERE = Path(__file__).resolve().parent

# The offscreen platform plugin has no window system to pass a window's size
# hints to, to raise a popup in or to grab the keyboard for, and says so
# ("This plugin does not support propagateSizeHints()", "... raise()",
# "... grabbing the keyboard") whenever a top-level window with a layout or a
# completer popup appears. That is the test platform talking, not a fault in
# our widgets; every other warning still fails the test.
OFFSCREEN_LIMITS = (
    r"^This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)$"
)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_LIMITS))


class ScriptedPrompter(messages.Prompter):
    """Answers questions from a script and records every message.

    An unexpected question fails the test (raised inside a Qt slot, pytest-qt
    reports it) instead of blocking on a dialog nobody will click.
    """

    def __init__(self) -> None:
        self.answers: list[bool] = []
        self.questions: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str, str]] = []
        self.files: list[str | None] = []
        self.starts: list[str] = []  # where each file dialog opened
        self.offers: list[tuple[str, str, str]] = []  # (title, text, path) of "Open file?"
        self.open_choices: list[str | None] = []  # "file", "folder"; none left: Close
        self.sign_ins: list[object | None] = []  # contexts to return, or None (cancel)
        self.passwords: list[str | None] = []  # answers to password prompts (None: cancel)
        self.password_prompts: list[tuple[str, str]] = []

    def question(self, parent: QWidget | None, title: str, text: str) -> bool:
        self.questions.append((title, text))
        if not self.answers:
            raise AssertionError(f"unexpected question: {title}: {text}")
        return self.answers.pop(0)

    def message(self, parent: QWidget | None, level: str, title: str, text: str) -> None:
        self.messages.append((level, title, text))

    def open_file(
        self, parent: QWidget | None, title: str, filters: str, start: str = ""
    ) -> str | None:
        self.starts.append(start)
        return self._file(title)

    def save_file(
        self, parent: QWidget | None, title: str, filters: str, start: str = ""
    ) -> str | None:
        self.starts.append(start)
        return self._file(title)

    def offer_open(self, parent: QWidget | None, title: str, text: str, path: str) -> str | None:
        self.offers.append((title, text, path))
        return self.open_choices.pop(0) if self.open_choices else None

    def sign_in(self, parent: QWidget | None, db) -> object | None:
        if not self.sign_ins:
            raise AssertionError(f"unexpected sign-in to {db.display_name}")
        return self.sign_ins.pop(0)

    def password(self, parent: QWidget | None, title: str, text: str) -> str | None:
        self.password_prompts.append((title, text))
        if not self.passwords:
            raise AssertionError(f"unexpected password prompt: {title}: {text}")
        return self.passwords.pop(0)

    def _file(self, title: str) -> str | None:
        if not self.files:
            raise AssertionError(f"unexpected file dialog: {title}")
        return self.files.pop(0)

    def errors(self) -> list[str]:
        return [text for level, _title, text in self.messages if level == "error"]


@pytest.fixture(autouse=True)
def prompter(tmp_path) -> ScriptedPrompter:
    """No test ever shows a real question or message box."""
    scripted = ScriptedPrompter()
    previous = messages.set_prompter(scripted)
    # File dialogs remember folders in a file of this test's own.
    folders = messages.set_settings(
        QSettings(str(tmp_path / "folders.ini"), QSettings.Format.IniFormat)
    )
    yield scripted
    messages.set_prompter(previous)
    messages.set_settings(folders)


@pytest.fixture
def styled_app(qapp: QApplication) -> QApplication:
    """The application named and styled as ``crm-desktop`` runs it."""
    from crm_desktop.ui.shell.app import configure_application

    configure_application(qapp)
    yield qapp
    qapp.setStyleSheet("")


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, ctx, settings, styled_app):
    """Build (and show) a main window over ``ctx``; closed and checked at teardown."""
    from crm_desktop.ui.shell.main_window import MainWindow

    def make(context: Context | None = None, window_settings: QSettings | None = None):
        window = MainWindow(context or ctx, window_settings or settings)
        qtbot.addWidget(window)
        with qtbot.waitExposed(window):
            window.show()
        qtbot.waitUntil(window.isActiveWindow)
        wait_for_reads(qtbot)  # the pages' first reads run on workers
        return window

    yield make
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def demo_ctx(ctx) -> Context:
    """``ctx`` with 60 demo prospects (fixed seed)."""
    generate_demo(ctx, 60, seed=11)
    return ctx


@pytest.fixture(scope="session")
def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings without comments (as ``tests/conftest.blns_lines``)."""
    if not BLNS.exists():
        pytest.fail(f"test corpus missing: {BLNS}")
    lines = BLNS.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    return [line for line in lines if line and not line.startswith("#")]
