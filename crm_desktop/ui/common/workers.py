"""Long work off the GUI thread, with a progress dialog and Cancel.

Imports, exports, reports, backups and demo data can take seconds or
minutes; running them on the GUI thread freezes the window, and calling
``processEvents()`` to paper over that invites re-entrancy bugs. Instead
:func:`run_with_progress` runs the work on a ``QThread`` and reports back
through queued signals, so every GUI update happens on the GUI thread.

The work is a plain function ``func(progress, should_cancel)``: it knows
nothing about Qt, so the same service code serves the CLI. It calls
``progress(done, total)`` as it goes (from the worker thread) and checks
``should_cancel()`` at safe points, raising :class:`~crm_desktop.errors.Cancelled`
to stop with nothing saved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QProgressBar, QProgressDialog, QPushButton, QWidget

from crm_desktop.errors import Cancelled, CrmError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
WorkFn = Callable[[ProgressFn, CancelFn], Any]

# Quick tasks finish before the dialog appears, so it does not flash.
SHOW_DELAY_MS = 400
CANCELLING_TEXT = "Cancelling…"

# Tasks that are running. Qt does not own them, so Python must keep them
# (and their QThread) alive until the thread has really finished.
_ACTIVE: set[BackgroundTask] = set()


class _WorkerThread(QThread):
    """Runs the work function and reports the outcome through signals.

    Signals are emitted from the worker thread; Qt queues them to the
    :class:`BackgroundTask`, which lives on the GUI thread.

    Progress is coalesced: the worker only records the latest value, and
    signals ``progressChanged`` when no earlier notice is still waiting in
    the GUI's queue. A task reporting every row cannot flood the event
    queue, and the latest value is never lost (the GUI reads it when it
    gets round to the notice).
    """

    progressChanged = Signal()
    outcome = Signal(str, object)  # "succeeded" | "failed" | "cancelled", payload

    def __init__(self, func: WorkFn, cancel_flag: threading.Event):
        super().__init__()
        self._func = func
        self._cancel_flag = cancel_flag
        self._latest: tuple[int, int] | None = None
        self._notice_pending = False
        self.error: BaseException | None = None

    def _progress(self, done: int, total: int) -> None:
        self._latest = (int(done), int(total))  # written before the flag is read
        if not self._notice_pending:
            self._notice_pending = True
            self.progressChanged.emit()

    def take_progress(self) -> tuple[int, int] | None:
        """The latest progress (GUI thread). Clears the flag before reading."""
        self._notice_pending = False
        return self._latest

    def run(self) -> None:
        try:
            result = self._func(self._progress, self._cancel_flag.is_set)
        except Cancelled:
            self.outcome.emit("cancelled", None)
        except CrmError as exc:
            self.error = exc
            self.outcome.emit("failed", str(exc))
        except Exception as exc:
            log.exception("Background task failed unexpectedly")
            self.error = exc
            self.outcome.emit("failed", f"Something went wrong and the task stopped: {exc}")
        else:
            self.outcome.emit("succeeded", result)


class _ProgressDialog(QProgressDialog):
    """A progress dialog that stays up until the work has really stopped.

    ``QProgressDialog`` hides itself on Cancel, on Esc and on close, while
    the worker may still be writing; here all three only *request* a
    cancel, and the task closes the dialog when the thread is done.
    """

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None):
        super().__init__(parent)
        self._may_close = False
        # Our own bar: QProgressDialog.setValue() calls processEvents() on a
        # modal dialog, which we never want.
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 0)  # busy until a total is known
        self.setBar(self.progress_bar)
        # Keep the built-in button: replacing it with setCancelButton() leaves
        # a second Esc shortcut behind, and two make Esc ambiguous (dead).
        self.setCancelButtonText("Cancel")
        self.cancel_button: QPushButton = self.findChild(QPushButton)
        self.canceled.disconnect(self.cancel)
        self.canceled.connect(self.cancelRequested)
        self.setAutoClose(False)
        self.setAutoReset(False)
        # We decide when to show it (SHOW_DELAY_MS), not its own 4 s timer.
        self.setMinimumDuration(24 * 60 * 60 * 1000)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(360)

    def reject(self) -> None:  # Esc
        self.cancelRequested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            event.accept()
        else:
            event.ignore()
            self.cancelRequested.emit()

    def finish(self) -> None:
        self._may_close = True
        self.hide()


class BackgroundTask(QObject):
    """One piece of work on a worker thread, seen from the GUI thread.

    Signals (all delivered on the GUI thread):

    ``progressed(done, total)``
        The work reported progress. Rapid reports are coalesced, so some
        values may be skipped, but the latest one always arrives.
    ``succeeded(result)``
        The work returned ``result``.
    ``failed(message)``
        The work raised: the text of a :class:`CrmError`, or a short generic
        message plus the exception text for a bug (which is also logged).
    ``cancelled()``
        The work raised :class:`Cancelled` (normally after a Cancel request).
    ``finished()``
        Always, last, once the worker thread has stopped.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        func: WorkFn,
        *,
        parent_widget: QWidget | None,
        title: str,
        label: str,
        quiet: bool = False,
    ) -> None:
        """``quiet``: no progress dialog, and not one of :func:`active_tasks`.

        For short reads (see :mod:`crm_desktop.ui.common.reads`): nobody is
        asked to wait for them or cancel them, but :func:`cancel_all_and_wait`
        still waits for their threads, so none outlives the window.
        """
        super().__init__()
        self.quiet = quiet
        self._cancel_flag = threading.Event()
        self._outcome: tuple[str, object] | None = None
        self._done = False
        self._thread = _WorkerThread(func, self._cancel_flag)
        self._last_progress: tuple[int, int] | None = None
        self._thread.progressChanged.connect(self._on_progress)
        self._thread.outcome.connect(self._on_outcome)
        self._thread.finished.connect(self._on_thread_finished)

        self._dialog: _ProgressDialog | None = None
        if not quiet:
            self._dialog = _ProgressDialog(parent_widget)
            self._dialog.setWindowTitle(title)
            self._dialog.setLabelText(label)
            self._dialog.cancelRequested.connect(self.cancel)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_dialog)

    @classmethod
    def quiet_read(cls, func: Callable[[], object]) -> BackgroundTask:
        """A quiet task running ``func()`` (no progress, no Cancel): a read."""
        return cls(lambda _progress, _cancel: func(), parent_widget=None, title="", label="",
                   quiet=True)  # fmt: skip

    # ------------------------------------------------------------ public

    @property
    def dialog(self) -> QProgressDialog | None:
        """The progress dialog while the task runs; None once it is closed."""
        return self._live_dialog()

    @property
    def is_running(self) -> bool:
        return not self._done

    @property
    def error(self) -> BaseException | None:
        """What the work raised (a :class:`CrmError` or a bug), once ``failed`` was sent."""
        return self._thread.error

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_flag.is_set()

    def start(self) -> None:
        _ACTIVE.add(self)
        self._show_timer.start(SHOW_DELAY_MS)
        self._thread.start()

    @Slot()
    def cancel(self) -> None:
        """Ask the work to stop; it does so at its next ``should_cancel()`` check."""
        if self._done or self._cancel_flag.is_set():
            return
        self._cancel_flag.set()
        if (dialog := self._live_dialog()) is not None:
            dialog.setLabelText(CANCELLING_TEXT)
            dialog.cancel_button.setEnabled(False)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the worker thread stops (for shutdown, not for the GUI)."""
        if timeout_ms < 0:
            return self._thread.wait()
        return self._thread.wait(timeout_ms)

    # ----------------------------------------------------------- private

    def _live_dialog(self) -> _ProgressDialog | None:
        # The parent widget may have been closed (and the dialog with it).
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            return self._dialog
        return None

    @Slot()
    def _show_dialog(self) -> None:
        if (dialog := self._live_dialog()) is not None and not self._done:
            dialog.show()

    @Slot()
    def _on_progress(self) -> None:
        value = self._thread.take_progress()
        if self._done or value is None or value == self._last_progress:
            return
        self._last_progress = value
        done, total = value
        if (dialog := self._live_dialog()) is not None and total > 0:
            bar = dialog.progress_bar
            if bar.maximum() != total:
                bar.setRange(0, total)
            bar.setValue(max(0, min(done, total)))
        self.progressed.emit(done, total)

    @Slot(str, object)
    def _on_outcome(self, kind: str, payload: object) -> None:
        self._outcome = (kind, payload)

    @Slot()
    def _on_thread_finished(self) -> None:
        # QThread.finished is emitted just before the thread exits; wait for
        # that so nothing is destroyed under a running thread. It is instant.
        self._thread.wait()
        self._on_progress()  # a last value the queue had not delivered yet
        self._done = True
        self._show_timer.stop()
        if (dialog := self._live_dialog()) is not None:
            dialog.finish()
            dialog.deleteLater()
        self._dialog = None
        kind, payload = self._outcome or ("failed", "The task stopped unexpectedly.")
        try:
            if kind == "succeeded":
                self.succeeded.emit(payload)
            elif kind == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(str(payload))
        finally:
            self.finished.emit()
            # Let go from a fresh stack, not while Qt is delivering to us.
            QTimer.singleShot(0, lambda: _ACTIVE.discard(self))


def run_with_progress(
    parent: QWidget | None, title: str, label: str, func: WorkFn
) -> BackgroundTask:
    """Run ``func(progress, should_cancel)`` on a worker thread.

    A window-modal progress dialog over ``parent`` appears if the work takes
    longer than :data:`SHOW_DELAY_MS`; its Cancel button (or Esc) sets the
    cancel flag. Connect to the returned task's signals for the result;
    they arrive on the GUI thread. The caller need not keep a reference.
    """
    task = BackgroundTask(func, parent_widget=parent, title=title, label=label)
    task.start()
    return task


def active_tasks() -> list[BackgroundTask]:
    """Tasks still running (for a main window deciding whether it may close).

    Quiet tasks (reads) are left out: they finish on their own in moments.
    """
    return [t for t in _ACTIVE if t.is_running and not t.quiet]


def running_tasks() -> list[BackgroundTask]:
    """Every task whose thread still runs, quiet reads included."""
    return [t for t in _ACTIVE if t.is_running]


def cancel_all_and_wait(timeout_ms: int = 10_000) -> bool:
    """Cancel every running task and wait for its thread; True if all stopped.

    For application shutdown: a QThread destroyed while running aborts the
    process. Result signals of tasks stopped this way are not delivered.
    """
    tasks = running_tasks()
    for task in tasks:
        task.cancel()
    deadline = time.monotonic() + timeout_ms / 1000
    stopped = True
    for task in tasks:
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        stopped = task.wait(remaining) and stopped
    return stopped


class StopsWorkOnReject:
    """For a dialog (before QDialog in the bases) with ``running_task()``:
    Esc, Cancel or closing it cancels the running work first (which then keeps
    nothing), and closes the dialog once the work has stopped."""

    _closing = False

    def running_task(self) -> BackgroundTask | None:
        raise NotImplementedError

    def reject(self) -> None:
        task = self.running_task()
        if task is None:
            super().reject()
            return
        if not self._closing:
            self._closing = True
            task.finished.connect(self._close_after_task)
        task.cancel()

    def _close_after_task(self) -> None:
        self._closing = False
        self.reject()
