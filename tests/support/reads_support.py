"""Waiting for the reads a page started on worker threads (see ui/common/reads)."""

from __future__ import annotations

from crm_desktop.ui.common import reads

TIMEOUT_MS = 10_000


def wait_for_reads(qtbot, timeout: int = TIMEOUT_MS) -> None:
    """Until no read runs any more and every result has reached its page."""
    qtbot.waitUntil(lambda: reads.pending_reads() == 0, timeout=timeout)
