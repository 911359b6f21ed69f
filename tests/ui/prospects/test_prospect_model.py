"""The prospect table model: a paged window onto SQL that survives heavy use."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QIdentityProxyModel, Qt

from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import correspondence, prospects
from crm_desktop.services.prospects import ProspectQuery
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


def test_modeltester_with_data(qtmodeltester, demo_ctx):
    model = ProspectTableModel(demo_ctx, page_size=7, max_pages=3)
    assert model.rowCount() == 60
    qtmodeltester.check(model, force_py=True)
    model.set_query(replace(model.query, search="a", stage="lead"))
    qtmodeltester.check(model, force_py=True)


def test_rows_follow_sql_order_through_pages_and_cache_stays_small(demo_ctx):
    model = ProspectTableModel(demo_ctx, page_size=7, max_pages=3)
    expected = prospects.list_prospects(demo_ctx, ProspectQuery())
    shown = [model.index(r, NAME).data(ProspectIdRole) for r in range(model.rowCount())]
    assert shown == [p.id for p in expected]
    assert model.cached_pages <= 3
    # Reading backwards re-fetches evicted pages and still agrees.
    back = [model.index(r, NAME).data(ProspectIdRole) for r in reversed(range(60))]
    assert back == [p.id for p in reversed(expected)]


def test_display_text(ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace", school="Analytical Academy", stage="demo-booked")
    due = date.today() - timedelta(days=2)
    correspondence.log_contact(
        ctx, pid, ContactInput(kind="call", summary="Called", follow_up_on=due)
    )
    model = ProspectTableModel(ctx)
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
def test_sort_requeries_sql(demo_ctx, column, order):
    model = ProspectTableModel(demo_ctx, page_size=16)
    model.sort(column, order)
    key = COLUMNS[column][1]
    descending = order == Qt.SortOrder.DescendingOrder
    assert model.query.sort == key and model.query.descending == descending
    expected = prospects.list_prospects(demo_ctx, ProspectQuery(sort=key, descending=descending))
    shown = [model.index(r, 0).data(ProspectIdRole) for r in range(model.rowCount())]
    assert shown == [p.id for p in expected]


def test_position_of_agrees_with_the_listing(demo_ctx):
    model = ProspectTableModel(demo_ctx, page_size=10)
    model.set_query(ProspectQuery(sort="school", descending=True))
    listing = prospects.list_prospects(demo_ctx, model.query)
    for row in (0, 13, 37, 59):
        assert model.position_of(listing[row].id) == row  # from SQL (nothing cached yet)
    model.index(25, 0).data()
    assert model.position_of(listing[25].id) == 25  # from the page cache
    model.set_query(replace(model.query, stage="customer"))
    hidden = next(p for p in listing if p.stage != "customer")
    assert model.position_of(hidden.id) is None


def test_rows_deleted_behind_the_models_back_read_as_empty(ctx, add_prospect):
    ids = [add_prospect("P", f"N{i:02d}") for i in range(5)]
    model = ProspectTableModel(ctx)
    for pid in ids[:2]:
        prospects.delete_prospect(ctx, pid)
    assert model.rowCount() == 5  # stale until refreshed...
    assert model.index(4, NAME).data() is None  # ...but a short page is no crash
    model.refresh_rows()
    assert model.rowCount() == 3


def test_reset_and_count_signal(qtbot, demo_ctx):
    model = ProspectTableModel(demo_ctx)
    with (
        qtbot.waitSignal(model.modelReset),
        qtbot.waitSignal(model.countChanged) as counted,
    ):
        model.set_query(replace(model.query, stage="lead"))
    leads = prospects.count_prospects(demo_ctx, ProspectQuery(stage="lead"))
    assert 0 < leads < 60
    assert counted.args == [leads]
    assert model.rowCount() == leads


def test_a_million_data_calls_through_a_proxy(demo_ctx):
    """Qt calling our Python data() a million times, many returning None.

    Guards against PySide6 6.12.0 on CPython 3.11, which drops a reference to
    None on each such call and aborts the process after ~100k of them.
    """
    model = ProspectTableModel(demo_ctx)
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
