"""Reads on a worker: off the GUI thread, newest only, errors as messages, "Loading…" late."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QSplitter, QWidget
from reads_support import wait_for_reads

from crm_desktop.errors import CrmError, NotFoundError
from crm_desktop.ui.common import reads, workers
from crm_desktop.ui.common.reads import LOADING_DELAY_MS, LOADING_TEXT, Reader

TIMEOUT_MS = 10_000
PACKAGE = Path(__file__).resolve().parents[3] / "crm_desktop"


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


@pytest.fixture
def owner(qtbot) -> QWidget:
    widget = QWidget()
    widget.resize(300, 200)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_read_runs_on_a_worker_and_the_result_reaches_the_gui_thread(qtbot, owner):
    seen: dict[str, object] = {}

    def read():
        seen["read_thread"] = threading.current_thread()
        return 42

    def done(result):
        seen["result"] = result
        seen["done_thread"] = threading.current_thread()

    reader = Reader(owner)
    reader.read(read, done)
    assert reader.pending
    qtbot.waitUntil(lambda: "result" in seen, timeout=TIMEOUT_MS)
    assert seen["result"] == 42
    assert seen["read_thread"] is not threading.main_thread()
    assert seen["done_thread"] is threading.main_thread()
    assert not reader.pending
    # Not a task anyone is asked to wait for or cancel (sign out, close).
    assert workers.active_tasks() == []


def test_a_newer_read_drops_the_result_of_an_older_one(qtbot, owner):
    release_first = threading.Event()
    delivered: list[str] = []

    def slow_first():
        release_first.wait(TIMEOUT_MS / 1000)
        return "first"

    reader = Reader(owner)
    reader.read(slow_first, delivered.append)
    reader.read(lambda: "second", delivered.append)
    qtbot.waitUntil(lambda: delivered == ["second"], timeout=TIMEOUT_MS)
    release_first.set()  # the first now finishes, after the second
    wait_for_reads(qtbot)
    assert delivered == ["second"]
    assert not reader.pending


def test_a_stale_error_is_dropped_too(qtbot, owner, prompter):
    release_first = threading.Event()
    delivered: list[str] = []

    def failing_first():
        release_first.wait(TIMEOUT_MS / 1000)
        raise NotFoundError("gone")

    reader = Reader(owner)
    reader.read(failing_first, delivered.append)
    reader.read(lambda: "second", delivered.append)
    qtbot.waitUntil(lambda: delivered == ["second"], timeout=TIMEOUT_MS)
    release_first.set()
    wait_for_reads(qtbot)
    assert prompter.messages == []


def test_an_error_reaches_the_person_as_a_message(qtbot, owner, prompter):
    def read():
        raise CrmError("The database is busy; try again in a moment.")

    reader = Reader(owner, error_title="Could not load the list")
    delivered: list[object] = []
    reader.read(read, delivered.append)
    qtbot.waitUntil(lambda: bool(prompter.messages), timeout=TIMEOUT_MS)
    assert prompter.messages == [
        ("error", "Could not load the list", "The database is busy; try again in a moment.")
    ]
    assert delivered == []
    assert not reader.pending


def test_an_error_the_page_handles_itself_is_not_shown(qtbot, owner, prompter):
    handled: list[CrmError] = []

    def read():
        raise NotFoundError("That prospect no longer exists.")

    reader = Reader(owner)
    reader.read(read, lambda _r: None, failed=lambda exc: handled.append(exc) or True)
    qtbot.waitUntil(lambda: bool(handled), timeout=TIMEOUT_MS)
    assert isinstance(handled[0], NotFoundError)
    assert prompter.messages == []


def test_a_bug_in_a_read_is_raised_on_the_gui_thread(qtbot, owner):
    def read():
        raise ZeroDivisionError("division by zero")

    reader = Reader(owner)
    with qtbot.captureExceptions() as raised:
        reader.read(read, lambda _r: None)
        qtbot.waitUntil(lambda: bool(raised), timeout=TIMEOUT_MS)
    assert isinstance(raised[0][1], ZeroDivisionError)


def test_loading_shows_only_when_a_read_is_slow(qtbot, owner):
    release = threading.Event()
    delivered: list[str] = []
    reader = Reader(owner)

    reader.read(lambda: "quick", delivered.append)
    qtbot.waitUntil(lambda: delivered == ["quick"], timeout=TIMEOUT_MS)
    qtbot.wait(LOADING_DELAY_MS * 2)
    assert not reader.loading_shown  # a quick read never covers the page

    def slow():
        release.wait(TIMEOUT_MS / 1000)
        return "slow"

    reader.read(slow, delivered.append)
    assert not reader.loading_shown  # not at once: no flicker
    qtbot.waitUntil(lambda: reader.loading_shown, timeout=TIMEOUT_MS)
    cover = owner.findChild(reads.LoadingCover)
    assert cover.text() == LOADING_TEXT
    assert cover.geometry() == owner.rect()
    release.set()
    qtbot.waitUntil(lambda: delivered == ["quick", "slow"], timeout=TIMEOUT_MS)
    assert not reader.loading_shown


def test_a_result_for_a_closed_page_is_dropped(qtbot):
    release = threading.Event()
    delivered: list[str] = []
    widget = QWidget()
    reader = Reader(widget)

    def slow():
        release.wait(TIMEOUT_MS / 1000)
        return "late"

    reader.read(slow, delivered.append)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not _alive(reader), timeout=TIMEOUT_MS)
    release.set()
    wait_for_reads(qtbot)
    assert delivered == []


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_nothing_in_the_package_calls_process_events():
    callers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "processEvents(" in line
        and not line.lstrip().startswith("#")
        and "``processEvents()``" not in line
    ]
    assert callers == []


def test_a_splitter_cannot_be_covered(qtbot, owner):
    # Its children become panes, so "Loading…" would be a pane of its own.
    splitter = QSplitter(owner)
    with pytest.raises(TypeError, match="splitter"):
        Reader(owner, cover=splitter)
    Reader(owner, cover=owner)  # its parent can
