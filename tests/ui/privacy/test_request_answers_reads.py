"""The Requests tab reads a selected request's prospect and answers on a worker."""

from __future__ import annotations

import threading

import pytest
from reads_support import wait_for_reads
from ui_tabs import REQUESTS_TAB

from crm_desktop.services import prospects as prospect_service
from crm_desktop.services import requests as request_service
from crm_desktop.services import rights
from crm_desktop.ui.privacy import request_actions

TIMEOUT_MS = 10_000


@pytest.fixture
def restriction(ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace", email="ada@oak.sch.uk")
    r = request_service.add_request(ctx, "restriction", prospect_ref=pid)
    return pid, r


def requests_tab(window, qtbot):
    window.tabs.setCurrentIndex(REQUESTS_TAB)
    view = window.requests
    view.refresh()
    wait_for_reads(qtbot)
    return view


def test_the_prospect_and_answers_are_read_off_the_gui_thread(
    qtbot, window, ctx, restriction, monkeypatch
):
    pid, r = restriction
    rights.restrict(ctx, pid, "Accuracy contested", request_id=r.id)
    threads: dict[str, list] = {}

    def recording(name, real):
        def read(*args, **kwargs):
            threads.setdefault(name, []).append(threading.current_thread())
            return real(*args, **kwargs)

        return read

    for module, name in (
        (prospect_service, "get_prospect"),
        (request_service, "request_actions"),
    ):
        monkeypatch.setattr(module, name, recording(name, getattr(module, name)))
    view = requests_tab(window, qtbot)
    assert view.select_request(r.id)
    wait_for_reads(qtbot)
    assert set(threads) == {"get_prospect", "request_actions"}
    assert threading.main_thread() not in {t for ts in threads.values() for t in ts}
    assert "Done to answer it" in view.detail_text()
    assert "Processing restricted" in view.detail_text()
    assert not view.restrict_button.isEnabled()
    assert view.restrict_button.toolTip() == "Ada Lovelace is already restricted"


def test_the_answer_buttons_wait_for_the_read(qtbot, window, ctx, restriction, monkeypatch):
    _pid, r = restriction
    release, armed = threading.Event(), threading.Event()
    real = request_actions.read_answers

    def slow(*args):
        if armed.is_set():
            assert release.wait(TIMEOUT_MS / 1000)
        return real(*args)

    monkeypatch.setattr(request_actions, "read_answers", slow)
    view = requests_tab(window, qtbot)
    view.table.clearSelection()
    wait_for_reads(qtbot)
    armed.set()
    try:
        assert view.select_request(r.id)
        assert "Ada Lovelace" in view.detail_text()  # the request itself shows at once
        assert not any(b.isEnabled() for b in view.answer_buttons())
        assert view.edit_button.isEnabled()  # what needs no read is there at once
    finally:
        release.set()
    wait_for_reads(qtbot)
    assert view.restrict_button.isEnabled()
    assert not view.pack_button.isEnabled() and not view.erase_button.isEnabled()
    assert view.erase_button.toolTip() == "Not for a restriction of processing request"
