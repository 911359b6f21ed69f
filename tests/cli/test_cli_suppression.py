"""crm suppress / suppressed, and crm import-unsubscribes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import assert_error

from crm_desktop.services import suppression

LI = "--note=Buys for their school"
MAILCHIMP_HEADER = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,UNSUB_TIME,"
    "UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,LEID,EUID,NOTES"
)


def _mailchimp_row(email: str, first: str = "A", last: str = "B") -> str:
    return (
        f'"{email}",{first},{last},2,"2025-09-01 10:00:00",,"2025-09-01 10:01:00",,,,,,,,,'
        '"2026-01-10 09:00:00","Spring offer",abc123,1,xyz,'
    )


def _is_suppressed(crm, address: str) -> bool:
    result = crm("suppressed", address, "--json")
    assert result.code in (0, 1), result
    assert result.json()["suppressed"] is (result.code == 0)
    return result.code == 0


def _email_opted_out(crm, ref: str) -> bool:
    result = crm("permissions", ref, "--json")
    assert result.code == 0, result
    return next(c for c in result.json()["channels"] if c["channel"] == "email")["opted_out"]


def _export_emails(crm, channel: str = "email") -> list[str]:
    result = crm("export", f"--channel={channel}", "--preview", "--json")
    assert result.code == 0, result
    return sorted(p["email"] or p["phone"] for p in result.json()["included_people"])


# ------------------------------------------------------------- suppress


def test_suppress_and_look_up_an_address(crm, add, tmp_path):
    add("Ada", "Lovelace", email="ada@hilltop.sch.uk")
    crm("basis", "1", "--legitimate-interest", LI)
    assert _export_emails(crm) == ["ada@hilltop.sch.uk"]

    result = crm("suppress", "ADA@Hilltop.sch.uk", "--reason=Asked us by phone")
    assert result.code == 0, result
    assert result.out == "Added to the suppression list for all channels.\n"
    again = crm("suppress", "ada@hilltop.sch.uk", "--json")
    assert again.json() == {"added": False, "channel": "all"}
    assert _export_emails(crm) == []

    found = crm("suppressed", "ada@hilltop.sch.uk")
    assert found.code == 0, found
    lines = found.out.splitlines()
    assert lines[0] == "On the suppression list:"
    assert lines[1].startswith("- all channels: manual, Asked us by phone; since ")
    entries = crm("suppressed", " Ada@HILLTOP.sch.uk ", "--json").json()["entries"]
    assert [(e["kind"], e["channel"], e["reason"], e["source"]) for e in entries] == [
        ("email", "all", "manual", "Asked us by phone")
    ]


def test_suppressed_exits_1_when_not_suppressed(crm):
    result = crm("suppressed", "nobody@example.com")
    assert (result.code, result.out, result.err) == (1, "Not on the suppression list.\n", "")
    as_json = crm("suppressed", "nobody@example.com", "--json")
    assert as_json.code == 1
    assert as_json.json() == {"suppressed": False, "entries": []}
    assert_error(crm("suppressed", "not an address"), 1, "neither an email address nor a phone")


def test_suppress_a_phone_for_one_channel(crm, add, tmp_path):
    add("Sam", "Mobile", "--phone=07700 900123", email="sam@hilltop.sch.uk")
    crm("basis", "1", "--legitimate-interest", LI)
    assert crm("suppress", "+44 7700 900123", "--channel=sms").code == 0
    entries = crm("suppressed", "07700900123", "--json").json()["entries"]
    assert [(e["kind"], e["channel"]) for e in entries] == [("phone", "sms")]
    assert _export_emails(crm, "sms") == []
    assert _export_emails(crm, "phone") == ["sam@hilltop.sch.uk"]
    reasons = crm("export", "--channel=sms", "--preview", "--json").json()["excluded_by_reason"]
    assert reasons == {"suppressed": 1}


def test_lookups_never_show_other_peoples_addresses(crm, add, tmp_path):
    add("Ada", "Lovelace", "--phone=020 7946 0018", email="ada@hilltop.sch.uk")
    crm("object", "1")  # suppresses her email and phone
    for argv in (["suppressed", "020 7946 0018"], ["suppressed", "020 7946 0018", "--json"]):
        result = crm(*argv)
        assert result.code == 0, result
        assert "ada@" not in result.out and "Lovelace" not in result.out
        assert "prospect #1" in result.out  # where the entry came from, by id only
    listing = tmp_path / "list.txt"
    listing.write_text("new@example.com\nada@hilltop.sch.uk\nnonsense\n", encoding="utf-8")
    result = crm("suppress", f"--file={listing}")
    assert result.code == 0, result
    assert "@" not in result.out + result.err  # only the bad line is quoted back
    assert "'nonsense'" in result.err


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["suppress", "not an address"], 1, "EMAIL|PHONE: 'not an address' is neither"),
        (["suppress", "a@example.com", "--channel=fax"], 1, "--channel: 'fax' is not one of"),
        (["suppress", "a@example.com", "--reason=bad\x1bescape"], 1, "--reason: contains control"),
        (["suppress"], 2, "give one EMAIL|PHONE, or --file FILE"),
        (["suppress", "a@example.com", "--file=x.txt"], 2, "give one EMAIL|PHONE, or --file"),
        (["suppress", "--file=x.txt", "--channel=sms"], 2, "--channel cannot be used with --file"),
        (["suppress", "--file=/no/such/file.txt"], 1, "does not exist"),
    ],
)
def test_suppress_refusals_add_nothing(crm, ctx, argv, code, fragment):
    assert_error(crm(*argv), code, fragment)
    assert suppression.count(ctx) == 0


def test_suppress_a_file_of_addresses(crm, ctx, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text(
        "one@example.com\n\n  Two@Example.com  \n020 7946 0018\nnot-an-address\none@example.com\n",
        encoding="utf-8",
    )
    result = crm("suppress", f"--file={plain}", "--json")
    assert result.code == 0, result
    assert result.json() == {"added": 3, "already": 1, "invalid": ["not-an-address"]}
    for address in ("one@example.com", "two@example.com", "+442079460018"):
        assert _is_suppressed(crm, address), address

    csv_file = tmp_path / "from-excel.csv"
    csv_file.write_text(
        "Name,Email,Notes\nThree,three@example.com,x\nOne,one@example.com,y\n", encoding="utf-8"
    )
    people = crm("suppress", f"--file={csv_file}", "--reason=Old bounce list")
    assert people.code == 0, people
    assert people.out == ("Suppressed 1 new address for all channels; 1 was on the list already.\n")
    assert people.err == ""
    entry = crm("suppressed", "three@example.com", "--json").json()["entries"][0]
    assert entry["source"] == "Old bounce list"
    assert suppression.count(ctx) == 4


def test_suppress_refuses_a_binary_file_and_adds_nothing(crm, ctx, tmp_path):
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"one@example.com\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert_error(crm("suppress", f"--file={binary}"), 1, "photo.png is not a text file")
    assert suppression.count(ctx) == 0


# ---------------------------------------------------- import-unsubscribes


@pytest.fixture
def people(crm, add) -> None:
    add("Ada", "Lovelace", email="ada@hilltop.sch.uk")  # unsubscribed in the tool
    add("Otto", "Out", email="otto@valley.sch.uk")  # opted out with us already
    add("Kim", "Keeps", email="kim@valley.sch.uk")  # not in the file
    for ref in ("1", "2", "3"):
        crm("basis", ref, "--legitimate-interest", LI)
    crm("opt-out", "2", "--channel=email")
    crm("suppress", "old@example.com", "--channel=email")  # an earlier sync


def _mailchimp_file(tmp_path: Path) -> Path:
    rows = [
        MAILCHIMP_HEADER,
        _mailchimp_row("ada@hilltop.sch.uk", "Ada", "Lovelace"),
        _mailchimp_row("otto@valley.sch.uk"),
        _mailchimp_row("new@example.com"),
        _mailchimp_row("old@example.com"),
        _mailchimp_row("ADA@hilltop.sch.uk"),  # the same address again
        _mailchimp_row("not-an-email"),
    ]
    path = tmp_path / "unsubscribed_members_export_1a2b3c.csv"
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return path


def test_import_a_mailchimp_unsubscribe_export(crm, people, tmp_path):
    path = _mailchimp_file(tmp_path)
    result = crm("import-unsubscribes", str(path), "--json")
    assert result.code == 0, result
    assert result.json() == {
        "file": path.name,
        "rows": 6,
        "matched": 1,
        "already_opted_out": 1,
        "new": 1,
        "already_suppressed": 1,
        "duplicates": 1,
        "invalid": 1,
        "invalid_examples": ["not-an-email"],
        "cancelled": False,
        "applied": 6,
        "remaining": 0,
    }
    assert _email_opted_out(crm, "ada@hilltop.sch.uk")
    channels = crm("permissions", "1", "--json").json()["channels"]
    assert channels[0]["opt_out_source"] == "email-tool"
    assert not _email_opted_out(crm, "kim@valley.sch.uk")
    assert _is_suppressed(crm, "new@example.com")
    assert _export_emails(crm) == ["kim@valley.sch.uk"]

    again = crm("import-unsubscribes", str(path), "--json").json()
    assert (again["matched"], again["already_opted_out"]) == (0, 2)
    assert (again["new"], again["already_suppressed"]) == (0, 2)


def test_import_prints_the_report(crm, people, tmp_path):
    result = crm("import-unsubscribes", str(_mailchimp_file(tmp_path)))
    assert result.code == 0, result
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == "Read 6 rows from unsubscribed_members_export_1a2b3c.csv."
    counts = {line.split(":")[0]: line.split(":")[1].strip() for line in lines[1:7]}
    assert counts == {
        "Opted out of email now": "1",
        "Already opted out": "1",
        "New on the suppression list": "1",
        "Already on the suppression list": "1",
        "Duplicates in the file": "1",
        "Not an email address": "1",
    }
    assert lines[7] == "  e.g. 'not-an-email'"


def test_import_a_plain_list(crm, people, tmp_path):
    path = tmp_path / "bounces.txt"
    path.write_text("ada@hilltop.sch.uk\n\nfresh@example.com\n", encoding="utf-8")
    report = crm("import-unsubscribes", str(path), "--json").json()
    assert (report["rows"], report["matched"], report["new"], report["invalid"]) == (2, 1, 1, 0)
    assert _email_opted_out(crm, "1")
    assert _is_suppressed(crm, "fresh@example.com")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            b"ada@hilltop.sch.uk\nnew@example.com\n\x00\x01\x02\xff\xfe binary" * 3,
            "is not a text file (it holds binary data)",
        ),
        (b"Name,Phone\nAda,020 7946 0018\n", "has no email column"),
        (
            # A good address first, then a line the reader cannot take: all or nothing.
            b'Email Address\nada@hilltop.sch.uk\nnew@example.com\n"' + b"x" * 20_000 + b'"\n',
            "field larger than field limit",
        ),
    ],
    ids=["binary", "no-email-column", "bad-line-after-good-ones"],
)
def test_import_refuses_a_bad_file_and_applies_nothing(
    crm, ctx, people, tmp_path, content, fragment
):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    before = suppression.count(ctx)
    assert_error(crm("import-unsubscribes", str(path)), 1, fragment)
    assert not _email_opted_out(crm, "ada@hilltop.sch.uk")
    assert not _is_suppressed(crm, "new@example.com")
    assert suppression.count(ctx) == before


def test_import_a_file_that_is_not_there(crm, tmp_path):
    assert_error(crm("import-unsubscribes", str(tmp_path / "nope.csv")), 1, "does not exist")
    assert_error(crm("import-unsubscribes", str(tmp_path)), 1, "is a folder, not a file")
    assert_error(crm("import-unsubscribes"), 2, "FILE")
