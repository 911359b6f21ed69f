"""crm duplicates, crm duplicates dismiss and crm merge."""

from __future__ import annotations

import pytest
from cli_support import assert_error


@pytest.fixture
def pair(add):
    keep = add("Jane", "Smith", "--school=Oak Primary", email="jane@oak.sch.uk")
    other = add(
        "Jane", "Smyth", "--school=Oak Primary", "--phone=07700 900123",
        email="jane.smyth@oak.sch.uk",
    )  # fmt: skip
    return keep["id"], other["id"]


def test_duplicates_lists_pairs_as_text_and_json(crm, pair):
    keep, other = pair
    text = crm("duplicates")
    assert text.code == 0, text
    assert "Jane Smith" in text.out and "Jane Smyth" in text.out
    assert "similar name at the same school" in text.out
    assert "crm merge KEEP OTHER" in text.out
    data = crm("duplicates", "--json").json()
    assert [(p["first_id"], p["second_id"], p["reason"]) for p in data] == [
        (keep, other, "similar name at the same school")
    ]
    assert crm("duplicates", "--limit", "0").code == 2  # not a positive number


def test_no_duplicates_says_so(crm, add):
    add("Ada", "Lovelace")
    result = crm("duplicates")
    assert (result.code, result.out.strip()) == (0, "No probable duplicates.")
    assert crm("duplicates", "--json").json() == []


def test_dismiss_by_email_and_id(crm, pair):
    keep, other = pair
    result = crm("duplicates", "dismiss", "jane@oak.sch.uk", str(other))
    assert result.code == 0, result
    assert "different people" in result.out
    assert crm("duplicates", "--json").json() == []


def test_merge_without_yes_shows_the_merge_and_changes_nothing(crm, pair):
    keep, other = pair
    result = crm("merge", str(keep), "jane.smyth@oak.sch.uk", "--take", "last-name")
    assert result.code == 1
    assert "Smith  |  Smyth  ->  Smyth" in result.out
    assert "add --yes" in result.err
    assert len(crm("prospect", "list", "--json").json()) == 2


def test_merge_with_yes_takes_fields_and_deletes_the_other(crm, pair):
    keep, other = pair
    crm("opt-out", str(other), "--channel", "email")
    result = crm("merge", f"#{keep}", str(other), "--take", "last_name,email", "--yes", "--json")
    assert result.code == 0, result
    merged = result.json()
    assert (merged["id"], merged["last_name"], merged["email"]) == (
        keep, "Smyth", "jane.smyth@oak.sch.uk",
    )  # fmt: skip
    assert merged["phone"] == "+447700900123"
    assert [p["id"] for p in crm("prospect", "list", "--json").json()] == [keep]
    permissions = crm("permissions", str(keep), "--json").json()
    email = next(c for c in permissions["channels"] if c["channel"] == "email")
    assert email["opted_out"] is True
    history = crm("history", str(keep), "--json").json()
    assert any(e["title"] == "Merged with a duplicate record" for e in history["events"])
    assert crm("audit", "verify").code == 0


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("merge", "1", "1", "--yes"), "cannot be merged with itself"),
        (("merge", "1", "99", "--yes"), "No prospect with id 99"),
        (("merge", "1", "2", "--take", "shoe-size", "--yes"), "not a field to choose"),
        (("merge", "1", "2", "--take", "email", "--keep", "email"), "both --take and --keep"),
        (("duplicates", "dismiss", "1", "1"), "itself"),
    ],
)
def test_refusals_are_one_line(crm, pair, argv, fragment):
    assert_error(crm(*argv), 1, fragment)
