"""crm init and crm prospect add / edit / delete / list / show."""

from __future__ import annotations

from dataclasses import fields

import pytest
from cli_support import assert_error

from crm_desktop.cli import prospect_commands
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import prospects


def _ids(result) -> list[int]:
    assert result.code == 0, result
    return [row["id"] for row in result.json()]


# ----------------------------------------------------------------- init


def test_init_creates_the_database_and_says_where(crm, db_path):
    assert not db_path.exists()
    result = crm("init")
    assert result.code == 0, result
    assert "Created" in result.out and str(db_path) in result.out
    assert db_path.stat().st_size > 0

    again = crm("init", "--json")
    assert again.code == 0, again
    assert again.json() == {"database": str(db_path), "path": str(db_path), "created": False}
    assert crm("prospect", "list", "--json").json() == []


# ------------------------------------------------------------------ add


def test_add_prints_json_with_id_and_normalised_values(crm):
    result = crm(
        "prospect",
        "add",
        "--first-name",
        " Ada ",
        "--last-name",
        "Lovelace",
        "--email",
        " Ada.Lovelace@EXAMPLE.COM ",
        "--phone",
        "020 7946 0018",
        "--school",
        "Hilltop Primary",
        "--role",
        "Headteacher",
        "--interest",
        "safeguarding",
        "--interest",
        "MIS integration",
        "--stage",
        "Demo booked",
        "--source",
        "web form",
        "--source-date",
        "01/02/2024",
        "--owner",
        "carol",
        "--json",
    )
    assert result.code == 0, result
    assert result.err == ""
    record = result.json()
    assert isinstance(record["id"], int)
    assert record["email"] == "Ada.Lovelace@example.com"
    assert record["first_name"] == "Ada"
    assert record["phone"] == "+442079460018"
    assert record["school_name"] == "Hilltop Primary"
    assert record["interests"] == ["MIS integration", "Safeguarding"]
    assert record["stage"] == "demo-booked"
    assert record["source"] == "web-form"
    assert record["source_date"] == "2024-02-01"
    assert record["owner"] == "carol"

    shown = crm("prospect", "show", str(record["id"]), "--json").json()
    assert shown == {**record, "correspondence": []}


def test_add_and_show_for_people(crm, add):
    result = crm(
        "prospect",
        "add",
        "--first-name=Ada",
        "--last-name=Lovelace",
        "--email=ada@example.com",
        "--phone=+44 20 7946 0018",
        "--school=Hilltop Primary",
        "--stage=demo-booked",
    )
    assert result.code == 0, result
    assert result.out.startswith("Added prospect #1: Ada Lovelace <ada@example.com>")

    shown = crm("prospect", "show", "ada@example.com")
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    assert lines[0] == "Prospect #1"
    assert "Phone:          020 7946 0018" in lines  # national format, aligned
    assert "Stage:          Demo booked" in lines  # the label, not the value
    assert "School:         Hilltop Primary" in lines
    assert "No correspondence yet." in lines


def test_duplicate_email_is_refused_naming_the_existing_prospect(crm, add):
    first = add("Ada", "Lovelace", email="ada@example.com")
    result = crm(
        "prospect", "add", "--first-name=Augusta", "--last-name=King", "--email=ADA@Example.com"
    )
    assert_error(result, 1, "Ada Lovelace", f"#{first['id']}")
    assert _ids(crm("prospect", "list", "--json")) == [first["id"]]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--email", "not-an-email", "Email: 'not-an-email' is not a valid email address"),
        ("--phone", "12", "Phone: '12' is not a possible phone number (too short)"),
        ("--stage", "sold", "Stage: 'sold' is not one of"),
        ("--source-date", "2999-01-01", "Source date cannot be in the future"),
        ("--interest", "Space tourism", "'Space tourism' is not one of our services"),
    ],
)
def test_invalid_values_are_refused_with_one_clear_line(crm, option, value, message):
    argv = ["prospect", "add", "--first-name=Ada", "--last-name=Lovelace", f"{option}={value}"]
    if option != "--email":
        argv.append("--email=ada@example.com")
    result = crm(*argv)
    assert_error(result, 1, f"crm: error: {message}" if ":" in message else message)
    assert crm("prospect", "list", "--json").json() == []


def test_email_or_phone_is_needed(crm):
    result = crm("prospect", "add", "--first-name=Ada", "--last-name=Lovelace")
    assert_error(result, 1, "give an email address or a phone number")


def test_a_missing_required_option_is_a_usage_error(run_crm, db_path):
    args = ["prospect", "add", "--last-name=Lovelace", "--email=ada@example.com"]
    result = run_crm("--db", str(db_path), *args)
    assert_error(result, 2, "crm prospect add: error:", "--first-name")
    assert not db_path.exists()


