"""Python's cycle collector paused while a long job builds many objects (an import).

Reading, validating and planning 100,000 rows keeps hundreds of thousands of
objects alive at once; each full collection then walks all of them while
holding the interpreter lock, which stops every other thread (the window,
when the job runs on a GUI worker) for up to a second every few seconds,
and adds seconds to the job itself. Reference counting still frees
everything that is not in a cycle; the collector is switched back on when
the job ends, after a failure too.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cycle collector off for the ``with`` block.

    Nested or concurrent uses (two threads, or the wizard around an import
    that pauses it itself) switch it back on only when the last one ends, and
    only if it was on when the first one began.
    """
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
