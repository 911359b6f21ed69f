"""The Exports tab names each record's filters on its worker, and again when interests change."""

from __future__ import annotations

import threading

from export_support import build_population
from reads_support import wait_for_reads
from ui_tabs import EXPORTS_TAB

from crm_desktop.services import exports, interests
from crm_desktop.services.exports import ExportFilters, ExportRequest
from crm_desktop.ui.common.changes import Change, Kind


def send_support(ctx) -> int:
    return next(i for i, name, _n in interests.list_interests(ctx) if name == "SEND support")


def test_the_filters_are_named_off_the_gui_thread(qtbot, make_window, ctx, tmp_path, monkeypatch):
    build_population(ctx)
    exports.run_export(
        ctx,
        ExportRequest("email", "SENCos", filters=ExportFilters(interest_id=send_support(ctx))),
        tmp_path / "s.csv",
    )
    threads = []
    real = exports.describe_filters

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "describe_filters", recording)
    window = make_window()
    window.tabs.setCurrentIndex(EXPORTS_TAB)
    wait_for_reads(qtbot)
    view = window.exports
    assert "Interest: SEND support" in view.detail_text()
    assert threads and threading.main_thread() not in threads
    # Selecting the record again reads nothing on the GUI thread.
    seen = len(threads)
    view.table.clearSelection()
    view.table.selectRow(0)
    assert "Interest: SEND support" in view.detail_text()
    assert len(threads) == seen


def test_an_interest_renamed_is_named_anew(qtbot, make_window, ctx, tmp_path):
    build_population(ctx)
    send = send_support(ctx)
    exports.run_export(
        ctx, ExportRequest("email", "SENCos", filters=ExportFilters(interest_id=send)),
        tmp_path / "s.csv",
    )  # fmt: skip
    window = make_window()
    window.tabs.setCurrentIndex(EXPORTS_TAB)
    wait_for_reads(qtbot)
    interests.rename_interest(ctx, send, "SEND and inclusion")
    window.bus.publish(Change.of(Kind.INTERESTS))  # as the interests dialog says it
    wait_for_reads(qtbot)
    qtbot.waitUntil(lambda: "Interest: SEND and inclusion" in window.exports.detail_text())
