"""The prospect table model: a paged window onto SQL that survives heavy use."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QIdentityProxyModel, Qt

from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import correspondence, prospects
from crm_desktop.services.prospects import ProspectQuery
from crm_desktop.ui.common import reads
from crm_desktop.ui.prospects import prospect_model
from crm_desktop.ui.prospects.prospect_model import (
    COLUMNS,
    LAST_CONTACT,
    NAME,
    NEXT_FOLLOW_UP,
    SCHOOL,
    STAGE,
    ProspectIdRole,
    ProspectRowRole,
    ProspectTableModel,
    format_date,
)


def settled(qtbot, model):
    """Until the newest query's rows, and every page asked for, have arrived."""
    qtbot.waitUntil(lambda: not model.pending and reads.pending_reads() == 0, timeout=20_000)
    return model


def loaded_model(qtbot, ctx, **kwargs) -> ProspectTableModel:
    return settled(qtbot, ProspectTableModel(ctx, **kwargs))


def painted_ids(qtbot, model) -> list[int | None]:
    """What the view shows in every row once the pages it asked for arrived."""
    for r in range(model.rowCount()):
        model.index(r, NAME).data()
    settled(qtbot, model)
    return [model.index(r, NAME).data(ProspectIdRole) for r in range(model.rowCount())]


def test_modeltester_with_data(qtbot, qtmodeltester, demo_ctx):
    model = loaded_model(qtbot, demo_ctx, page_size=7, max_pages=3)
    assert model.rowCount() == 60
    qtmodeltester.check(model, force_py=True)
    model.set_query(replace(model.query, search="a", stage="lead"))
    settled(qtbot, model)
    qtmodeltester.check(model, force_py=True)


def test_rows_follow_sql_order_through_pages_and_cache_stays_small(qtbot, demo_ctx):
    model = loaded_model(qtbot, demo_ctx, page_size=7, max_pages=3)
    expected = prospects.list_prospects(demo_ctx, ProspectQuery())
    shown = [model.row(r).id for r in range(model.rowCount())]
    assert shown == [p.id for p in expected]
    assert model.cached_pages <= 3
    # Reading backwards re-fetches evicted pages and still agrees.
    back = [model.row(r).id for r in reversed(range(60))]
    assert back == [p.id for p in reversed(expected)]


def test_a_page_not_read_yet_is_blank_until_it_arrives(qtbot, demo_ctx):
    model = loaded_model(qtbot, demo_ctx, page_size=7, max_pages=3)
    expected = prospects.list_prospects(demo_ctx, ProspectQuery(), offset=49, limit=1)[0]
    assert model.index(49, NAME).data() is None  # asked for, on a worker
    with qtbot.waitSignal(model.dataChanged) as changed:
        pass
    first, last = changed.args[0].row(), changed.args[1].row()
    assert first <= 49 <= last
    assert model.index(49, NAME).data(ProspectIdRole) == expected.id


def test_display_text(qtbot, ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace", school="Analytical Academy", stage="demo-booked")
    due = date.today() - timedelta(days=2)
    correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Called", follow_up_on=due)
    )
    model = loaded_model(qtbot, ctx)
    assert model.index(0, NAME).data() == "Ada Lovelace"
    assert model.index(0, SCHOOL).data() == "Analytical Academy"
    assert model.index(0, STAGE).data() == "Demo booked"
    assert model.index(0, NEXT_FOLLOW_UP).data() == format_date(due)
    assert model.index(0, LAST_CONTACT).data()  # local short date and time
    assert "Overdue" in model.index(0, NEXT_FOLLOW_UP).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, NEXT_FOLLOW_UP).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, NAME).data(ProspectRowRole).id == pid
    assert model.index(0, NAME).data(Qt.ItemDataRole.DecorationRole) is None
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "Name",
        "School",
        "Role",
        "Stage",
        "Owner",
        "Last contact",
        "Next follow-up",
    ]


@pytest.mark.parametrize("column", range(len(COLUMNS)))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sort_requeries_sql(qtbot, demo_ctx, column, order):
    model = loaded_model(qtbot, demo_ctx, page_size=16)
    model.sort(column, order)
    settled(qtbot, model)
    key = COLUMNS[column][1]
    descending = order == Qt.SortOrder.DescendingOrder
    assert model.query.sort == key and model.query.descending == descending
    expected = prospects.list_prospects(demo_ctx, ProspectQuery(sort=key, descending=descending))
    assert painted_ids(qtbot, model) == [p.id for p in expected]


def test_position_of_agrees_with_the_listing(qtbot, demo_ctx):
    model = ProspectTableModel(demo_ctx, page_size=10)
    model.set_query(ProspectQuery(sort="school", descending=True))
    settled(qtbot, model)
    listing = prospects.list_prospects(demo_ctx, model.query)
    for row in (13, 37, 59):
        assert model.position_of(listing[row].id) == row  # from SQL (nothing cached yet)
    assert model.position_of(listing[0].id, search_sql=False) == 0  # the first page came along
    model.index(25, 0).data()
    settled(qtbot, model)
    assert model.position_of(listing[25].id, search_sql=False) == 25  # from the page cache
    model.set_query(replace(model.query, stage="customer"))
    settled(qtbot, model)
    hidden = next(p for p in listing if p.stage != "customer")
    assert model.position_of(hidden.id) is None


