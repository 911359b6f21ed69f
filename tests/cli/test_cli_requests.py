"""crm request add / list / show / edit / verify / extend / close."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cli_support import assert_error

TODAY = date.today()
BOB_PW = "bobs long password"
OWNER_PW = "owner long password"


@pytest.fixture
def ada(add) -> dict:
    return add("Ada", "Lovelace", email="ada@hilltop.sch.uk", phone="07700 900123")


def _ok(result) -> dict | list:
    assert result.code == 0, result
    return result.json()


def test_add_matches_a_prospect_by_email_or_id(crm, ada):
    first = _ok(crm("request", "add", "ADA@hilltop.sch.uk", "--kind", "access", "--json"))
    assert first["prospect_id"] == ada["id"] and first["prospect_name"] == "Ada Lovelace"
    assert first["received_on"] == TODAY.isoformat() and first["status"] == "open"
    second = _ok(crm("request", "add", f"#{ada['id']}", "--kind=erasure", "--verified", "--json"))
    assert second["prospect_id"] == ada["id"] and second["identity_verified"] is True
    text = crm("request", "add", str(ada["id"]), "--kind", "Objection to marketing")
    assert text.code == 0 and text.err == ""
    assert text.out.startswith("Recorded request #3 (objection to marketing) from Ada Lovelace")


def test_add_an_unmatched_requester(crm, ada):
    result = crm(
        "request", "add", "someone@else.org", "--kind=portability", "--name=Sam Else",
        "--received=2026-01-31", "--notes=Wrote to the office",
    )  # fmt: skip
    assert result.code == 0, result
    assert "from Sam Else <someone@else.org>: due 28 Feb 2026" in result.out
    assert "No prospect matches" in result.out and "crm request edit 1 --prospect" in result.out
    phone_only = _ok(crm("request", "add", "--kind=restriction", "--phone=020 7946 0000", "--json"))
    assert phone_only["requester_phone"] == "+442079460000" and phone_only["prospect_id"] is None
    # Linked later; what they gave is kept.
    linked = _ok(crm("request", "edit", "1", "--prospect", "ada@hilltop.sch.uk", "--json"))
    assert linked["prospect_id"] == ada["id"] and linked["requester_name"] == "Sam Else"
    unlinked = _ok(crm("request", "edit", "1", "--prospect", "", "--json"))
    assert unlinked["prospect_id"] is None


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["someone@x.org", "--kind=access", f"--received={TODAY + timedelta(days=1)}"],
         "--received cannot be in the future"),
        (["someone@x.org", "--kind=access", "--received=31/02/2026"], "--received: '31/02/2026'"),
        (["someone@x.org", "--kind=complaint"], "--kind: 'complaint' is not one of: access"),
        (["not an address", "--kind=access"], "EMAIL|ID: 'not an address' is not a valid email"),
        (["99", "--kind=access"], "EMAIL|ID: no prospect has the id or email '99'"),
        (["--kind=access"], "give EMAIL|ID, or --name or --phone"),
        (["--kind=access", "--phone=12"], "--phone: '12' is not a possible phone number"),
        (["a@b.org", "--kind=access", "--notes=bell\x07"], "--notes contains control"),
    ],
)  # fmt: skip
def test_add_refusals_are_one_line_and_store_nothing(crm, argv, fragment):
    assert_error(crm("request", "add", *argv), 1, fragment)
    assert _ok(crm("request", "list", "--all", "--json")) == []


def test_list_open_by_due_date_with_overdue_flagged(crm):
    old = (TODAY - timedelta(days=40)).isoformat()
    soon = (TODAY - timedelta(days=27)).isoformat()
    assert crm("request", "add", "new@x.org", "--kind=access").code == 0
    assert crm("request", "add", "late@x.org", "--kind=erasure", f"--received={old}").code == 0
    assert crm("request", "add", "soon@x.org", "--kind=access", f"--received={soon}").code == 0
    listed = _ok(crm("request", "list", "--json"))
    assert [r["requester_email"] for r in listed] == ["late@x.org", "soon@x.org", "new@x.org"]
    assert [r["urgency"] for r in listed] == ["overdue", "due-soon", "ok"]
    assert listed[0]["days_left"] < 0
    text = crm("request", "list")
    assert text.code == 0
    lines = text.out.splitlines()
    assert lines[0].split()[:3] == ["ID", "Due", "Deadline"]
    assert "OVERDUE by" in lines[1] and "late@x.org" in lines[1]
    assert "OVERDUE" not in lines[2] and "OVERDUE" not in lines[3]
    assert lines[-1] == "1 request overdue, 1 due within 7 days."


def test_show_verify_extend_and_close(crm, ada):
    assert crm("request", "add", "ada@hilltop.sch.uk", "--kind=access").code == 0
    extended = _ok(crm("request", "extend", "1", "--reason=Records in three systems", "--json"))
    assert extended["extension_months"] == 2 and extended["extension_reason"]
    assert_error(
        crm("request", "extend", "1", "--reason=Again", "--months=1"),
        1,
        "--months: this request was already extended",
    )
    assert_error(
        crm("request", "close", "1", "--outcome=Sent the pack"),
        1,
        "Identity must be verified before the request is completed",
    )
    verified = crm("request", "verify", "1")
    assert verified.code == 0 and "verified" in verified.out
    closed = crm("request", "close", "1", "--outcome=Sent the pack", "--notes=By email")
    assert closed.code == 0 and closed.out.strip() == "Request #1 completed: Sent the pack"
    shown = crm("request", "show", "1")
    assert shown.code == 0
    assert "Status:            Completed" in shown.out
    assert "Why extended:      Records in three systems" in shown.out
    assert "Outcome:           Sent the pack" in shown.out
    as_json = _ok(crm("request", "show", "#1", "--json"))
    assert as_json["status"] == "completed" and as_json["notes"] == "By email"
    assert_error(crm("request", "verify", "1", "--undo"), 1, "Status: the request was completed")
    assert _ok(crm("request", "list", "--json")) == []
    assert [r["id"] for r in _ok(crm("request", "list", "--all", "--json"))] == [1]


def test_refuse_and_progress(crm):
    assert crm("request", "add", "x@y.org", "--kind=erasure").code == 0
    started = _ok(crm("request", "edit", "1", "--in-progress", "--notes=Checking", "--json"))
    assert started["status"] == "in-progress" and started["notes"] == "Checking"
    assert_error(crm("request", "close", "1"), 2, "--outcome")
    refused = _ok(
        crm("request", "close", "1", "--refused", "--outcome=No reply to ID check", "--json")
    )
    assert refused["status"] == "refused" and refused["identity_verified"] is False


def test_usage_errors(crm):
    empty = crm("request", "list")
    assert (empty.code, empty.out, empty.err) == (0, "", "No open data-subject requests.\n")
    assert_error(crm("request", "extend", "1", "--reason=x", "--months=3"), 2, "--months")
    assert_error(crm("request", "show", "abc"), 2, "'abc' is not a request id")
    assert_error(crm("request", "show", "7"), 1, "No data-subject request with id 7")
    assert_error(crm("request", "edit", "7"), 2, "nothing to change")


def test_help_lists_the_group(run_crm):
    result = run_crm("--help")
    assert result.code == 0
    assert "Data-subject requests:\n  request" in result.out


def test_only_managers_and_admins(crm, monkeypatch):
    assert crm("init").code == 0
    owner = _ok(crm("user", "list", "--json"))[0]["username"]
    monkeypatch.setenv("CRM_NEW_PASSWORD", OWNER_PW)
    assert crm("user", "passwd").code == 0
    monkeypatch.setenv("CRM_NEW_PASSWORD", BOB_PW)
    assert crm("user", "add", "bob", "--role", "marketing").code == 0
    monkeypatch.setenv("CRM_PASSWORD", OWNER_PW)  # two users now: the owner signs in
    assert crm("--user", owner, "user", "add", "meg", "--role", "manager").code == 0
    monkeypatch.delenv("CRM_NEW_PASSWORD")
    monkeypatch.setenv("CRM_USER", "bob")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    refusal = "Not permitted: bob (marketing) may not handle data-subject requests"
    assert_error(crm("request", "add", "a@b.org", "--kind=access"), 1, refusal)
    assert_error(crm("request", "list"), 1, refusal)
    monkeypatch.setenv("CRM_USER", "meg")
    assert _ok(crm("request", "add", "a@b.org", "--kind=access", "--json"))["created_by"] == "meg"
    monkeypatch.setenv("CRM_USER", owner)
    monkeypatch.setenv("CRM_PASSWORD", OWNER_PW)
    assert len(_ok(crm("request", "list", "--json"))) == 1


def _close_long_ago(db_path, request_id: int, years: int) -> None:
    """Move a closed request's closing date back, as if years had passed."""
    from crm_desktop.domain.models import DataSubjectRequest
    from crm_desktop.persistence import open_database

    db = open_database(db_path)
    try:
        with db.transaction() as session:
            request = session.get(DataSubjectRequest, request_id)
            request.closed_at -= timedelta(days=366 * years)
    finally:
        db.dispose()


def test_forget_expired_blanks_who_asked_only_after_the_retention_period(crm, ada, db_path):
    old = _ok(crm("request", "add", "ada@hilltop.sch.uk", "--kind=access", "--verified", "--json"))
    recent = _ok(
        crm(
            "request",
            "add",
            "sam@else.org",
            "--kind=access",
            "--name=Sam Else",
            "--verified",
            "--json",
        )
    )
    for r in (old, recent):
        assert crm("request", "close", str(r["id"]), "--outcome=Pack sent").code == 0
    assert crm("request", "forget-expired").out.startswith("No closed request is older than 6")

    _close_long_ago(db_path, old["id"], 7)
    result = crm("request", "forget-expired")
    assert result.code == 0 and result.out.startswith("Forgot who asked on 1 request "), result
    gone = _ok(crm("request", "show", str(old["id"]), "--json"))
    assert gone["requester_name"] is None and gone["requester_email"] is None
    assert gone["outcome"] == "Pack sent"
    kept = _ok(crm("request", "show", str(recent["id"]), "--json"))
    assert kept["requester_name"] == "Sam Else"
    assert _ok(crm("request", "forget-expired", "--json")) == {"forgotten": 0}
    assert crm("audit", "verify").code == 0
