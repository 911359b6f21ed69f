"""Background tasks: results, progress, Cancel and errors reach the GUI thread."""

from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QWidget

from crm_desktop.errors import Cancelled, CrmError, DuplicateError
from crm_desktop.services import schools
from crm_desktop.services.prospects import count_prospects
from crm_desktop.ui.common import workers
from crm_desktop.ui.common.workers import CANCELLING_TEXT, BackgroundTask, run_with_progress

TIMEOUT_MS = 10_000


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    """A failed test must not leave a worker thread behind to abort the run."""
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


@pytest.fixture
def parent(qtbot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


class Recorder:
    """Every signal of a task, in the order it arrived, with the thread it arrived on."""

    def __init__(self, task: BackgroundTask):
        self.events: list[tuple] = []
        self.threads: set = set()
        task.progressed.connect(lambda d, t: self._add("progressed", d, t))
        task.succeeded.connect(lambda r: self._add("succeeded", r))
        task.failed.connect(lambda m: self._add("failed", m))
        task.cancelled.connect(lambda: self._add("cancelled"))
        task.finished.connect(lambda: self._add("finished"))

    def _add(self, *event) -> None:
        self.events.append(event)
        self.threads.add(QThread.currentThread())

    def names(self) -> list[str]:
        return [e[0] for e in self.events]

    def outcome(self) -> tuple:
        return next(e for e in self.events if e[0] != "progressed" and e[0] != "finished")


def start(qtbot, parent, func, *, title="Working", label="Doing things") -> tuple:
    task = run_with_progress(parent, title, label, func)
    return task, Recorder(task)


def wait_finished(qtbot, task: BackgroundTask) -> None:
    if task.is_running:
        with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
            pass


def test_success_reports_progress_then_result_on_gui_thread(qtbot, parent):
    worker_threads = []

    def func(progress, should_cancel):
        worker_threads.append(threading.current_thread())
        for i in range(1, 4):
            progress(i, 3)
        return {"rows": 3}

    task, rec = start(qtbot, parent, func)
    wait_finished(qtbot, task)

    assert worker_threads and worker_threads[0] is not threading.main_thread()
    assert rec.threads == {QApplication.instance().thread()}
    progress = [e[1:] for e in rec.events if e[0] == "progressed"]
    assert progress, "no progress reached the GUI"
    assert progress[-1] == (3, 3)  # the final value is never throttled away
    assert set(progress) <= {(1, 3), (2, 3), (3, 3)}
    assert progress == sorted(progress)
    assert rec.names()[-2:] == ["succeeded", "finished"]
    assert rec.outcome() == ("succeeded", {"rows": 3})
    assert task.dialog is None  # closed on finish
    assert not task.is_running


def test_dialog_shows_progress_and_cancel_button_stops_the_work(qtbot, parent, monkeypatch):
    monkeypatch.setattr(workers, "SHOW_DELAY_MS", 0)
    halfway = threading.Event()
    saw_cancel = []

    def func(progress, should_cancel):
        progress(5, 10)
        halfway.set()
        for _ in range(1000):  # at most ~10 s, then fail the test below
            if should_cancel():
                saw_cancel.append(True)
                raise Cancelled("stopped")
            threading.Event().wait(0.01)
        return "ran to the end"

    task, rec = start(qtbot, parent, func, title="Importing", label="Importing prospects…")
    qtbot.waitUntil(lambda: halfway.is_set() and ("progressed", 5, 10) in rec.events)
    dialog = task.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.windowTitle() == "Importing"
    assert dialog.labelText() == "Importing prospects…"
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    assert (dialog.minimum(), dialog.maximum(), dialog.value()) == (0, 10, 5)

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert task.cancel_requested
    assert dialog.labelText() == CANCELLING_TEXT
    assert dialog.isVisible()  # stays up until the work has really stopped
    assert not dialog.cancel_button.isEnabled()

    wait_finished(qtbot, task)
    assert saw_cancel == [True]
    assert rec.names()[-2:] == ["cancelled", "finished"]
    assert task.dialog is None


def test_escape_requests_cancel_instead_of_hiding(qtbot, parent, monkeypatch):
    monkeypatch.setattr(workers, "SHOW_DELAY_MS", 0)

    def func(progress, should_cancel):
        for _ in range(1000):
            if should_cancel():
                raise Cancelled("stopped")
            threading.Event().wait(0.01)
        return "ran to the end"

    task, rec = start(qtbot, parent, func)
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible())
    qtbot.keyClick(task.dialog, Qt.Key.Key_Escape)
    assert task.cancel_requested
    assert task.dialog.isVisible()
    wait_finished(qtbot, task)
    assert "cancelled" in rec.names()


