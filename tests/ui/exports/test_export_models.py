"""The export models: Qt's model contract (qtmodeltester), batches and display text."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_support import build_population
from PySide6.QtCore import QModelIndex, Qt

from crm_desktop.services import exports, prospects
from crm_desktop.services.exports import Candidate, ExportRequest
from crm_desktop.ui.exports.export_models import (
    CandidatesModel,
    ExportIdRole,
    ExportsModel,
    MembersModel,
    ProspectIdRole,
    ReasonCountsModel,
    ReasonRole,
    member_rows,
)

ROOT = QModelIndex()

# One ModelTester serves a test and connects to a model on every check(), so
# each check below gets a model of its own (a second check of the same model
# would see each later change twice).


@pytest.fixture
def people(ctx):
    return build_population(ctx)


def fetch_all(model) -> None:
    while model.canFetchMore(ROOT):
        model.fetchMore(ROOT)


def test_candidates_model(qtmodeltester, ctx, people):
    preview = exports.preview_export(ctx, ExportRequest("email", "x"))
    qtmodeltester.check(CandidatesModel(), force_py=True)  # empty
    model = CandidatesModel()
    model.set_candidates(preview.excluded, preview.channel)
    qtmodeltester.check(model, force_py=True)
    names = {model.index(r, model.NAME).data(): r for r in range(model.rowCount())}
    row = names["Otto Out"]
    assert model.index(row, model.REASONS).data() == "Opted out; On the suppression list"
    assert model.index(row, model.REASONS).data(Qt.ItemDataRole.ToolTipRole) == (
        "• Opted out\n• On the suppression list"
    )
    assert model.index(row, model.ADDRESS).data() == "otto@oakfield.sch.uk"
    assert model.index(row, 0).data(ProspectIdRole) == people.opted_out
    assert model.headerData(model.ADDRESS, Qt.Orientation.Horizontal) == "Email"
    model.set_reason_filter("no-address")
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["Phil Phone"]
    filtered = CandidatesModel()
    filtered.set_candidates(preview.excluded, preview.channel)
    filtered.set_reason_filter("opted-out")
    qtmodeltester.check(filtered, force_py=True)


def test_candidates_arrive_in_batches_with_the_right_rows(qtmodeltester):
    people = [
        Candidate(i, "P", f"N{i:04d}", f"p{i}@x.sch.uk", None, None, None, "lead", [], ["x"])
        for i in range(1_234)
    ]
    model = CandidatesModel()
    model.set_candidates(people, "email")
    inserted = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    assert model.rowCount() == CandidatesModel.BATCH and model.total() == 1_234
    fetch_all(model)
    assert inserted == [(500, 999), (1000, 1233)]  # last rows inclusive
    assert model.index(1233, model.NAME).data() == "P N1233"
    assert model.index(1233, model.REASONS).data() == "x"  # an unknown reason reads as itself
    qtmodeltester.check(model, force_py=True)


def test_reason_counts_model_orders_most_fundamental_first(qtmodeltester):
    qtmodeltester.check(ReasonCountsModel(), force_py=True)
    model = ReasonCountsModel()
    model.set_counts({"no-lawful-basis": 3, "opted-out": 1_200, "suppressed": 0})
    qtmodeltester.check(model, force_py=True)
    assert [model.index(r, 0).data() for r in range(2)] == ["Opted out", "No lawful basis"]
    assert model.index(0, 1).data() == "1,200"
    assert model.index(1, 0).data(ReasonRole) == "no-lawful-basis"


def test_exports_and_members_models(qtmodeltester, ctx, people, tmp_path):
    records = [
        exports.run_export(ctx, ExportRequest("email", f"Campaign {i}"), tmp_path / f"{i}.csv")
        for i in range(3)
    ]
    qtmodeltester.check(ExportsModel(), force_py=True)
    model = ExportsModel()
    model.set_records(exports.list_exports(ctx))
    qtmodeltester.check(model, force_py=True)
    assert [model.index(r, 0).data(ExportIdRole) for r in range(3)] == [
        r.id for r in reversed(records)
    ]
    assert model.index(0, model.CAMPAIGN).data() == "Campaign 2"
    assert model.index(0, model.CHANNEL).data() == "Email"
    assert model.index(0, model.FORMAT).data() == "Generic CSV"
    assert model.index(0, model.INCLUDED).data() == "3"
    assert model.index(0, model.EXCLUDED).data() == "4"
    assert model.index(0, model.FILE).data() == "2.csv"
    assert model.index(0, model.FILE).data(Qt.ItemDataRole.ToolTipRole) == str(
        Path(tmp_path / "2.csv").resolve()
    )

    prospects.delete_prospect(ctx, people.li_note)
    qtmodeltester.check(MembersModel(), force_py=True)
    members = MembersModel()
    ids = exports.export_members(ctx, records[0].id)
    members.set_ids(ids, member_rows(ctx, ids))
    qtmodeltester.check(members, force_py=True)
    names = [members.index(r, members.NAME).data() for r in range(members.rowCount())]
    assert names == ["Connie Consent", f"#{people.li_note} (deleted)", "Rita Refuses"]
    assert members.index(0, members.EMAIL).data() == "connie@oakfield.sch.uk"
