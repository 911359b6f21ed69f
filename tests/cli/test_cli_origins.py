"""crm prospect show / opt-out with a prospect's extra addresses and import origin (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cli_support import assert_error
from import_support import add_address, add_batch

from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services import suppression as S


@pytest.fixture
def service(crm, db_path):
    """A service context on the database the ``crm`` fixture runs on."""
    crm("prospect", "list")  # makes the database
    db = open_database(db_path)
    yield Context(db, user="alice")
    db.dispose()


@pytest.fixture
def ada(crm, add, service) -> int:
    pid = add("Ada", "Lovelace", email="ada@example.com")["id"]
    add_address(service, pid, "Ada.Home@Mail.example", position=1)
    add_address(service, pid, "07700 900222", position=1)
    add_batch(service, {pid: ("created", 4)}, created_at=datetime(2026, 1, 22, 9, tzinfo=UTC))
    return pid


def test_show_lists_other_addresses_and_the_origin(crm, ada):
    shown = crm("prospect", "show", str(ada))
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    assert "Other emails:   Ada.Home@Mail.example" in lines
    assert "Other phones:   07700 900222" in lines
    assert (
        "Origin:         Imported from bett-2026.csv (Bett 2026 stand sign-ups) "
        "on 22 Jan 2026 by alice"
    ) in lines
    assert not [line for line in lines if line.startswith("Source:")]
    data = crm("prospect", "show", str(ada), "--json").json()
    assert data["other_emails"] == ["Ada.Home@Mail.example"]
    assert data["other_phones"] == ["+447700900222"]
    assert [(o["file_name"], o["outcome"], o["row_number"]) for o in data["origins"]] == [
        ("bett-2026.csv", "created", 4)
    ]


def test_show_someone_typed_in_is_as_before(crm, add):
    add("Grace", "Hopper", email="grace@example.com")
    lines = crm("prospect", "show", "grace@example.com").out.splitlines()
    assert not [line for line in lines if line.startswith(("Other", "Origin"))]
    assert any(line.startswith("Source:") for line in lines)


def test_an_extra_email_finds_the_person_and_an_opt_out_through_it_covers_all(crm, ada, service):
    shown = crm("prospect", "show", "ada.home@mail.EXAMPLE", "--json")
    assert shown.code == 0 and shown.json()["id"] == ada
    result = crm("opt-out", "ada.home@mail.example")
    assert result.code == 0, result
    for address in ("ada@example.com", "Ada.Home@Mail.example", "07700 900222"):
        assert {e.channel for e in S.lookup(service, address)} == {"all"}, address
    # The search box finds them by the whole extra address too.
    found = crm("prospect", "list", "--search", "ada.home@mail.example", "--json").json()
    assert [row["id"] for row in found] == [ada]


def test_an_extra_email_two_people_share_asks_for_an_id(crm, add, ada, service):
    bob = add("Bob", "Lovelace", email="bob@example.com")["id"]
    add_address(service, bob, "ada.home@mail.example")
    assert_error(crm("prospect", "show", "ada.home@mail.example"), 1, f"#{ada}, #{bob}")
