"""The status bar's total beside a filtered count is read on a worker."""

from __future__ import annotations

import threading

from reads_support import wait_for_reads

from crm_desktop.services import prospects as prospect_service

TIMEOUT_MS = 10_000


def test_the_total_is_read_off_the_gui_thread(qtbot, window, ctx, add_prospect, monkeypatch):
    for first, last in [("Grace", "Hopper"), ("Grace", "Kelly"), ("Alan", "Turing")]:
        add_prospect(first, last)
    window.refresh_all()
    wait_for_reads(qtbot)
    totals = []  # the unfiltered count (the table's own filtered count pages on the GUI thread)
    real = prospect_service.count_prospects

    def recording(ctx, *query, **kwargs):
        if not query and not kwargs:
            totals.append(threading.current_thread())
        return real(ctx, *query, **kwargs)

    monkeypatch.setattr(prospect_service, "count_prospects", recording)
    qtbot.keyClicks(window.prospects.search, "grace")
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 2, timeout=TIMEOUT_MS)
    wait_for_reads(qtbot)
    assert window.count_label.text() == "2 of 3 prospects"
    assert totals and threading.main_thread() not in totals
    window.prospects.search.clear()
    qtbot.waitUntil(lambda: window.prospects.model.rowCount() == 3, timeout=TIMEOUT_MS)
    assert window.count_label.text() == "3 prospects"  # no total needed: said at once
