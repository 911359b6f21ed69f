"""The detail pane shows a long timeline a page at a time, read on a worker (issue 14).

The prospect, the newest page of their correspondence and its length are
read off the GUI thread; older entries come a page at a time from "Show
older" (mouse or keyboard) or when the timeline is scrolled to its end, so
every entry is reachable; a prospect chosen while another's read is still
running is the only one shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QTextBrowser
from reads_support import (
    all_ran_off_the_gui_thread,
    held_read,
    no_thread_left_running,  # noqa: F401 (autouse)
    recorded_reads,
    wait_for_reads,
)
from sqlalchemy import event
from test_detail_origins import click_link

from crm_desktop.domain.models import Correspondence
from crm_desktop.services import correspondence
from crm_desktop.services import prospects as P
from crm_desktop.ui.marketing.feature import MARKETING_PANE
from crm_desktop.ui.prospects.prospect_detail import (
    SHOW_OLDER_SCHEME,
    TIMELINE_PAGE,
    ProspectDetail,
)

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
ENTRIES = 1000


def add_entries(ctx, pid: int, count: int) -> None:
    """``count`` calls, "Call 0" the oldest; every tenth shares its time with the one
    before (ties are ordered by id), as entries logged in one go do."""
    with ctx.db.read() as session:
        for n in range(count):
            when = START + timedelta(hours=n - (1 if n % 10 == 9 else 0))
            session.add(
                Correspondence(
                    prospect_id=pid,
                    kind="call",
                    occurred_at=when,
                    summary=f"Call {n}",
                    logged_by="tester",
                    created_at=when,
                )
            )
        session.commit()


@pytest.fixture
def busy(ctx, add_prospect) -> int:
    pid = add_prospect("Grace", "Hopper")
    add_entries(ctx, pid, ENTRIES)
    return pid


def make_pane(qtbot, ctx) -> ProspectDetail:
    actions = [QAction("Log contact")]
    pane = ProspectDetail(ctx, actions, marketing=MARKETING_PANE)
    pane._test_actions = actions
    qtbot.addWidget(pane)
    pane.resize(520, 640)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def summaries(pane: ProspectDetail) -> list[str]:
    return [c.summary for c in pane.contacts]


def newest_first(ctx, pid: int) -> list[str]:
    return [c.summary for c in correspondence.list_correspondence(ctx, pid)]


def test_the_service_pages_through_every_entry_in_order(ctx, busy):
    everything = correspondence.list_correspondence(ctx, busy)
    assert len(everything) == ENTRIES
    assert correspondence.count_correspondence(ctx, busy) == ENTRIES
    paged, last = [], None
    while page := correspondence.list_correspondence(ctx, busy, limit=30, older_than=last):
        assert len(page) <= 30
        paged += page
        last = page[-1]
    assert [c.id for c in paged] == [c.id for c in everything]  # ties included, none twice


def test_the_first_page_is_the_newest_and_read_off_the_gui_thread(qtbot, ctx, busy, monkeypatch):
    reads = recorded_reads(
        monkeypatch,
        (P, "get_prospect"),
        (correspondence, "list_correspondence"),
        (correspondence, "count_correspondence"),
    )
    pane = make_pane(qtbot, ctx)
    pane.show_prospect(busy)
    wait_for_reads(qtbot)
    assert all_ran_off_the_gui_thread(reads)
    assert summaries(pane) == newest_first(ctx, busy)[:TIMELINE_PAGE]
    assert pane.timeline_total == ENTRIES and pane.has_older
    text = pane.plain_text()
    assert f"Correspondence ({ENTRIES})" in text
    assert f"Showing the newest {TIMELINE_PAGE} of {ENTRIES}" in text
    assert "Call 999" in text and "Call 0\n" not in text


def test_show_older_with_the_mouse_then_the_keyboard_reaches_every_entry(qtbot, ctx, busy):
    pane = make_pane(qtbot, ctx)
    pane.show_prospect(busy)
    wait_for_reads(qtbot)
    click_link(qtbot, pane, f"{SHOW_OLDER_SCHEME}:")
    wait_for_reads(qtbot)
    assert summaries(pane) == newest_first(ctx, busy)[: 2 * TIMELINE_PAGE]

    # The keyboard: Tab goes from link to link; the last is "Show older", Enter follows it.
    browser = pane.findChild(QTextBrowser, "prospectDetailText")
    browser.setFocus()
    shown = len(pane.contacts)
    for _ in range(10):
        qtbot.keyClick(browser, Qt.Key.Key_Tab)
        if browser.textCursor().charFormat().anchorHref().startswith(SHOW_OLDER_SCHEME):
            break
    assert browser.hasFocus()
    assert browser.textCursor().charFormat().anchorHref().startswith(SHOW_OLDER_SCHEME)
    qtbot.keyClick(browser, Qt.Key.Key_Return)
    wait_for_reads(qtbot)
    assert len(pane.contacts) == shown + TIMELINE_PAGE

    # Scrolling to the end of what is shown brings the next page, to the last entry.
    bar = browser.verticalScrollBar()
    for _ in range(ENTRIES // TIMELINE_PAGE + 2):
        if not pane.has_older:
            break
        qtbot.keyClick(browser, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        if bar.value() < bar.maximum():
            bar.setValue(bar.maximum())
        wait_for_reads(qtbot)
    assert summaries(pane) == newest_first(ctx, busy)
    # The pages were added to the text in order: each entry once, newest first.
    shown = re.findall(r"^Call \d+$", pane.plain_text(), re.MULTILINE)
    assert shown == newest_first(ctx, busy)
    assert "Show" not in pane.plain_text().rsplit("Call 0", 1)[1]  # no link below the oldest


def test_choosing_b_while_as_read_is_held_shows_b_only(qtbot, ctx, busy, add_prospect, monkeypatch):
    other = add_prospect("Ada", "Lovelace")
    add_entries(ctx, other, 3)
    pane = make_pane(qtbot, ctx)
    with held_read(
        monkeypatch,
        correspondence,
        "list_correspondence",
        hold_if=lambda _ctx, pid, **_: pid == busy,
    ) as held:
        pane.show_prospect(busy)
        pane.show_prospect(other)
        qtbot.waitUntil(lambda: pane.prospect is not None, timeout=10_000)
        assert pane.prospect.full_name == "Ada Lovelace"
        held.set()  # A's read ends now, after B's: it is dropped
        wait_for_reads(qtbot)
    assert pane.prospect.full_name == "Ada Lovelace"
    assert summaries(pane) == ["Call 2", "Call 1", "Call 0"]
    assert "Grace" not in pane.plain_text()
    assert not pane.has_older and "Show" not in pane.plain_text().split("Correspondence")[-1]


def test_an_older_page_of_a_arriving_after_b_was_chosen_is_dropped(
    qtbot, ctx, busy, add_prospect, monkeypatch
):
    other = add_prospect("Ada", "Lovelace")
    pane = make_pane(qtbot, ctx)
    pane.show_prospect(busy)
    wait_for_reads(qtbot)
    with held_read(
        monkeypatch,
        correspondence,
        "list_correspondence",
        hold_if=lambda _ctx, pid, **kw: kw.get("older_than") is not None,
    ) as held:
        pane.show_older()
        assert "Loading older entries" in pane.plain_text()
        pane.show_prospect(other)
        qtbot.waitUntil(lambda: pane.prospect is not None and pane.prospect.id == other)
        held.set()
        wait_for_reads(qtbot)
    assert pane.prospect.id == other and pane.contacts == []
    assert "No correspondence yet" in pane.plain_text()


def test_reload_keeps_the_entries_shown(qtbot, ctx, busy):
    pane = make_pane(qtbot, ctx)
    pane.show_prospect(busy)
    wait_for_reads(qtbot)
    pane.show_older()
    wait_for_reads(qtbot)
    pane.reload()  # as after logging a contact or marking a follow-up done
    wait_for_reads(qtbot)
    assert summaries(pane) == newest_first(ctx, busy)[: 2 * TIMELINE_PAGE + 1]


@pytest.mark.sqlite_only
def test_each_timeline_page_walks_the_prospect_index_without_sorting(ctx, db, busy):
    seen: list[tuple[str, object]] = []

    def listen(_conn, _cursor, statement, params, _context, _many):
        seen.append((statement, params))

    first = correspondence.list_correspondence(ctx, busy, limit=TIMELINE_PAGE)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        correspondence.list_correspondence(ctx, busy, limit=TIMELINE_PAGE)
        correspondence.list_correspondence(ctx, busy, limit=TIMELINE_PAGE, older_than=first[-1])
        correspondence.count_correspondence(ctx, busy)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    queries = [(s, p) for s, p in seen if "correspondence" in s]
    assert len(queries) == 3
    with db.engine.connect() as conn:
        for statement, params in queries:
            plan = "\n".join(
                row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "ix_correspondence_prospect" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
