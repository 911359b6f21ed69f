"""Reads that can be slow run on a worker thread, and only the latest one counts.

A page that lists follow-ups, requests or schools, or the pane that shows a
prospect's whole record, asks the database for more than a moment's work
once the tables grow, or once the database is a server across a network.
Asking on the GUI thread freezes the window for that long. A :class:`Reader`
runs the read on a worker thread instead (a quiet
:class:`~crm_desktop.ui.common.workers.BackgroundTask`: no progress dialog,
no Cancel) and hands the result to a callback on the GUI thread.

The read is a plain function of no arguments, normally a lambda over service
calls; each service opens its own session from the :class:`Context`, so the
worker never shares a session with the GUI thread. Writes (a dialog's Save)
stay where they are: they are short, and the person waits for their answer.

One reader serves one target (a page, a pane). Starting a read supersedes
any read of the same reader still running: its result, or its error, is
dropped when it arrives, so clicking through prospects never shows an
older one last. A :class:`~crm_desktop.errors.CrmError` reaches the person
as a message (:func:`~crm_desktop.ui.common.messages.show_error`), as it did
when the read ran on the GUI thread; anything else is a bug and is raised
again on the GUI thread, so tests fail loudly on it.

If a read takes longer than :data:`LOADING_DELAY_MS`, "Loading…" covers the
target until the result arrives; a quick read shows nothing, so pages do not
flicker. Nothing here calls ``processEvents()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QItemSelectionModel, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSplitter, QWidget

from crm_desktop.errors import CrmError
from crm_desktop.ui.common import messages, workers

#: How long a read may take before "Loading…" appears over its target.
LOADING_DELAY_MS = 150
LOADING_TEXT = "Loading…"

ReadFn = Callable[[], Any]
ResultFn = Callable[[Any], None]
ErrorFn = Callable[[CrmError], bool | None]

_quit_hook_installed = False


class LoadingCover(QLabel):
    """ "Loading…" laid over a widget, following its size."""

    def __init__(self, target: QWidget):
        super().__init__(LOADING_TEXT, target)
        self.setObjectName("loadingCover")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAutoFillBackground(True)  # hides the stale content beneath
        self.hide()
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False

    def cover(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()


class Reader(QObject):
    """Runs one target's reads off the GUI thread; delivers only the newest.

    ``owner`` is the widget the results are for: errors are shown over it,
    and the reader dies with it (a result arriving after that is dropped).
    ``cover`` is the widget "Loading…" covers after :data:`LOADING_DELAY_MS`
    (default: ``owner``; None for no cover, e.g. a dialog's list that keeps
    its previous rows meanwhile). ``error_title`` titles the error message.
    """

    def __init__(
        self,
        owner: QWidget,
        *,
        cover: QWidget | None | bool = True,
        error_title: str = "",
    ):
        super().__init__(owner)
        self._owner = owner
        self._error_title = error_title
        self._latest: workers.BackgroundTask | None = None
        self._cover_target = owner if cover is True else cover or None
        if isinstance(self._cover_target, QSplitter):
            # A splitter makes every child widget a pane: the cover would
            # become a pane of its own instead of lying over the others.
            raise TypeError("cover one of the splitter's panes, or its parent, not a splitter")
        self._cover: LoadingCover | None = None
        self._loading_timer = QTimer(self)
        self._loading_timer.setSingleShot(True)
        self._loading_timer.timeout.connect(self._show_loading)
        self.generation = 0  # reads started so far (tests wait on it)
        self.delivered = 0  # the generation whose outcome was last handled

    # ------------------------------------------------------------- public

    @property
    def pending(self) -> bool:
        """True while the newest read has not been delivered yet."""
        return self._latest is not None

    @property
    def loading_shown(self) -> bool:
        return self._cover is not None and self._cover.isVisible()

    def read(
        self,
        func: ReadFn,
        done: ResultFn,
        *,
        failed: ErrorFn | None = None,
    ) -> None:
        """Run ``func()`` on a worker; then ``done(result)`` on the GUI thread.

        On a :class:`CrmError`, ``failed(error)`` runs if given; unless it
        returns True (handled), the error is shown as a message. A newer
        :meth:`read` on this reader drops this one's outcome.
        """
        _install_quit_hook()
        self.generation += 1
        generation = self.generation
        task = workers.BackgroundTask.quiet_read(func)
        self._latest = task
        task.succeeded.connect(lambda result: self._deliver(task, generation, done, result))
        task.failed.connect(lambda _message: self._fail(task, generation, failed))
        waiting = self.loading_shown or self._loading_timer.isActive()
        if self._cover_target is not None and not waiting:
            self._loading_timer.start(LOADING_DELAY_MS)
        task.start()

    def cancel(self) -> None:
        """Forget the read in flight: its outcome will be dropped."""
        if self._latest is not None:
            self._latest = None
            self.delivered = self.generation
            self._stop_loading()

    # ------------------------------------------------------------ private

    def _current(self, task: workers.BackgroundTask) -> bool:
        return shiboken6.isValid(self) and task is self._latest

    def _settle(self, generation: int) -> None:
        self._latest = None
        self.delivered = generation
        self._stop_loading()

    def _deliver(
        self, task: workers.BackgroundTask, generation: int, done: ResultFn, result: Any
    ) -> None:
        if not self._current(task):
            return  # superseded, or the owner is gone
        self._settle(generation)
        done(result)

    def _fail(self, task: workers.BackgroundTask, generation: int, failed: ErrorFn | None) -> None:
        if not self._current(task):
            return
        self._settle(generation)
        error = task.error
        if not isinstance(error, CrmError):
            # A bug: raise it where a GUI-thread read would have raised it.
            raise error if error is not None else RuntimeError("A read stopped unexpectedly.")
        if failed is not None and failed(error):
            return
        if self._error_title:
            messages.show_error(self._owner, error, self._error_title)
        else:
            messages.show_error(self._owner, error)

    def _show_loading(self) -> None:
        if self._latest is None or self._cover_target is None:
            return
        if not shiboken6.isValid(self._cover_target):
            return
        if self._cover is None:
            self._cover = LoadingCover(self._cover_target)
        self._cover.cover()

    def _stop_loading(self) -> None:
        self._loading_timer.stop()
        if self._cover is not None and shiboken6.isValid(self._cover):
            self._cover.hide()


def give_current_row(view: QAbstractItemView) -> None:
    """Once rows have arrived: what ``view`` does when the focus comes to it.

    A view that took the focus while still empty (its rows were being read)
    has no current row, where Qt gives a view with rows one when it takes
    the focus: give it the first now, selecting nothing, as Qt would.
    """
    model = view.model()
    if model is None or not view.hasFocus() or view.currentIndex().isValid():
        return
    if model.rowCount():
        view.selectionModel().setCurrentIndex(
            model.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate
        )


def pending_reads() -> int:
    """How many reads still run on worker threads (for tests and shutdown)."""
    return sum(1 for task in workers.running_tasks() if task.quiet)


def _wait_for_reads() -> None:
    workers.cancel_all_and_wait()


def _install_quit_hook() -> None:
    # A QThread destroyed while it runs aborts the process: at quit, let
    # every read finish first (they are short; there is nothing to cancel).
    global _quit_hook_installed
    app = QCoreApplication.instance()
    if _quit_hook_installed or app is None:
        return
    app.aboutToQuit.connect(_wait_for_reads)
    _quit_hook_installed = True


class LoadsWhenShown:
    """Mixin for a page (before ``QWidget`` in its bases) whose list is read
    when it is first shown, not when it is built, so start-up reads nothing
    for tabs nobody opened.

    The page sets ``self._loaded = True`` when it reads its list, has a
    ``refresh()`` that reads it, and its :class:`Reader` as ``self._reader``.
    """

    #: Read the list when first shown. The window sets it False: it refreshes a page
    #: when it shows it (with the changes it missed), so the page need not.
    load_on_show = True
    _loaded = False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The list is read when the page is first shown, not when it is built."""
        super().showEvent(event)  # type: ignore[misc]
        if self.load_on_show and not self._loaded:
            self.refresh()  # type: ignore[attr-defined]

    @property
    def reading(self) -> bool:
        """True while a read of the list is under way."""
        return self._reader.pending  # type: ignore[attr-defined]
