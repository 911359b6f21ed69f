"""Opening databases in the GUI: missing ones, read-only ones, passwords, and Qt's libraries."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from ui_shots import save_shot

from crm_desktop.errors import PasswordRequiredError
from crm_desktop.persistence import open_database
from crm_desktop.services import Context, prospects, session
from crm_desktop.services.demo import generate_demo
from crm_desktop.ui.prospects.log_contact_dialog import LogContactDialog
from crm_desktop.ui.shell import housekeeping, opening, platform_check


def _shot(widget, name: str) -> None:
    save_shot(widget, "database", name)


# ------------------------------------------------------ missing databases


def test_app_asks_before_creating_a_database_named_on_the_command_line(qapp, tmp_path, prompter):
    from crm_desktop.ui.shell.app import main

    typo = tmp_path / "missing" / "typo.db"
    prompter.answers = [False]
    assert main(["crm-desktop", "--db", str(typo)]) == 1
    [(title, text)] = prompter.questions
    assert title == "Create a new database?"
    assert f"There is no database at {typo}." in text
    assert not (tmp_path / "missing").exists()


def test_saying_yes_creates_it(qapp, tmp_path, prompter):
    path = tmp_path / "missing" / "new.db"
    prompter.answers = [True]
    db = opening.open_or_ask(None, path, offer_create=True)
    try:
        assert db is not None and db.path == path and path.stat().st_size > 0
    finally:
        db.dispose()


def test_file_open_refuses_a_missing_file_and_creates_nothing(window, tmp_path, prompter):
    before = window.ctx.db.path
    missing = tmp_path / "typo.db"
    prompter.files = [str(missing)]
    assert window.open_database() is False
    assert prompter.errors() == [
        f"No database at {missing}. Create one with: crm init --db {missing}"
    ]
    assert not missing.exists()
    assert window.ctx.db.path == before


def test_file_new_creates_in_a_new_folder(window, tmp_path, prompter):
    target = tmp_path / "new folder" / "team.db"
    prompter.files = [str(target)]
    prompter.answers = [False]  # no demo data
    assert window.new_database() is True
    assert window.ctx.db.path == target and target.exists()


# ------------------------------------------------------------ passwords


def test_a_server_asking_for_a_password_gets_a_password_dialog(qapp, monkeypatch, prompter):
    given: list[str | None] = []

    def server(spec, *, create, password):
        given.append(password)
        if password != "right":
            raise PasswordRequiredError("The database server refused the password (db).",
                                        refused=password is not None)  # fmt: skip
        return "opened"

    monkeypatch.setattr(session, "open_database", server)
    prompter.passwords = ["wrong", "right"]
    url = "postgresql+psycopg://crm:typo@db/crm"
    assert opening.open_or_ask(None, url) == "opened"
    assert given == [None, "wrong", "right"]
    assert [text for _title, text in prompter.password_prompts] == [
        "Password for postgresql+psycopg://crm:***@db/crm:",
        "The database server refused the password (db).\n\n"
        "Password for postgresql+psycopg://crm:***@db/crm:",
    ]
    prompter.passwords = [None]  # cancel: nothing opened, no error
    given.clear()
    assert opening.open_or_ask(None, url) is None


def test_a_password_never_appears_in_a_gui_error(window, prompter):
    from crm_desktop.ui.shell.main_window import MainWindow

    assert isinstance(window, MainWindow)
    assert window.switch_database("postgresql+psycopg://crm:hunter2@127.0.0.1:1/crm") is False
    [error] = prompter.errors()
    assert "hunter2" not in error and "crm:***@127.0.0.1" in error
    assert "hunter2" not in window.windowTitle()


# ------------------------------------------------------------ read-only


@pytest.fixture
def read_only_ctx(db_path):
    writable = open_database(db_path, create=True)
    generate_demo(Context(writable, "alice"), 20, seed=5)
    writable.dispose()
    db = open_database(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    yield Context(db, "alice")
    db.dispose()


EDITING = ("new_prospect", "edit_prospect", "delete_prospect", "log_contact", "load_demo",
           "export_campaign", "import_unsubscribes", "erase_prospect", "new_request")  # fmt: skip


def test_a_read_only_database_shows_a_banner_and_disables_editing(
    qtbot, make_window, read_only_ctx, prompter
):
    window = make_window(read_only_ctx)
    window.resize(1024, 640)
    banner = window.read_only_banner
    assert banner.isVisible() and "Read-only" in banner.label.text()
    assert str(read_only_ctx.db.path) in banner.label.text()
    for name in EDITING:
        assert not window.commands.get(name).isEnabled(), name

    # A mouse click on a row selects it; reading works, editing stays off.
    table = window.prospects.table
    rect = table.visualRect(window.prospects.model.index(0, 0))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.prospects.selected_id() is not None)
    assert window.commands.prospect_history.isEnabled()
    for name in ("edit_prospect", "log_contact", "delete_prospect"):
        assert not window.commands.get(name).isEnabled(), name
    QTest.keyClick(table, Qt.Key.Key_F2)
    QTest.keyClick(table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.findChildren(LogContactDialog) == []  # nothing opened
    assert not window.prospects.detail.marketing.object_button.isEnabled()

    # Searching still works.
    QTest.keyClicks(window.prospects.search, "a")
    window.prospects.apply_query()
    assert window.prospects.model.rowCount() >= 1
    _shot(window, "read-only-1024x640")

    window.tabs.setCurrentIndex(1)  # Follow-ups: marking done is off too
    assert not window.followups.mark_done_button.isEnabled()
    window.tabs.setCurrentIndex(2)
    assert not window.schools.add_button.isEnabled()
    assert not housekeeping.daily_backup(window)  # nothing to back up into a read-only folder
    assert prompter.errors() == []


def test_opening_a_writable_database_again_lifts_the_lock(
    qtbot, make_window, read_only_ctx, tmp_path, prompter
):
    window = make_window(read_only_ctx)
    other = open_database(tmp_path / "other.db", create=True)
    other.dispose()
    prompter.files = [str(tmp_path / "other.db")]
    assert window.open_database() is True
    assert not window.read_only_banner.isVisible()
    assert window.commands.new_prospect.isEnabled()
    window.tabs.setCurrentIndex(2)
    assert window.schools.add_button.isEnabled()


def test_the_banner_reads_on_a_dark_palette(qtbot, make_window, read_only_ctx, qapp):
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, Qt.GlobalColor.black),
                         (QPalette.ColorRole.WindowText, Qt.GlobalColor.white),
                         (QPalette.ColorRole.ToolTipBase, Qt.GlobalColor.darkYellow),
                         (QPalette.ColorRole.ToolTipText, Qt.GlobalColor.white)):  # fmt: skip
        dark.setColor(role, colour)
    previous = qapp.palette()
    qapp.setPalette(dark)
    try:
        window = make_window(read_only_ctx)
        banner = window.read_only_banner
        image = banner.grab().toImage()
        corner = image.pixelColor(2, 2)
        assert corner.name() == dark.color(QPalette.ColorRole.ToolTipBase).name()
        _shot(window, "read-only-dark")
    finally:
        qapp.setPalette(previous)


def test_every_write_is_refused_with_the_read_only_message(read_only_ctx):
    from crm_desktop.domain.validation import ProspectInput
    from crm_desktop.errors import ReadOnlyDatabaseError

    with pytest.raises(ReadOnlyDatabaseError, match="read-only"):
        prospects.create_prospect(
            read_only_ctx, ProspectInput(first_name="A", last_name="B", email="a@b.org")
        )


# ------------------------------------------------- Qt's system libraries


def test_missing_xcb_libraries_give_the_apt_line():
    gone = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    message = platform_check.check_platform(
        environ={}, loads=lambda name: name not in gone, platform="linux"
    )
    assert message is not None
    assert "libxcb-icccm.so.4" in message and "libxcb-keysyms.so.1" in message
    assert "sudo apt install " in message
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"):
        assert package in platform_check.APT_LINE
    assert platform_check.check_platform(environ={}, loads=lambda n: True, platform="linux") is None


@pytest.mark.parametrize(
    ("environ", "qt_args", "platform", "checked"),
    [
        ({}, [], "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, [], "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, [], "linux", False),
        ({}, ["-platform", "offscreen"], "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, ["-platform", "xcb"], "linux", True),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, [], "linux", False),
        ({}, [], "win32", False),
        ({}, [], "darwin", False),
    ],
)
def test_only_the_xcb_platform_is_checked(environ, qt_args, platform, checked):
    assert platform_check.uses_xcb(qt_args, environ, platform) is checked


def test_the_real_app_prints_the_line_instead_of_aborting(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the xcb plugin is Linux only")
    missing = platform_check.missing_libraries()
    if not missing:
        pytest.skip("every library the xcb plugin needs is installed here")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99"}
    proc = subprocess.run(
        [sys.executable, "-m", "crm_desktop.ui.shell.app", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "sudo apt install libxcb1" in proc.stderr
    assert "Aborted" not in proc.stderr and "core dumped" not in proc.stderr
    assert not (tmp_path / "x.db").exists()
