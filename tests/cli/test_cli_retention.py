"""``crm retention``: review the queue, keep, anonymise, and the review period."""

from datetime import UTC, datetime

from cli_support import assert_error

OWNER_PW = "owner long password"
BOB_PW = "bobs long password"


def _old_contact(crm, ref: str, year: int) -> None:
    at = f"{year}-03-01T10:00"
    assert crm("log", ref, "--kind", "call", "--summary", "Old call", "--at", at).code == 0


def _setup(crm, add) -> dict[str, int]:
    ids = {}
    for first in ("Old", "Older", "Fresh"):
        ids[first] = add(first, "Person")["id"]
    year = datetime.now(UTC).year
    _old_contact(crm, str(ids["Old"]), year - 4)
    _old_contact(crm, str(ids["Older"]), year - 5)
    _old_contact(crm, str(ids["Fresh"]), year)
    return ids


def test_review_lists_the_due_oldest_first(crm, add):
    ids = _setup(crm, add)
    listed = crm("retention", "review", "--json")
    assert listed.code == 0, listed
    rows = listed.json()
    assert [r["id"] for r in rows] == [ids["Older"], ids["Old"]]
    assert rows[0]["name"] == "Older Person" and rows[0]["last_contact_at"]
    assert [r["id"] for r in crm("retention", "review", "--json", "--limit", "1").json()] == [
        ids["Older"]
    ]
    text = crm("retention", "review")
    assert "Older Person" in text.out and "Fresh Person" not in text.out


def test_empty_queue_says_so(crm, add):
    add("New", "Person")
    result = crm("retention", "review")
    assert result.code == 0 and result.out == ""
    assert "Nobody is due for review" in result.err


def test_keep_needs_a_reason_and_takes_them_off_the_queue(crm, add):
    ids = _setup(crm, add)
    assert crm("retention", "keep", str(ids["Old"])).code == 2  # --reason is required
    assert_error(
        crm("retention", "keep", str(ids["Old"]), "--reason", "  "), 1, "Reason is required"
    )
    kept = crm("retention", "keep", "old.person@example.com", "--reason", "Active customer")
    assert kept.code == 0, kept
    assert "Kept 1 person" in kept.out and "24 months" in kept.out
    assert [r["id"] for r in crm("retention", "review", "--json").json()] == [ids["Older"]]


def test_anonymise_needs_yes_then_erases(crm, add):
    ids = _setup(crm, add)
    refs = [str(ids["Old"]), str(ids["Older"])]
    assert_error(crm("retention", "anonymise", *refs), 1, "--yes")
    assert len(crm("retention", "review", "--json").json()) == 2
    done = crm("retention", "anonymise", *refs, "--yes")
    assert done.code == 0, done
    assert "Anonymised 2 people" in done.out
    assert crm("retention", "review", "--json").json() == []
    shown = crm("prospect", "show", refs[0], "--json").json()
    assert shown["first_name"] == "Erased" and shown["email"] is None
    assert crm("suppressed", "old.person@example.com").code == 0


def test_months_shows_sets_and_validates(crm, add):
    ids = _setup(crm, add)
    assert "after 24 months" in crm("retention", "months").out
    assert_error(crm("retention", "months", "0"), 1, "between 1 and 120")
    assert_error(crm("retention", "months", "soon"), 1, "whole number")
    assert crm("retention", "months", "120", "--json").json() == {"months": 120}
    assert crm("retention", "review", "--json").json() == []
    assert crm("retention", "months", "24").code == 0
    assert len(crm("retention", "review", "--json").json()) == 2
    assert ids


def test_sales_may_not_review_or_anonymise(crm, add, monkeypatch):
    ids = _setup(crm, add)
    monkeypatch.setenv("CRM_NEW_PASSWORD", OWNER_PW)
    assert crm("user", "passwd").code == 0
    monkeypatch.setenv("CRM_NEW_PASSWORD", BOB_PW)
    assert crm("user", "add", "bob", "--role", "sales").code == 0
    monkeypatch.setenv("CRM_USER", "bob")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    assert_error(crm("retention", "review"), 1, "Not permitted: bob (sales) may not review")
    assert_error(crm("retention", "anonymise", str(ids["Old"]), "--yes"), 1, "Not permitted")
    assert_error(crm("retention", "keep", str(ids["Old"]), "--reason", "x"), 1, "Not permitted")
    assert_error(crm("retention", "months", "6"), 1, "Not permitted")
    shown = crm("prospect", "show", str(ids["Old"]), "--json").json()
    assert shown["first_name"] == "Old"
