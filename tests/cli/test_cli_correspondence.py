"""crm log and crm followups."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from cli_support import assert_error

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import correspondence


def _days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def test_log_records_the_time_given_and_the_follow_up(crm, add):
    ada = add("Ada", "Lovelace", email="ada@example.com")
    at = (datetime.now() - timedelta(days=3)).replace(second=0, microsecond=0)
    result = crm(
        "log", "ADA@example.com", "--kind=call", "--summary=Talked about pricing",
        "--subject=Pricing", f"--at={at.isoformat(timespec='minutes')}",
        f"--follow-up={_days(7)}", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    contact = result.json()
    assert contact["prospect_id"] == ada["id"]
    assert contact["kind"] == "call"
    # A time without a zone is local time; it is stored as UTC.
    assert datetime.fromisoformat(contact["occurred_at"]) == at.astimezone(UTC)
    assert contact["follow_up_on"] == _days(7)

    shown = crm("prospect", "show", "ada@example.com", "--json").json()
    assert shown["correspondence"] == [contact]
    assert shown["next_follow_up"] == _days(7)
    assert datetime.fromisoformat(shown["last_contact_at"]) == at.astimezone(UTC)

    people = crm("prospect", "show", "ada@example.com").out
    assert f"- {format_datetime(at.astimezone())}  Phone call by " in people
    assert "  Subject: Pricing\n  Talked about pricing\n" in people


def test_log_for_people_uses_labels_and_local_time(crm, add):
    add("Ada", "Lovelace", email="ada@example.com")
    at = datetime.now().replace(microsecond=0) - timedelta(hours=2)
    result = crm("log", "1", "--kind", "Video call", "--summary", "Demo", "--at", at.isoformat())
    assert result.code == 0, result
    when = format_datetime(at.astimezone())  # the one date format, as the GUI writes it
    assert result.out == f"Logged video call with Ada Lovelace (#1) at {when}.\n"


def test_followups_overdue_first_then_by_date(crm, add):
    for name in ("Later", "Overdue", "Today", "Soon"):
        add(name, "Person")
    for ref, due in (("later.person@example.com", 30), ("overdue.person@example.com", -5),
                     ("today.person@example.com", 0), ("soon.person@example.com", 2)):  # fmt: skip
        result = crm(
            "log", ref, "--kind=email-out", f"--summary=About {ref}", f"--follow-up={_days(due)}"
        )
        assert result.code == 0, result
    crm("log", "later.person@example.com", "--kind=note", "--summary=No follow-up")

    items = crm("followups", "--json").json()
    assert [(i["prospect_name"], i["status"]) for i in items] == [
        ("Overdue Person", "overdue"),
        ("Today Person", "today"),
        ("Soon Person", "upcoming"),
        ("Later Person", "upcoming"),
    ]
    assert [i["due"] for i in items] == [_days(-5), _days(0), _days(2), _days(30)]

    lines = crm("followups").out.splitlines()
    assert lines[0].split()[:2] == ["Due", "Status"]
    overdue = format_date(date.fromisoformat(_days(-5)))
    assert lines[1].split()[:5] == [*overdue.split(), "overdue", "Overdue"]
    assert len(lines) == 5

    assert [i["prospect_name"] for i in crm("followups", "--limit=2", "--json").json()] == [
        "Overdue Person",
        "Today Person",
    ]


def test_followups_mine_leaves_out_other_peoples(crm, add, db):
    from crm_desktop.services import Context

    ada = add("Ada", "Lovelace")
    crm("log", str(ada["id"]), "--kind=call", "--summary=mine", f"--follow-up={_days(1)}")
    correspondence.log_contact(
        Context(db, user="someone-else"),
        ada["id"],
        ContactInput(kind="call", summary="theirs", follow_up_on=_days(-1)),
    )
    assert [i["summary"] for i in crm("followups", "--json").json()] == ["theirs", "mine"]
    assert [i["summary"] for i in crm("followups", "--mine", "--json").json()] == ["mine"]


def test_no_followups(crm):
    result = crm("followups")
    assert (result.code, result.out, result.err) == (0, "", "No open follow-ups.\n")
    assert crm("followups", "--json").json() == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--kind=fax"], "Kind: 'fax' is not one of: email-in, email-out, call"),
        (["--kind=call", "--at=yesterday"], "Date/time: 'yesterday' is not a date and time"),
        (["--kind=call", "--at=2026-02-30T10:00"], "Date/time: '2026-02-30T10:00' is not a date"),
        (
            ["--kind=call", f"--at={date.today() + timedelta(days=2)}T09:00"],
            "Date/time cannot be in the future",
        ),
        (["--kind=call", "--follow-up=next week"], "Follow-up date: 'next week' is not a date"),
        (["--kind=call", "--summary=  "], "Summary is required"),
    ],
)
def test_bad_log_options_are_refused_and_nothing_is_logged(crm, add, options, message):
    add("Ada", "Lovelace", email="ada@example.com")
    argv = ["log", "ada@example.com", "--summary=Hello", *options]
    assert_error(crm(*argv), 1, f"crm: error: {message}")
    assert crm("prospect", "show", "ada@example.com", "--json").json()["correspondence"] == []


def test_log_needs_kind_and_summary(crm, add):
    add()
    assert_error(crm("log", "1", "--summary=x"), 2, "--kind")
    assert_error(crm("log", "1", "--kind=call"), 2, "--summary")


def test_log_for_an_unknown_prospect(crm, add):
    add()
    assert_error(crm("log", "nobody@example.com", "--kind=call", "--summary=x"), 1, "No prospect")
    assert_error(crm("log", "42", "--kind=call", "--summary=x"), 1, "No prospect with id 42")


def test_log_summary_from_standard_input(crm, add, monkeypatch):
    add("Ada", "Lovelace", email="ada@example.com")
    monkeypatch.setattr("sys.stdin", io.StringIO("First line\nSecond line\n"))
    result = crm("log", "ada@example.com", "--kind=meeting", "--summary=-", "--json")
    assert result.code == 0, result
    assert result.json()["summary"] == "First line\nSecond line"