def test_latest_progress_arrives_even_when_reports_come_fast(qtbot, parent):
    release = threading.Event()

    def func(progress, should_cancel):
        for i in range(1, 421):
            progress(i, 1000)
        release.wait(TIMEOUT_MS / 1000)  # then stall, as a slow step would
        return None

    task, rec = start(qtbot, parent, func)
    qtbot.waitUntil(lambda: bool(rec.events) and rec.events[-1] == ("progressed", 420, 1000))
    assert task.dialog.value() == 420
    release.set()
    wait_finished(qtbot, task)


def test_busy_indicator_until_a_total_is_known(qtbot, parent, monkeypatch):
    monkeypatch.setattr(workers, "SHOW_DELAY_MS", 0)
    release = threading.Event()

    def func(progress, should_cancel):
        progress(0, 0)
        release.wait(TIMEOUT_MS / 1000)
        return None

    task, rec = start(qtbot, parent, func)
    qtbot.waitUntil(lambda: ("progressed", 0, 0) in rec.events)
    assert (task.dialog.minimum(), task.dialog.maximum()) == (0, 0)
    release.set()
    wait_finished(qtbot, task)


def test_crm_error_becomes_failed_with_its_message(qtbot, parent):
    def func(progress, should_cancel):
        raise DuplicateError("URN 100000 already belongs to Oak Primary.")

    task, rec = start(qtbot, parent, func)
    wait_finished(qtbot, task)
    assert rec.names() == ["failed", "finished"]
    assert rec.outcome() == ("failed", "URN 100000 already belongs to Oak Primary.")


def test_unexpected_error_is_reported_and_logged(qtbot, parent, caplog):
    def func(progress, should_cancel):
        raise ZeroDivisionError("division by zero")

    with caplog.at_level(logging.ERROR, logger="crm_desktop.ui.common.workers"):
        task, rec = start(qtbot, parent, func)
        wait_finished(qtbot, task)
    kind, message = rec.outcome()
    assert kind == "failed"
    assert "went wrong" in message and "division by zero" in message
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].exc_info[0] is ZeroDivisionError


@pytest.mark.parametrize(
    ("raises", "outcome"),
    [
        (None, "succeeded"),
        (Cancelled("stop"), "cancelled"),
        (CrmError("nope"), "failed"),
        (RuntimeError("bug"), "failed"),
    ],
)
def test_finished_is_always_emitted_once_and_last(qtbot, parent, raises, outcome, caplog):
    def func(progress, should_cancel):
        if raises is not None:
            raise raises
        return 42

    task, rec = start(qtbot, parent, func)
    wait_finished(qtbot, task)
    assert rec.names() == [outcome, "finished"]


def test_cancel_all_and_wait_stops_running_tasks(qtbot, parent):
    started = threading.Event()

    def func(progress, should_cancel):
        started.set()
        for _ in range(1000):
            if should_cancel():
                raise Cancelled("stopped")
            threading.Event().wait(0.01)
        return "ran to the end"

    task, rec = start(qtbot, parent, func)
    qtbot.waitUntil(started.is_set)
    assert workers.active_tasks() == [task]
    assert workers.cancel_all_and_wait(TIMEOUT_MS)
    wait_finished(qtbot, task)
    assert rec.names() == ["cancelled", "finished"]
    qtbot.waitUntil(lambda: not workers.active_tasks())


# ------------------------------------------------------------ demo data


def test_demo_data_in_the_background_saves_when_not_cancelled(qtbot, parent, ctx):
    from crm_desktop.services.demo import generate_demo

    task, rec = start(
        qtbot, parent, lambda p, c: generate_demo(ctx, 30, seed=1, progress=p, should_cancel=c)
    )
    wait_finished(qtbot, task)
    kind, result = rec.outcome()
    assert kind == "succeeded"
    assert result.prospects == 30
    assert count_prospects(ctx) == 30
    assert rec.events[-2][0] == "succeeded"
    assert ("progressed", result.schools + 30, result.schools + 30) in rec.events


def test_cancelled_demo_data_saves_nothing(qtbot, parent, ctx):
    from crm_desktop.services.demo import generate_demo

    first_step = threading.Event()
    resume = threading.Event()

    def gated(progress):
        def report(done, total):
            progress(done, total)
            if not first_step.is_set():
                first_step.set()
                resume.wait(TIMEOUT_MS / 1000)  # hold still until the test has cancelled

        return report

    task, rec = start(
        qtbot,
        parent,
        lambda p, c: generate_demo(ctx, 12_000, seed=1, progress=gated(p), should_cancel=c),
    )
    qtbot.waitUntil(first_step.is_set, timeout=TIMEOUT_MS)
    task.cancel()
    resume.set()
    wait_finished(qtbot, task)

    assert rec.names()[-2:] == ["cancelled", "finished"]
    assert count_prospects(ctx) == 0
    assert schools.list_schools(ctx) == []
