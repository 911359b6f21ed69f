"""The Big List of Naughty Strings through every text option of the CLI.

Each string is either stored exactly as the shared validation cleans it
(trimmed, NFC) and read back unchanged, or refused with one clear line and
exit status 1. Never a traceback, and nothing in human output can reach the
terminal as an escape sequence.
"""

from __future__ import annotations

import contextlib
import io
import unicodedata

import pytest
from cli_support import blns_lines

from crm_desktop.domain.validation import ProspectInput, has_visible_character
from crm_desktop.services.prospects import create_prospect

LINES = blns_lines()
FIELD_LABELS = (
    "First name", "Last name", "Job role", "School", "Summary", "Subject",
)  # fmt: skip


def _clean(text: str) -> str:
    """As the shared validation cleans text; nothing visible counts as blank."""
    text = unicodedata.normalize("NFC", text).strip()
    return text if has_visible_character(text) else ""


def _accepted_or_refused(result, what: str) -> bool:
    """True if the command succeeded; else checks it was a clear refusal."""
    assert "Traceback" not in result.err, (what, result.err)
    if result.code == 0:
        return True
    assert result.code == 1, (what, result)
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, (what, result.err)
    assert lines[0].startswith("crm: error: ")
    # The refusal names the field: "First name is required", "School: ..."
    named = (f"{label}{after}" for label in FIELD_LABELS for after in (" ", ":"))
    assert any(label in lines[0] for label in named), (what, lines[0])
    return False


def _human_output_is_terminal_safe(text: str) -> None:
    for ch in text:
        assert ch == "\n" or unicodedata.category(ch) != "Cc", repr(ch)


def test_naughty_names_roles_and_schools(crm):
    expected: dict[str, dict[str, str | None]] = {}
    schools: dict[str, str] = {}  # lower-cased name -> the first spelling stored

    def check(result, email: str, fields: dict[str, str | None]) -> bool:
        if not _accepted_or_refused(result, repr(fields)):
            return False
        if fields.get("school_name"):
            # A school already on file under any case is linked, not re-created.
            fields["school_name"] = schools.setdefault(
                fields["school_name"].lower(), fields["school_name"]
            )
        record = result.json()
        assert {k: record[k] for k in fields} == fields
        expected[email] = fields
        return True

    refused = 0
    for i, line in enumerate(LINES):
        value = _clean(line) or None
        email = f"n{i}@example.com"
        everything = crm(
            "prospect", "add", f"--first-name={line}", f"--last-name={line}",
            f"--role={line}", f"--school={line}", f"--email={email}", "--json",
        )  # fmt: skip
        fields = {"first_name": value, "last_name": value, "role": value, "school_name": value}
        if check(everything, email, fields):
            continue
        # Names allow 100 characters, role and school 200: try those alone.
        email = f"r{i}@example.com"
        roles = crm(
            "prospect", "add", "--first-name=Role", "--last-name=Test", f"--role={line}",
            f"--school={line}", f"--email={email}", "--json",
        )  # fmt: skip
        refused += not check(roles, email, {"role": value, "school_name": value})

    # Most are stored; the few refused are control characters or too long.
    assert len(expected) > 0.9 * len(LINES)
    assert refused > 0

    listed = crm("prospect", "list", "--json")
    assert listed.code == 0
    by_email = {row["email"]: row for row in listed.json()}
    assert by_email.keys() == expected.keys()
    for email, fields in expected.items():
        assert {k: by_email[email][k] for k in fields} == fields, email

    people = crm("prospect", "list")
    assert people.code == 0
    _human_output_is_terminal_safe(people.out)
    assert len(people.out.splitlines()) == 1 + len(expected)


def test_naughty_summaries_and_subjects(crm, ctx, monkeypatch):
    prospect = create_prospect(
        ctx, ProspectInput(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    ).record
    # "--summary -" reads the summary from standard input.
    monkeypatch.setattr("sys.stdin", io.StringIO("read from stdin"))
    stored: list[tuple[str | None, str]] = []
    for line in LINES:
        summary = "read from stdin" if line == "-" else _clean(line)
        for options, fields in (
            ([f"--summary={line}", f"--subject={line}"], (_clean(line) or None, summary)),
            ([f"--summary={line}"], (None, summary)),  # tabs are fine in a summary only
        ):
            result = crm("log", "ada@example.com", "--kind=note", *options, "--json")
            if _accepted_or_refused(result, f"summary {line!r}"):
                contact = result.json()
                assert (contact["subject"], contact["summary"]) == fields
                stored.append(fields)
                break
    assert len(stored) > 0.9 * len(LINES)

    shown = crm("prospect", "show", str(prospect.id), "--json")
    assert shown.code == 0
    entries = shown.json()["correspondence"]
    assert sorted((c["subject"] or "", c["summary"]) for c in entries) == sorted(
        (subject or "", summary) for subject, summary in stored
    )

    people = crm("prospect", "show", str(prospect.id))
    assert people.code == 0
    _human_output_is_terminal_safe(people.out)


@pytest.fixture
def naughty_db(ctx):
    """A few prospects whose names and schools are naughty strings."""
    for i, line in enumerate(LINES[::10]):
        data = ProspectInput(
            first_name=line, last_name=f"N{i}", email=f"s{i}@example.com", school=line
        )
        with contextlib.suppress(ValueError):  # refused by validation: not stored
            create_prospect(ctx, data)


def test_naughty_searches(crm, naughty_db):
    everyone = {row["id"] for row in crm("prospect", "list", "--json").json()}
    assert len(everyone) > 40
    for line in LINES:
        result = crm("prospect", "list", f"--search={line}", "--json")
        assert result.code == 0, (line, result)
        assert result.err == ""
        assert {row["id"] for row in result.json()} <= everyone

    for line in LINES[::7]:
        people = crm("prospect", "list", f"--search={line}")
        assert people.code == 0, (line, people)
        _human_output_is_terminal_safe(people.out)
