"""The prospect list filtered to one import, bulk actions on an import's people, past imports."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from crm_desktop.domain.roles import Role
from crm_desktop.errors import NotFoundError
from crm_desktop.services import Context, marketing, merge, prospects, schools
from crm_desktop.services import bulk as B
from crm_desktop.services import import_batches as IB
from crm_desktop.services.imports import ImportOptions, run_import
from crm_desktop.services.prospects import ProspectQuery

HEADERS = ["First name", "Last name", "Email", "School"]


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


@pytest.fixture
def two_imports(ctx, tmp_path, add_prospect):
    """Before: Kept (not imported), Upd (updated by the first import), Otto (objected,
    imported again as opted out). First import: Ada, Bob + Upd + Otto; second: Cy."""
    kept = add_prospect("Kept", "Typed", email="kept@example.sch.uk", school="Hill School")
    upd = add_prospect("Upd", "Ated", email="upd@example.sch.uk")
    otto = add_prospect("Otto", "Out", email="otto@example.sch.uk")
    marketing.object_to_marketing(ctx, otto, reason="No marketing")
    first = run_import(
        ctx,
        write_csv(
            tmp_path / "bett.csv",
            [
                ["Ada", "Lovelace", "ada@example.sch.uk", "Hill School"],
                ["Bob", "Babbage", "bob@example.sch.uk", "Vale Academy"],
                ["Upd", "Ated", "upd@example.sch.uk", "Hill School"],
                ["Otto", "Out", "otto@example.sch.uk", ""],
                ["Bad", "", "not-an-email", ""],
            ],
        ),
        ImportOptions(source="Bett 2026 stand sign-ups", basis="legitimate-interest",
                      li_note="Heads of schools we serve"),
    )  # fmt: skip
    second = run_import(
        ctx,
        write_csv(tmp_path / "cards.csv", [["Cy", "Young", "cy@example.sch.uk", "Hill School"]]),
        ImportOptions(source="Phone contacts"),
    )
    return {"first": first, "second": second, "kept": kept, "upd": upd, "otto": otto}


def names(rows) -> list[str]:
    return sorted(r.first_name for r in rows)


def test_the_filter_keeps_created_updated_and_opted_out_people_of_that_import(ctx, two_imports):
    first = two_imports["first"].batch_id
    q = ProspectQuery(import_id=first)
    assert two_imports["first"].created == 2 and two_imports["first"].updated == 1
    assert two_imports["first"].opted_out == 1
    assert names(prospects.list_prospects(ctx, q)) == ["Ada", "Bob", "Otto", "Upd"]
    assert prospects.count_prospects(ctx, q) == 4
    assert names(prospects.iter_prospects(ctx, q)) == ["Ada", "Bob", "Otto", "Upd"]
    # Paged, as the table reads it (by last name: Ated, Babbage, Lovelace, Out).
    page = prospects.list_prospects(ctx, q, offset=1, limit=2)
    assert [r.first_name for r in page] == ["Bob", "Ada"]
    second = ProspectQuery(import_id=two_imports["second"].batch_id)
    assert names(prospects.list_prospects(ctx, second)) == ["Cy"]
    # An import that does not exist matches nobody (not everybody).
    assert prospects.count_prospects(ctx, ProspectQuery(import_id=9_999)) == 0
    assert prospects.count_prospects(ctx) == 6


def test_the_other_filters_combine_with_it(ctx, two_imports):
    first = two_imports["first"].batch_id
    [hill] = [i for i, name in schools.school_names(ctx) if name == "Hill School"]
    q = ProspectQuery(import_id=first, school_id=hill)
    assert names(prospects.list_prospects(ctx, q)) == ["Ada", "Upd"]
    assert names(prospects.list_prospects(ctx, ProspectQuery(import_id=first, search="bab"))) == [
        "Bob"
    ]
    # Kept and Cy are at Hill School too, but not of this import.
    assert prospects.count_prospects(ctx, ProspectQuery(school_id=hill)) == 4
    # A row's place in the filtered table (to select it) counts only the import's rows.
    assert prospects.prospect_position(ctx, two_imports["upd"], q) == 0  # Ated, Lovelace
    assert prospects.prospect_position(ctx, two_imports["kept"], q) is None


def test_select_all_matching_an_import_tags_the_whole_batch(ctx, two_imports):
    first = two_imports["first"].batch_id
    selection = B.Selection.matching(ProspectQuery(import_id=first))
    preview = B.preview(ctx, selection, B.SET_OWNER)
    assert preview.count == 4 and not preview.refused
    result = B.run(ctx, selection, B.SET_OWNER, "carol")
    assert result.changed == 4
    owners = {r.first_name: r.owner for r in prospects.list_prospects(ctx)}
    assert owners == {"Ada": "carol", "Bob": "carol", "Upd": "carol", "Otto": "carol",
                      "Kept": "alice", "Cy": "alice"}  # fmt: skip


def test_past_imports_newest_first_with_what_they_did(ctx, two_imports):
    batches = IB.list_batches(ctx)
    assert [b.id for b in batches] == [
        two_imports["second"].batch_id,
        two_imports["first"].batch_id,
    ]
    first = batches[1]
    assert (first.file_name, first.source, first.format) == (
        "bett.csv", "Bett 2026 stand sign-ups", "csv")  # fmt: skip
    assert first.lawful_basis == "legitimate-interest"
    assert first.basis_label == "Legitimate interest"
    assert first.imported_by == "alice" and isinstance(first.imported_at, datetime)
    assert first.people == 4
    assert first.counts["created"] == 2 and first.counts["rejected"] == 1
    assert first.counts["updated"] == 1 and first.counts["opted_out"] == 1
    assert first.summary().startswith("Imported from bett.csv (Bett 2026 stand sign-ups) on ")
    assert first.summary().endswith(": 4 people")
    assert IB.list_batches(ctx, limit=1) == batches[:1]
    assert IB.get_batch(ctx, first.id) == first
    assert batches[0].summary().endswith(": 1 person")
    data = first.to_dict()
    assert data["people"] == 4 and data["imported_at"].startswith(str(first.imported_at.year))


def test_people_counts_who_is_still_on_record_and_a_merge_carries_the_origin(ctx, two_imports):
    first = two_imports["first"].batch_id
    ada = prospects.find_prospect(ctx, "ada@example.sch.uk").id
    prospects.delete_prospect(ctx, ada)
    bob = prospects.find_prospect(ctx, "bob@example.sch.uk").id
    # Bob merged into Kept (typed in): the kept record now came from the import too.
    merge.merge_prospects(ctx, two_imports["kept"], bob)
    q = ProspectQuery(import_id=first)
    assert names(prospects.list_prospects(ctx, q)) == ["Kept", "Otto", "Upd"]
    batch = IB.get_batch(ctx, first)
    assert batch.people == 3 == prospects.count_prospects(ctx, q)
    assert batch.counts["created"] == 2  # what the import itself did stays as it was


def test_no_imports_yet_and_an_unknown_one(ctx, db):
    assert IB.list_batches(ctx) == []
    with pytest.raises(NotFoundError, match="No import with id 42"):
        IB.get_batch(ctx, 42)
    # Every role may see where prospects came from (a sales user included).
    assert IB.list_batches(Context(db, user="sam", role=Role.SALES)) == []
