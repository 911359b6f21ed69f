"""``crm prospect bulk``: by filter or ids on stdin, says how many first, asks before
deleting or opting out, names the people it leaves alone."""

from __future__ import annotations

import io
import sys

import pytest
from cli_support import assert_error


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the answers typed."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def three(crm, add):
    ada = add("Ada", "Lovelace", school="Oakfield Primary", stage="lead")
    bob = add("Bob", "Babbage", school="Oakfield Primary", stage="lead")
    cy = add("Cy", "Cedar", school="Elm Academy", stage="lead")
    return ada, bob, cy


def show(crm, pid):
    result = crm("prospect", "show", str(pid), "--json")
    assert result.code == 0, result
    return result.json()


def test_set_stage_by_filter_says_how_many_and_changes_only_the_matches(crm, three):
    ada, bob, cy = three
    result = crm("prospect", "bulk", "--school", "oakfield primary", "--set-stage", "contacted")
    assert result.code == 0, result
    assert "2 prospects selected" in result.err
    assert result.out.strip() == "Stage set to Contacted for 2 prospects."
    assert [show(crm, p["id"])["stage"] for p in three] == ["contacted", "contacted", "lead"]
    again = crm("prospect", "bulk", "--search", "oakfield", "--set-stage", "contacted", "--json")
    assert again.json()["changed"] == 0 and again.json()["unchanged"] == 2


def test_ids_from_stdin_take_ids_and_emails(crm, three, monkeypatch):
    ada, bob, cy = three
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{ada['id']}\n\ncy.cedar@example.com\n"))
    result = crm("prospect", "bulk", "--ids-from-stdin", "--set-owner", "zoe", "--json")
    assert result.code == 0, result
    assert result.json()["changed"] == 2
    owners = [show(crm, p["id"])["owner"] for p in three]
    assert owners[0] == owners[2] == "zoe" and owners[1] != "zoe"


def test_unknown_stdin_lines_change_nothing(crm, three, monkeypatch):
    ada = three[0]
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{ada['id']}\nnobody@example.org\n"))
    result = crm("prospect", "bulk", "--ids-from-stdin", "--set-stage", "trial")
    assert_error(result, 1, "nobody@example.org", "nothing was changed")
    assert show(crm, ada["id"])["stage"] == "lead"


def test_delete_needs_yes_without_a_terminal_and_asks_on_one(crm, three, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    refused = crm("prospect", "bulk", "--search", "oakfield", "--delete")
    assert refused.code == 1 and "add --yes" in refused.err
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    declined = crm("prospect", "bulk", "--search", "oakfield", "--delete")
    assert declined.code == 1 and "Delete: 2 prospects? [y/N]" in declined.err
    assert "Nothing was changed." in declined.err
    assert len(crm("prospect", "list", "--json").json()) == 3
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    done = crm("prospect", "bulk", "--search", "oakfield", "--delete")
    assert done.code == 0 and done.out.strip() == "Deleted 2 prospects."
    assert [p["first_name"] for p in crm("prospect", "list", "--json").json()] == ["Cy"]


def test_restricted_people_are_named_and_the_rest_are_done(crm, three):
    ada, bob, _cy = three
    assert crm("restrict", str(bob["id"]), "--reason", "Accuracy contested").code == 0
    result = crm("prospect", "bulk", "--search", "oakfield", "--add-interest", "SEND support")
    assert result.code == 0
    assert "Bob Babbage (restricted)" in result.err
    assert result.out.strip() == "Interest 'SEND support' added to 1 prospect."
    only_bob = crm("prospect", "bulk", "--search", "babbage", "--set-stage", "trial")
    assert only_bob.code == 1 and "Bob Babbage (restricted)" in only_bob.err
    # An opt-out is honoured for a restricted person too.
    opted = crm("prospect", "bulk", "--search", "babbage", "--opt-out", "email", "--yes")
    assert opted.code == 0 and "Opted out of Email: 1 prospect." in opted.out


def test_log_contact_for_each_and_its_field_errors(crm, three):
    result = crm("prospect", "bulk", "--stage", "lead", "--log-contact", "call",
                 "--summary", "Term-start call round", "--follow-up", "2031-02-03")  # fmt: skip
    assert result.code == 0 and "Contact logged with 3 prospects." in result.out
    shown = show(crm, three[2]["id"])
    assert shown["correspondence"][0]["summary"] == "Term-start call round"
    assert shown["next_follow_up"] == "2031-02-03"
    bad = crm("prospect", "bulk", "--log-contact", "carrier-pigeon", "--summary", "x")
    assert_error(bad, 1, "--log-contact")
    missing = crm("prospect", "bulk", "--log-contact", "call")
    assert_error(missing, 2, "--summary")


def test_exactly_one_action_and_no_mixing_filters_with_stdin(crm, three):
    assert_error(crm("prospect", "bulk", "--search", "x"), 2, "exactly one action")
    assert_error(
        crm("prospect", "bulk", "--set-stage", "lead", "--delete"), 2, "exactly one action"
    )
    assert_error(
        crm("prospect", "bulk", "--ids-from-stdin", "--search", "a", "--delete"), 2, "either"
    )
    assert_error(crm("prospect", "bulk", "--school", "Nowhere", "--delete"), 1, "no school")


def test_nothing_matching_changes_nothing(crm, three):
    result = crm("prospect", "bulk", "--search", "zzzz", "--delete", "--yes")
    assert result.code == 0 and "No prospects match" in result.err
