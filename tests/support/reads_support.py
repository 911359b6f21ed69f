"""Reads a page starts on worker threads (see ui/common/reads): waiting for them, holding
one on its worker until the test releases it, recording the threads they ran on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from crm_desktop.ui.common import reads, workers

TIMEOUT_MS = 10_000


def wait_for_reads(qtbot, timeout: int = TIMEOUT_MS) -> None:
    """Until no read runs any more and every result has reached its page."""
    qtbot.waitUntil(lambda: reads.pending_reads() == 0, timeout=timeout)


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Autouse in every test module that imports it: a test (failed or not) leaves no
    worker thread behind to abort the run."""
    yield
    assert workers.cancel_all_and_wait(TIMEOUT_MS)


class HeldRead:
    """A service function replaced by one that records the thread each call ran on and,
    while held, waits on that thread until :meth:`set` releases it."""

    def __init__(self, name: str, hold: bool) -> None:
        self.name = name
        self.threads: list[threading.Thread] = []
        self._released = threading.Event()
        if not hold:
            self._released.set()

    def set(self) -> None:
        """Release the calls waiting now and let every later call through at once."""
        self._released.set()

    def ran_off_the_gui_thread(self) -> bool:
        """Called at least once, and never on the GUI thread."""
        return bool(self.threads) and threading.main_thread() not in self.threads

    def _wrap(self, real: Callable, hold_if: Callable[..., bool] | None) -> Callable:
        def read(*args, **kwargs):
            self.threads.append(threading.current_thread())
            if hold_if is None or hold_if(*args, **kwargs):
                assert self._released.wait(TIMEOUT_MS / 1000), f"{self.name} held too long"
            return real(*args, **kwargs)

        return read


def _install(monkeypatch, module, name: str, hold: bool, hold_if) -> HeldRead:
    handle = HeldRead(name, hold)
    monkeypatch.setattr(module, name, handle._wrap(getattr(module, name), hold_if))
    return handle


@contextmanager
def held_read(
    monkeypatch,
    module,
    name: str,
    *,
    hold_if: Callable[..., bool] | None = None,
) -> Iterator[HeldRead]:
    """``module.name`` held on the thread that calls it until the handle's ``set()`` or the
    end of the block; ``hold_if(*args, **kwargs)`` holds only the calls it is true for (a
    call the GUI thread makes itself must not wait)."""
    handle = _install(monkeypatch, module, name, True, hold_if)
    try:
        yield handle
    finally:
        handle.set()


def recorded_read(monkeypatch, module, name: str) -> HeldRead:
    """``module.name`` replaced by one only recording the threads it ran on."""
    return _install(monkeypatch, module, name, False, None)


def recorded_reads(monkeypatch, *functions: tuple[object, str]) -> dict[str, HeldRead]:
    """Each (module, name) replaced by one only recording the threads it ran on, by name."""
    return {name: recorded_read(monkeypatch, module, name) for module, name in functions}


def all_ran_off_the_gui_thread(recorded: dict[str, HeldRead]) -> bool:
    """Every recorded function was called, none of them on the GUI thread."""
    return all(handle.ran_off_the_gui_thread() for handle in recorded.values())