def test_rows_deleted_behind_the_models_back_read_as_empty(qtbot, ctx, add_prospect):
    ids = [add_prospect("P", f"N{i:02d}") for i in range(5)]
    model = loaded_model(qtbot, ctx, page_size=2)
    for pid in ids[:2]:
        prospects.delete_prospect(ctx, pid)
    assert model.rowCount() == 5  # stale until refreshed...
    # ...but pages read with the stale count are no crash: short, or the last rows.
    assert model.row(4) is None or model.row(4).id == ids[4]
    assert model.row(2) is None or model.row(2).id in ids[2:]
    model.refresh_rows()
    settled(qtbot, model)
    assert model.rowCount() == 3


def test_reset_and_count_signal(qtbot, demo_ctx):
    model = loaded_model(qtbot, demo_ctx)
    with (
        qtbot.waitSignal(model.modelReset),
        qtbot.waitSignal(model.countChanged) as counted,
    ):
        model.set_query(replace(model.query, stage="lead"))
    leads = prospects.count_prospects(demo_ctx, ProspectQuery(stage="lead"))
    assert 0 < leads < 60
    assert counted.args == [leads]
    assert model.rowCount() == leads


def test_a_million_data_calls_through_a_proxy(qtbot, demo_ctx):
    """Qt calling our Python data() a million times, many returning None.

    Guards against PySide6 6.12.0 on CPython 3.11, which drops a reference to
    None on each such call and aborts the process after ~100k of them.
    """
    model = loaded_model(qtbot, demo_ctx)
    proxy = QIdentityProxyModel()
    proxy.setSourceModel(model)
    roles = (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,  # None
        Qt.ItemDataRole.EditRole,  # None
        Qt.ItemDataRole.CheckStateRole,  # None
        Qt.ItemDataRole.ForegroundRole,  # None on most cells
        ProspectIdRole,
        Qt.ItemDataRole.UserRole + 99,  # None
    )
    indexes = [proxy.index(r, c) for r in range(proxy.rowCount()) for c in range(len(COLUMNS))]
    calls, nones = 0, 0
    started = time.monotonic()
    while calls < 1_000_000:
        for index in indexes:
            for role in roles:
                if proxy.data(index, role) is None:
                    nones += 1
            calls += len(roles)
    assert nones > calls // 2
    assert proxy.data(proxy.index(0, 0)) == model.index(0, 0).data()
    assert time.monotonic() - started < 120


# ------------------------------------------------------------ off the GUI thread


def test_count_and_pages_are_read_on_worker_threads(qtbot, demo_ctx, monkeypatch):
    calls: list[tuple[str, bool]] = []
    for name in ("count_prospects", "list_prospects"):
        real = getattr(prospects, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append((_name, threading.current_thread() is threading.main_thread()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(prospects, name, spy)
    monkeypatch.setattr(prospect_model, "FIRST_COUNT", 10)  # so the exact count follows
    model = loaded_model(qtbot, demo_ctx, page_size=7)
    model.set_query(ProspectQuery(search="a"))
    settled(qtbot, model)
    painted_ids(qtbot, model)  # every page, as the view would ask for them
    model.refresh_rows()
    settled(qtbot, model)
    names = {name for name, _ in calls}
    assert names == {"count_prospects", "list_prospects"}
    assert len(calls) > 5
    assert not [c for c in calls if c[1]], "read on the GUI thread"


def test_more_than_the_first_count_says_so_then_counts(qtbot, demo_ctx, monkeypatch):
    monkeypatch.setattr(prospect_model, "FIRST_COUNT", 10)
    model = ProspectTableModel(demo_ctx)
    qtbot.waitUntil(lambda: not model.pending, timeout=20_000)
    counts = []
    model.countChanged.connect(counts.append)
    if not model.count_is_exact:  # the exact count has not arrived yet
        assert model.rowCount() == 11 and model.count_text() == "10+"
    settled(qtbot, model)
    assert model.count_is_exact and model.rowCount() == 60 and model.count_text() == "60"
    model.set_query(ProspectQuery(stage="no-such-stage"))
    settled(qtbot, model)
    assert model.rowCount() == 0 and model.count_text() == "0"


def test_an_older_querys_rows_never_replace_a_newer_ones(qtbot, demo_ctx, monkeypatch):
    """Typing fast: the read for the first letters is held and finishes last."""
    release = threading.Event()
    real = prospects.list_prospects

    def slow_for_the_first(ctx, q, **kwargs):
        if q.search == "a":
            release.wait(20)
        return real(ctx, q, **kwargs)

    monkeypatch.setattr(prospects, "list_prospects", slow_for_the_first)
    model = loaded_model(qtbot, demo_ctx)
    resets = []
    model.modelReset.connect(lambda: resets.append(model.shown_query.search))
    model.set_query(ProspectQuery(search="a"))
    model.set_query(ProspectQuery(search="an"))
    qtbot.waitUntil(lambda: not model.pending, timeout=20_000)
    assert resets == ["an"]
    release.set()  # the older read now finishes
    settled(qtbot, model)
    assert resets == ["an"]
    expected = [p.id for p in real(demo_ctx, ProspectQuery(search="an"))]
    assert painted_ids(qtbot, model) == expected
