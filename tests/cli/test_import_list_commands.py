"""``crm imports``, ``crm prospect list --import ID`` and ``crm prospect bulk --import ID``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


def write_csv(path: Path, rows, headers=("First name", "Last name", "Email")) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.fixture
def batches(crm, add, tmp_path):
    """Typed in: Kim; then import 1 (Ada, Bob created, Kim updated), import 2 (Cy)."""
    add("Kim", "Typed", email="kim@example.org")
    rows = [
        ["Ada", "Lovelace", "ada@example.org", ""],
        ["Bob", "Babbage", "bob@example.org", ""],
        ["Kim", "Typed", "kim@example.org", "Hill School"],  # fills her blank school
        ["Bad", "", "bad@", ""],
    ]
    headers = ("First name", "Last name", "Email", "School")
    src = write_csv(tmp_path / "bett.csv", rows, headers)
    first = crm("import", str(src), "--source", "Bett 2026 stand", "--json")
    assert first.code == 0, first.err
    second = crm(
        "import",
        str(write_csv(tmp_path / "cards.csv", [["Cy", "Young", "cy@example.org"]])),
        "--json",
    )
    assert second.code == 0, second.err
    return json.loads(first.out)["batch_id"], json.loads(second.out)["batch_id"]


def listed(crm, *args: str) -> list[str]:
    result = crm("prospect", "list", *args, "--json")
    assert result.code == 0, result.err
    return sorted(p["first_name"] for p in json.loads(result.out))


def test_imports_lists_batches_newest_first(crm, batches):
    first, second = batches
    result = crm("imports", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [b["id"] for b in data] == [second, first]
    assert data[1]["file_name"] == "bett.csv" and data[1]["source"] == "Bett 2026 stand"
    assert data[1]["lawful_basis"] == "none" and data[1]["people"] == 3
    assert data[1]["counts"]["created"] == 2 and data[1]["counts"]["updated"] == 1
    assert data[1]["counts"]["rejected"] == 1
    assert data[0]["source"] == "cards.csv"  # the file's name when no source is given
    assert data[1]["imported_by"] and data[1]["imported_at"]

    text = crm("imports")
    assert text.code == 0, text.err
    header, newest, oldest = text.out.splitlines()
    assert header.split()[:4] == ["ID", "When", "By", "File"]
    assert oldest.startswith(str(first)) and "bett.csv" in oldest and "Bett 2026 stand" in oldest
    assert "None recorded" in oldest
    assert len(crm("imports", "--limit", "1").out.splitlines()) == 2


def test_no_imports_yet(crm):
    result = crm("imports")
    assert (result.code, result.out.strip()) == (0, "No imports yet.")
    assert json.loads(crm("imports", "--json").out) == []


def test_prospect_list_by_import_combines_with_search(crm, batches):
    first, second = batches
    assert listed(crm, "--import", str(first)) == ["Ada", "Bob", "Kim"]
    assert listed(crm, "--import", f"#{second}") == ["Cy"]
    assert listed(crm, "--import", str(first), "--search", "babb") == ["Bob"]
    assert listed(crm) == ["Ada", "Bob", "Cy", "Kim"]
    none = crm("prospect", "list", "--import", str(first), "--search", "zebedee")
    assert none.code == 0 and none.err.strip() == "No prospects match."
    text = crm("prospect", "list", "--import", str(second))
    assert "Cy Young" in text.out and "Ada" not in text.out


def test_an_unknown_or_malformed_import_id_is_one_line(crm, batches):
    result = crm("prospect", "list", "--import", "999")
    assert (result.code, result.err.strip()) == (1, "crm: error: No import with id 999.")
    result = crm("prospect", "list", "--import", "abc")
    assert result.code == 2 and "not an import id" in result.err
    result = crm("prospect", "bulk", "--import", "999", "--set-owner", "zoe")
    assert result.code == 1 and "No import with id 999." in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_bulk_by_import_changes_that_batch_only(crm, batches):
    first, _second = batches
    result = crm("prospect", "bulk", "--import", str(first), "--set-owner", "zoe")
    assert result.code == 0, result.err
    assert "3 prospects selected" in result.err
    owners = {
        p["first_name"]: p["owner"] for p in json.loads(crm("prospect", "list", "--json").out)
    }
    assert owners["Ada"] == owners["Bob"] == owners["Kim"] == "zoe"
    assert owners["Cy"] != "zoe"
    # With another filter, and not together with ids from standard input.
    result = crm("prospect", "bulk", "--import", str(first), "--search", "ada", "--set-stage",
                 "trial")  # fmt: skip
    assert result.code == 0, result.err
    stages = {
        p["first_name"]: p["stage"] for p in json.loads(crm("prospect", "list", "--json").out)
    }
    assert stages == {"Ada": "trial", "Bob": "lead", "Kim": "lead", "Cy": "lead"}
    result = crm("prospect", "bulk", "--import", str(first), "--ids-from-stdin", "--delete")
    assert result.code == 2 and "not both" in result.err