def test_a_phone_warning_goes_to_stderr_and_the_prospect_is_saved(crm):
    result = crm(
        "prospect", "add", "--first-name=Ada", "--last-name=L", "--phone=07700 900123", "--json"
    )
    assert result.code == 0
    assert result.json()["phone"] == "+447700900123"
    assert result.err.startswith("crm: warning: Phone 07700 900123 is not in a known")
    assert len(result.err.splitlines()) == 1


def test_unknown_source_text_is_kept_as_other_with_a_warning(crm, add):
    result = crm(
        "prospect", "add", "--first-name=Ada", "--last-name=L", "--email=a@example.com",
        "--source=Twitter ad", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    record = result.json()
    assert (record["source"], record["source_detail"]) == ("other", "Twitter ad")
    assert result.err.startswith("crm: warning: 'Twitter ad' is not a known source")

    labelled = add("Grace", "Hopper", source="Public directory (GIAS)", source_detail="2024 list")
    assert (labelled["source"], labelled["source_detail"]) == ("public-directory", "2024 list")


# ----------------------------------------------------------------- edit


def test_edit_changes_only_the_options_given(crm, add):
    before = add(
        "Ada",
        "Lovelace",
        email="ada@example.com",
        phone="020 7946 0018",
        school="Hilltop Primary",
        role="Headteacher",
        interest="Safeguarding",
        stage="trial",
        source="referral",
        source_detail="from Grace",
        source_date="2024-05-01",
        owner="carol",
    )
    result = crm(
        "prospect", "edit", "ADA@example.com", "--role=Deputy head", "--stage=customer", "--json"
    )
    assert result.code == 0, result
    after = result.json()
    assert after["role"] == "Deputy head"
    assert after["stage"] == "customer"
    assert after["version"] == before["version"] + 1
    changed = {"role", "stage", "version", "updated_at"}
    assert {k: v for k, v in after.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    assert crm("prospect", "show", "ada@example.com", "--json").json()["role"] == "Deputy head"


def test_edit_starts_from_every_current_value(ctx, add):
    """A field the edit did not copy from the view would be wiped by every edit."""
    add("Ada", "Lovelace", phone="020 7946 0018", school="Hilltop", role="Head",
        interest="Safeguarding", stage="trial", source="referral", source_detail="Grace",
        source_date="2024-05-01", owner="carol")  # fmt: skip
    view = prospects.get_prospect(ctx, 1)
    data = prospect_commands.input_from(view)
    for field in fields(ProspectInput):
        if field.name == "school":  # a new school's name; school_id keeps the current one
            continue
        assert getattr(data, field.name) == getattr(view, field.name), field.name


def test_edit_can_relink_the_school_and_clear_fields(crm, add):
    before = add(
        "Ada", "Lovelace", phone="020 7946 0018", school="Hilltop Primary", interest="SEND support"
    )
    result = crm(
        "prospect", "edit", str(before["id"]),
        "--school=Valley Academy", "--phone=", "--interest=", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    after = result.json()
    assert after["school_name"] == "Valley Academy"
    assert after["school_id"] != before["school_id"]
    assert after["phone"] is None
    assert after["interests"] == []
    assert after["email"] == before["email"]


def test_edit_with_nothing_to_change_is_a_usage_error(crm, add):
    add()
    assert_error(crm("prospect", "edit", "1"), 2, "nothing to change")


def test_edit_to_another_prospects_email_is_refused(crm, add):
    add("Ada", "Lovelace", email="ada@example.com")
    grace = add("Grace", "Hopper", email="grace@example.com")
    result = crm("prospect", "edit", "grace@example.com", "--email=Ada@example.com")
    assert_error(result, 1, "Ada Lovelace")
    assert (
        crm("prospect", "show", str(grace["id"]), "--json").json()["email"] == "grace@example.com"
    )


def test_edit_an_unknown_prospect(crm, add):
    add()
    assert_error(crm("prospect", "edit", "nobody@example.com", "--role=x"), 1, "No prospect")


# --------------------------------------------------------------- delete


def test_delete_by_email(crm, add):
    ada = add("Ada", "Lovelace", email="ada@example.com")
    grace = add("Grace", "Hopper")
    result = crm("prospect", "delete", "ADA@example.com")
    assert result.code == 0, result
    assert f"Deleted prospect #{ada['id']}: Ada Lovelace" in result.out
    assert_error(crm("prospect", "show", str(ada["id"])), 1, f"No prospect with id {ada['id']}")
    assert _ids(crm("prospect", "list", "--json")) == [grace["id"]]
    assert_error(crm("prospect", "delete", "ada@example.com"), 1, "No prospect")


def test_delete_blanks_the_person_in_the_audit_trail_which_still_verifies(crm, add, db_path):
    import sqlite3

    ada = add("Ada", "Lovelace", email="ada@example.com")
    grace = add("Grace", "Hopper")
    assert crm("log", str(ada["id"]), "--kind=call", "--summary=Analytical engine chat").code == 0
    assert crm("prospect", "edit", str(ada["id"]), "--role=Countess", "--reason=Ada said").code == 0
    assert crm("prospect", "delete", str(ada["id"])).code == 0
    con = sqlite3.connect(db_path)
    stored = " ".join(
        f"{v} {r}" for v, r in con.execute('SELECT "values", reason FROM audit_entry')
    )
    con.close()
    for trace in ("Ada", "Lovelace", "ada@example.com", "Analytical", "Countess"):
        assert trace not in stored, trace
    assert "Grace" in stored and grace["email"] in stored
    verified = crm("audit", "verify")
    assert verified.code == 0 and "intact" in verified.out


def test_delete_and_erase_help_say_what_each_does(crm):
    delete = " ".join(crm("prospect", "delete", "--help").out.split())
    assert "blanked in the audit trail" in delete and "not suppressed" in delete
    assert "crm erase" in delete
    erase = " ".join(crm("erase", "--help").out.split())
    assert "suppression list" in erase and "audit trail" in erase
    assert "crm prospect delete" in erase


# ----------------------------------------------------------------- list


def test_list_search_and_limit(crm, add):
    ada = add("Ada", "Lovelace")
    alan = add("Alan", "Turing")
    grace = add("Grace", "Hopper", school="Turing Academy")
    # Ordered by last name, then first name.
    assert _ids(crm("prospect", "list", "--json")) == [grace["id"], ada["id"], alan["id"]]
    assert _ids(crm("prospect", "list", "--search", "turing", "--json")) == [
        grace["id"],
        alan["id"],
    ]
    assert _ids(crm("prospect", "list", "--search", "lovel", "--json")) == [ada["id"]]
    assert _ids(crm("prospect", "list", "--limit", "2", "--json")) == [grace["id"], ada["id"]]
    assert _ids(crm("prospect", "list", "--search", "nobody", "--json")) == []

    people = crm("prospect", "list", "--search", "turing")
    lines = people.out.splitlines()
    assert lines[0].split() == [
        "ID",
        "Name",
        "Email",
        "School",
        "Job",
        "role",
        "Stage",
        "Follow-up",
    ]
    assert len(lines) == 3
    assert "Grace Hopper" in lines[1] and "Turing Academy" in lines[1]
    # Columns line up: every row's email starts where the header's does.
    column = lines[0].index("Email")
    assert lines[1][column:].startswith("grace.hopper@example.com")
    assert lines[2][column:].startswith("alan.turing@example.com")

    none = crm("prospect", "list", "--search", "nobody")
    assert (none.code, none.out, none.err) == (0, "", "No prospects match.\n")


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_list_limit_must_be_a_positive_number(crm, limit):
    assert_error(crm("prospect", "list", f"--limit={limit}"), 2, "--limit")


@pytest.fixture
def many(ctx):
    """250 prospects, added through the services (faster than the CLI)."""
    return [
        prospects.create_prospect(
            ctx,
            ProspectInput(first_name=f"P{i:03d}", last_name="Many", email=f"p{i}@example.com"),
        ).record.id
        for i in range(250)
    ]


@pytest.fixture
def page_calls(monkeypatch):
    """Page through 100 rows at a time and record each (offset, limit) asked for."""
    calls: list[tuple[int, int | None]] = []
    real = prospects.list_prospects

    def spy(ctx, *args, offset=0, limit=None, **kwargs):
        calls.append((offset, limit))
        return real(ctx, *args, offset=offset, limit=limit, **kwargs)

    monkeypatch.setattr(prospect_commands, "PAGE_SIZE", 100)
    monkeypatch.setattr(prospects, "list_prospects", spy)
    return calls


def test_list_prints_every_match_without_a_limit(crm, many, page_calls):
    assert _ids(crm("prospect", "list", "--json")) == many  # P000..P249, by first name
    assert page_calls == [(0, 100), (100, 100), (200, 100)]

    page_calls.clear()
    lines = crm("prospect", "list").out.splitlines()
    assert len(lines) == 1 + 250
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in many]
    assert all(call[1] == 100 for call in page_calls)  # never everything at once


def test_list_limit_stops_paging_early(crm, many, page_calls):
    assert _ids(crm("prospect", "list", "--limit", "120", "--json")) == many[:120]
    assert page_calls == [(0, 100), (100, 20)]


# ----------------------------------------------------------------- show


def test_show_by_id_hash_id_and_email_in_any_case(crm, add):
    add("Grace", "Hopper")
    ada = add("Ada", "Lovelace", email="Ada.Lovelace@example.com")
    for ref in (
        str(ada["id"]),
        f"#{ada['id']}",
        "ada.lovelace@EXAMPLE.COM",
        " Ada.Lovelace@example.com ",
    ):
        shown = crm("prospect", "show", ref, "--json")
        assert shown.code == 0, (ref, shown)
        assert (shown.json()["id"], shown.json()["email"]) == (ada["id"], ada["email"])


def test_show_an_unknown_prospect(crm, add):
    add()
    assert_error(crm("prospect", "show", "999"), 1, "No prospect with id 999")
    assert_error(crm("prospect", "show", "who@example.com"), 1, "who@example.com")
