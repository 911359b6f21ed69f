"""crm export (csv, mailchimp, xlsx; preview; filters; Ctrl-C) and crm exports."""

from __future__ import annotations

import hashlib
import os
import signal
from datetime import date
from pathlib import Path

import pytest
from cli_support import assert_error, blns_lines, read_table
from sqlalchemy import text

from crm_desktop.cli import export_commands
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.formats.tabular import neutralise
from crm_desktop.services import exports as export_service
from crm_desktop.services import marketing
from crm_desktop.services.prospects import create_prospect

FORMATS = ("csv", "mailchimp", "xlsx")
EMAIL_COLUMN = {"csv": "Email", "xlsx": "Email", "mailchimp": "Email Address"}
EVIDENCE = "--evidence=Signed up at the Bett show stand (paper form 12)"
LI = "--note=Buys software for their school"


def _rows(path: Path, fmt: str) -> list[dict[str, str]]:
    header, *rows = read_table(path, fmt)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _emails(path: Path, fmt: str) -> list[str]:
    return sorted(row[EMAIL_COLUMN[fmt]] for row in _rows(path, fmt))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def population(crm, add) -> dict[str, set[str]]:
    """People in every state that matters for an email export.

    Returns the emails expected in (and out of) an unpersonalised email list.
    """
    add("Ada", "Eligible", email="ada@hilltop.sch.uk")
    crm("basis", "ada@hilltop.sch.uk", "--legitimate-interest", LI)
    add("Carl", "Consented", email="carl@gmail.com")  # an individual subscriber
    crm("basis", "carl@gmail.com", "--consent")
    crm("consent", "carl@gmail.com", "--channel=email", "--grant", EVIDENCE)
    add("Ivy", "Individual", email="ivy@hotmail.co.uk")  # LI is not enough for her
    crm("basis", "ivy@hotmail.co.uk", "--legitimate-interest", LI)
    add("Otto", "Optedout", email="otto@valley.sch.uk")
    crm("basis", "otto@valley.sch.uk", "--legitimate-interest", LI)
    crm("opt-out", "otto@valley.sch.uk", "--channel=email")
    add("Sue", "Suppressed", email="sue@valley.sch.uk")
    crm("basis", "sue@valley.sch.uk", "--legitimate-interest", LI)
    crm("suppress", "SUE@valley.sch.uk")
    add("Nora", "Nobasis", email="nora@valley.sch.uk")
    add("Phil", "Phoneonly", "--phone=020 7946 0018")
    crm("basis", "#7", "--legitimate-interest", LI)
    add("Rita", "Refuses", email="rita@hilltop.sch.uk")
    crm("basis", "rita@hilltop.sch.uk", "--legitimate-interest", LI)
    crm("personalisation", "rita@hilltop.sch.uk", "--refuse")
    return {
        "in": {"ada@hilltop.sch.uk", "carl@gmail.com", "rita@hilltop.sch.uk"},
        "personalised_in": {"ada@hilltop.sch.uk", "carl@gmail.com"},
    }


EXPECTED_REASONS = {
    "individual-without-consent": 1,
    "opted-out": 1,
    "suppressed": 2,  # Otto's opt-out suppresses his address for email too
    "no-lawful-basis": 1,
    "no-address": 1,
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_holds_exactly_the_eligible_people(crm, population, tmp_path, fmt):
    out = tmp_path / f"list.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    result = crm("export", "--channel=email", f"--out={out}", f"--format={fmt}", "--json")
    assert result.code == 0, result
    record = result.json()
    assert _emails(out, fmt) == sorted(population["in"])
    assert record["included"] == len(_rows(out, fmt)) == 3
    assert record["excluded"] == 5
    assert record["excluded_by_reason"] == EXPECTED_REASONS
    assert record["file"] == str(out)
    assert record["sha256"] == _sha256(out)
    assert record["format"] == fmt
    assert record["campaign"] == f"CLI export {date.today().isoformat()}"
    assert crm("exports", "--json").json() == [record]


@pytest.mark.parametrize("fmt", FORMATS)
def test_personalised_export_leaves_out_refusers_and_adds_columns(crm, population, tmp_path, fmt):
    out = tmp_path / f"p.{fmt}"
    result = crm(
        "export", "--channel=email", f"--out={out}", f"--format={fmt}", "--personalised",
        "--campaign=Spring newsletter", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    assert _emails(out, fmt) == sorted(population["personalised_in"])
    assert result.json()["excluded_by_reason"]["personalisation-refused"] == 1
    header = read_table(out, fmt)[0]
    if fmt == "mailchimp":
        assert header == ["Email Address", "First Name", "Last Name", "Tags", "SCHOOL", "ROLE"]
        assert {row["Tags"] for row in _rows(out, fmt)} == {"Spring newsletter"}
    else:
        assert header[-4:] == ["School", "Job role", "Stage", "Interests"]


def test_human_output_counts_reasons_by_label(crm, population, tmp_path):
    out = tmp_path / "list.csv"
    result = crm("export", "--channel=email", f"--out={out}", "--campaign=Spring")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == f"Exported 3 of 8 people for Email to {out} (csv)."
    assert lines[1].startswith("Left out 5, by reason")
    reasons = {line.rsplit(None, 1)[0].strip(): int(line.split()[-1]) for line in lines[2:7]}
    assert reasons == {
        "Opted out": 1,
        "On the suppression list": 2,
        "No address for this channel": 1,
        "No lawful basis": 1,
        "Individual subscriber without consent": 1,
    }
    assert f"SHA-256:     {_sha256(out)}" in lines
    assert "Recorded as: export #1 (see 'crm exports show 1')" in lines
    assert result.err == ""  # no progress when stderr is not a terminal


def test_export_format_follows_the_file_name(crm, population, tmp_path):
    out = tmp_path / "list.xlsx"
    assert crm("export", "--channel=email", f"--out={out}", "--json").json()["format"] == "xlsx"
    assert out.read_bytes()[:2] == b"PK"  # a zip: a real workbook, not CSV text
    assert _emails(out, "xlsx") == sorted(population["in"])


def test_hostile_values_are_neutralised_in_every_format(crm, add, ctx, db, tmp_path):
    hostile = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    for i, value in enumerate(hostile):
        add(value, value, email=f"h{i}@hilltop.sch.uk", school=value, role=value)
    # Tab, CR and LF cannot be typed into a name (validation refuses or trims
    # them), so put them straight into the rows, as data written by another
    # tool might hold them: the writer must neutralise them all the same.
    sneaky = ["\tTab", "\rCR", "\nLF"]
    for i, value in enumerate(sneaky, start=len(hostile) + 1):
        add("Sneaky", f"S{i}", email=f"s{i}@hilltop.sch.uk")
        with db.transaction() as session:
            session.execute(
                text("UPDATE prospect SET first_name = :v, role = :v WHERE id = :id"),
                {"v": value, "id": i},
            )
    for person in range(1, len(hostile) + len(sneaky) + 1):
        marketing.set_lawful_basis(ctx, person, "legitimate-interest", note="Head of IT")
    values = hostile + sneaky
    for fmt in FORMATS:
        out = tmp_path / f"hostile.{fmt}"
        result = crm(
            "export", "--channel=email", f"--out={out}", f"--format={fmt}", "--personalised",
            "--campaign=-campaign", "--json",
        )  # fmt: skip
        assert result.code == 0, result
        rows = _rows(out, fmt)
        assert len(rows) == len(values)
        first = "First Name" if fmt == "mailchimp" else "First name"
        role = "ROLE" if fmt == "mailchimp" else "Job role"
        if fmt == "xlsx":
            # Text cells hold the values exactly (XML reads a bare CR back as LF).
            expected = {v.replace("\r", "\n") for v in values}
        else:  # CSV cannot mark text: a leading apostrophe keeps it inert
            expected = {"'" + v for v in values}
        assert {row[first] for row in rows} == expected
        assert {row[role] for row in rows} == expected
        if fmt != "xlsx":
            for row in rows:
                for cell in row.values():
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), cell
        if fmt == "mailchimp":
            assert {row["Tags"] for row in rows} == {"'-campaign"}
        if fmt == "xlsx":
            from openpyxl import load_workbook
            from python_calamine import CalamineWorkbook

            sheet = load_workbook(out).worksheets[0]
            kinds = {cell.data_type for row in sheet.iter_rows() for cell in row}
            assert kinds <= {"s", "inlineStr"}  # text only: never a formula ("f")
            calamine = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
            assert {r[1] for r in calamine[1:]} == expected  # First name, as written


def test_naughty_names_come_back_exactly_as_stored_and_inert_in_csv(crm, ctx, tmp_path):
    stored: dict[str, str] = {}
    for i, line in enumerate(blns_lines()):
        email = f"n{i}@hilltop.sch.uk"
        try:
            record = create_prospect(
                ctx, ProspectInput(first_name=line, last_name=f"N{i}", email=email)
            ).record
        except ValueError:
            continue  # refused by validation: never stored
        marketing.set_lawful_basis(ctx, record.id, "legitimate-interest", note="n")
        stored[email] = record.first_name
    assert len(stored) > 400
    for fmt in FORMATS:
        out = tmp_path / f"naughty.{fmt}"
        result = crm("export", "--channel=email", f"--out={out}", f"--format={fmt}", "--json")
        assert result.code == 0, result
        first = "First Name" if fmt == "mailchimp" else "First name"
        got = {row[EMAIL_COLUMN[fmt]]: row[first] for row in _rows(out, fmt)}
        expected = {
            email: name if fmt == "xlsx" else neutralise(name) for email, name in stored.items()
        }
        assert got == expected, fmt
        assert result.json()["included"] == len(expected)


def test_an_xlsx_export_stays_readable_whatever_a_name_holds(crm, add, db, tmp_path):
    # Validation refuses what XML cannot hold (U+FFFE, C0 controls), so put
    # such names straight into the rows, as an older version might have left them.
    assert_error(crm("prospect", "add", "--first-name=Ada\ufffe", "--last-name=L"), 1)
    add("Ada", "Lovelace", email="ada@hilltop.sch.uk")
    with db.transaction() as session:
        session.execute(
            text(
                "UPDATE prospect SET first_name = :first, last_name = :last, "
                "lawful_basis = 'legitimate-interest', li_note = 'n'"
            ),
            {"first": "Ada\ufffe", "last": "=Love\x01lace"},
        )
    out = tmp_path / "list.xlsx"
    result = crm("export", "--channel=email", f"--out={out}", "--json")
    assert result.code == 0, result
    assert result.json()["sha256"] == _sha256(out)
    assert _rows(out, "xlsx") == [
        {
            "Prospect ID": "1",
            "First name": "Ada\ufffd",
            "Last name": "=Love\ufffdlace",
            "Email": "ada@hilltop.sch.uk",
        }
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_of_nobody_writes_a_header_only_file(crm, add, tmp_path, fmt):
    add("Nora", "Nobasis", email="nora@valley.sch.uk")
    out = tmp_path / f"empty.{fmt}"
    result = crm("export", "--channel=email", f"--out={out}", f"--format={fmt}")
    assert result.code == 0, result
    assert "Nobody of 1 may be contacted by Email" in result.out
    assert "only the header row" in result.out
    table = read_table(out, fmt)
    assert len(table) == 1 and table[0][0] in ("Prospect ID", "Email Address")
    record = crm("exports", "--json").json()[0]
    assert (record["included"], record["excluded"]) == (0, 1)
    assert record["excluded_by_reason"] == {"no-lawful-basis": 1}


def test_preview_writes_nothing_and_lists_who_is_left_out(crm, population, tmp_path):
    out = tmp_path / "list.csv"
    result = crm("export", "--channel=email", f"--out={out}", "--preview")
    assert result.code == 0, result
    assert not out.exists()
    assert not list(tmp_path.glob(".list.csv*"))
    assert crm("exports", "--json").json() == []
    lines = result.out.splitlines()
    assert lines[0] == (
        "Preview for Email (nothing written): 3 of 8 people would be included, 5 left out."
    )
    people = lines[lines.index("People left out:") + 1 :]
    assert people[0].split() == ["ID", "Name", "Why"]
    why = {line.split()[0]: line for line in people[1:]}
    assert set(why) == {"3", "4", "5", "6", "7"}
    assert why["4"].endswith("Opted out; On the suppression list")
    assert why["3"].endswith("Individual subscriber without consent")
    assert why["7"].endswith("No address for this channel")

    preview = crm("export", "--channel=email", "--preview", "--json").json()
    assert preview["preview"] is True
    assert (preview["included"], preview["excluded"]) == (3, 5)
    assert preview["excluded_by_reason"] == EXPECTED_REASONS
    assert {p["email"] for p in preview["included_people"]} == population["in"]
    real = crm("export", "--channel=email", f"--out={out}", "--json").json()
    assert (real["included"], real["excluded"]) == (3, 5)
    assert real["excluded_by_reason"] == preview["excluded_by_reason"]


def test_preview_lists_who_is_included_in_the_files_columns(crm, population, tmp_path):
    result = crm("export", "--channel=email", "--preview")
    assert result.code == 0, result
    lines = result.out.splitlines()
    start = lines.index("People included, as the csv file would list them:")
    assert lines[start + 1].split() == ["Prospect", "ID", "First", "name", "Last", "name", "Email"]
    rows = [line.split() for line in lines[start + 2 : lines.index("", start)]]
    assert sorted(row[3] for row in rows) == sorted(population["in"])
    out = tmp_path / "list.csv"
    assert crm("export", "--channel=email", f"--out={out}").code == 0
    # Row for row what the file holds (names here have no spaces).
    assert rows == read_table(out, "csv")[1:]


def test_filters_narrow_the_list(crm, add, tmp_path):
    add("Ann", "Mis", email="ann@a.sch.uk", interest="MIS integration", role="Headteacher")
    add("Ben", "Send", email="ben@b.sch.uk", interest="SEND support", role="SENCo")
    add("Cat", "Mis", email="cat@c.sch.uk", interest="MIS integration", stage="trial")
    for person in ("1", "2", "3"):
        crm("basis", person, "--legitimate-interest", LI)
    out = tmp_path / "f.csv"

    def emails(*options: str) -> list[str]:
        out.unlink(missing_ok=True)
        result = crm("export", "--channel=email", f"--out={out}", *options, "--json")
        assert result.code == 0, result
        assert result.json()["included"] == len(_rows(out, "csv"))
        return _emails(out, "csv")

    assert emails("--interest=mis INTEGRATION") == ["ann@a.sch.uk", "cat@c.sch.uk"]
    assert emails("--interest=MIS integration", "--stage=Trial") == ["cat@c.sch.uk"]
    assert emails("--role=senco") == ["ben@b.sch.uk"]
    assert emails("--owner=nobody-at-all") == []
    record = crm("exports", "--json").json()[0]
    assert record["filters"] == {"owner": "nobody-at-all"}


@pytest.mark.parametrize(
    ("options", "code", "fragment"),
    [
        (["--channel=fax"], 1, "--channel: 'fax' is not one of"),
        (["--channel=all"], 1, "'all' is not one of"),
        (["--channel=sms", "--format=mailchimp"], 1, "--format: the Mailchimp format is for email"),
        (["--channel=email", "--format=pdf"], 2, "invalid choice: 'pdf'"),
        (
            ["--channel=email", "--interest=Knitting"],
            1,
            "--interest: no interest called 'Knitting'",
        ),
        (["--channel=email", "--stage=asleep"], 1, "--stage: 'asleep' is not one of"),
        (["--channel=email", "--school-phase=uni"], 1, "--school-phase"),
        (["--channel=email", "--last-contact-from=soon"], 1, "--last-contact-from: 'soon'"),
        (
            ["--channel=email", "--last-contact-from=2026-02-01", "--last-contact-to=2026-01-01"],
            1,
            "--last-contact-to is before the 'from' date",
        ),
        (["--channel=email", "--campaign= "], 1, "--campaign is required"),
    ],
)
def test_export_refusals_write_and_record_nothing(
    crm, population, tmp_path, options, code, fragment
):
    out = tmp_path / "refused.csv"
    assert_error(crm("export", f"--out={out}", *options), code, fragment)
    assert not out.exists()
    assert list(tmp_path.glob(".refused*")) == []
    assert crm("exports", "--json").json() == []


def test_export_needs_an_out_file_unless_previewing(crm, population, db_path):
    assert_error(crm("export", "--channel=email"), 2, "--out FILE is required")
    assert_error(crm("export", "--channel=email", f"--out={db_path}"), 1, "database file itself")
    assert_error(crm("export", "--out=x.csv"), 2, "--channel")


def test_export_into_a_missing_folder(crm, population, tmp_path):
    out = tmp_path / "no such folder" / "list.csv"
    assert_error(crm("export", "--channel=email", f"--out={out}"), 1, "the folder does not exist")
    assert crm("exports", "--json").json() == []


def test_an_existing_file_is_refused_and_left_untouched(crm, population, tmp_path):
    out = tmp_path / "list.csv"
    out.write_bytes(b"last week's list\n")
    before = out.stat().st_mtime_ns
    result = crm("export", "--channel=email", f"--out={out}")
    assert_error(result, 1, "already exists; it was left untouched")
    assert "--overwrite" in result.err
    assert out.read_bytes() == b"last week's list\n"
    assert out.stat().st_mtime_ns == before
    # Nothing beside it but the database's own files (its audit head, say).
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.is_file() and not p.name.startswith("crm.db")
    ) == ["list.csv"]
    assert crm("exports", "--json").json() == []


def test_overwrite_replaces_the_file_and_the_record_says_so(crm, population, ctx, tmp_path):
    from crm_desktop.services import audit

    out = tmp_path / "list.csv"
    out.write_bytes(b"last week's list\n")
    result = crm("export", "--channel=email", f"--out={out}", "--overwrite", "--json")
    assert result.code == 0, result
    record = result.json()
    assert record["replaced_file"] is True
    assert record["sha256"] == _sha256(out)
    assert _emails(out, "csv") == sorted(population["in"])
    assert crm("exports", "--json").json() == [record]
    assert "Replaced:     yes, a file that was there" in crm("exports", "show", "1").out
    entry = next(e for e in audit.entries(ctx) if e.action == "export.created")
    assert entry.values["replaced_file"] is True and entry.values["sha256"] == record["sha256"]

    # A new file with --overwrite replaces nothing, and says so.
    fresh = tmp_path / "fresh.csv"
    human = crm("export", "--channel=email", f"--out={fresh}", "--overwrite")
    assert human.code == 0, human
    assert "replaced" not in human.out
    assert crm("exports", "--json").json()[0]["replaced_file"] is False
    assert "Replaced:     no" in crm("exports", "show", "2").out


def test_export_shows_progress_only_on_a_terminal(crm, population, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    result = crm("export", "--channel=email", f"--out={tmp_path / 'x.csv'}")
    assert result.code == 0, result
    assert result.err.startswith("\rExporting: ")
    assert result.err.endswith("(100%)\n")


# -------------------------------------------------------------- Ctrl-C


def _interrupt_at_row(monkeypatch, n: int, how: str) -> None:
    """Press Ctrl-C (a real SIGINT) while the n-th row is being written."""
    real_file_rows = export_service._file_rows
    seen = {"rows": 0}

    def file_rows(*args, **kwargs):
        make_row = real_file_rows(*args, **kwargs)

        def row(*row_args):
            seen["rows"] += 1
            if seen["rows"] == n:
                if how == "signal":
                    os.kill(os.getpid(), signal.SIGINT)
                else:
                    raise KeyboardInterrupt  # a second Ctrl-C: interrupts at once
            return make_row(*row_args)

        return row

    monkeypatch.setattr(export_service, "_file_rows", file_rows)
    monkeypatch.setattr(export_service, "BATCH", 2)  # checks for a cancel often


@pytest.mark.parametrize("how", ["signal", "keyboard-interrupt"])
@pytest.mark.parametrize("previous", [None, b"the list from last week\n"])
def test_ctrl_c_leaves_no_file_or_the_previous_one_and_records_nothing(
    crm, population, tmp_path, monkeypatch, how, previous
):
    folder = tmp_path / "lists"
    folder.mkdir()
    out = folder / "list.csv"
    if previous is not None:
        out.write_bytes(previous)
    _interrupt_at_row(monkeypatch, 2, how)
    result = crm("export", "--channel=email", f"--out={out}", "--overwrite")
    assert result.code == 130, result
    assert result.out == ""
    if how == "signal":
        assert result.err == "crm: interrupted; Export cancelled; no file was written.\n"
    else:
        assert result.err == "crm: interrupted; the action in progress was not saved.\n"
    assert (out.read_bytes() if out.exists() else None) == previous
    assert sorted(p.name for p in folder.iterdir()) == (["list.csv"] if previous else [])
    assert crm("exports", "--json").json() == []
    # The handler was put back: the next export runs normally.
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert crm("export", "--channel=email", f"--out={out}", "--overwrite").code == 0
    assert _emails(out, "csv") == sorted(population["in"])


# -------------------------------------------------------------- records


def test_exports_lists_records_newest_first_with_counts(crm, population, tmp_path):
    assert crm("exports").out == "No exports yet.\n"
    crm("export", "--channel=email", f"--out={tmp_path / 'a.csv'}", "--campaign=First")
    crm("export", "--channel=phone", f"--out={tmp_path / 'b.xlsx'}", "--campaign=Second")
    records = crm("exports", "--json").json()
    assert [(r["id"], r["campaign"], r["channel"], r["format"]) for r in records] == [
        (2, "Second", "phone", "xlsx"),
        (1, "First", "email", "csv"),
    ]
    assert (records[1]["included"], records[1]["excluded"]) == (3, 5)
    table = crm("exports").out.splitlines()
    assert table[0].split()[:9] == [
        "ID", "When", "By", "Channel", "Format", "State", "Included", "Excluded", "Campaign",
    ]  # fmt: skip
    assert table[1].split()[0] == "2" and "Second" in table[1]
    first = table[2].split()
    assert first[0] == "1" and "First" in first and str(tmp_path / "a.csv") in first
    assert first[first.index("csv") + 1 : first.index("csv") + 4] == ["Complete", "3", "5"]
    assert [r["state"] for r in records] == ["complete", "complete"]


def test_exports_show_with_members(crm, population, tmp_path):
    crm("export", "--channel=email", f"--out={tmp_path / 'a.csv'}", "--purpose=Spring offer")
    shown = crm("exports", "show", "1", "--members")
    assert shown.code == 0, shown
    assert "Purpose:      Spring offer" in shown.out
    assert "Included:     3" in shown.out
    assert "  On the suppression list" in shown.out
    members = shown.out.splitlines()[shown.out.splitlines().index(
        "People in this export (3 prospect ids):"
    ) + 1 :]  # fmt: skip
    assert members == ["1", "2", "8"]
    data = crm("exports", "--json", "show", "1", "--members").json()
    assert data["members"] == [1, 2, 8]
    assert data["excluded_by_reason"] == EXPECTED_REASONS
    assert "members" not in crm("exports", "show", "1", "--json").json()
    assert_error(crm("exports", "show", "9"), 1, "No export with id 9")
    assert_error(crm("exports", "show", "x"), 2, "'x' is not a whole number")


def test_exports_show_names_the_interest_and_labels_the_filters(crm, add, tmp_path):
    add("Ann", "Mis", email="ann@a.sch.uk", interest="MIS integration")
    add("Ben", "Send", email="ben@b.sch.uk", interest="SEND support")
    crm("basis", "2", "--legitimate-interest", LI)
    out = tmp_path / "send.csv"
    result = crm(
        "export", "--channel=email", f"--out={out}", "--interest=send support", "--stage=lead"
    )
    assert result.code == 0, result
    shown = crm("exports", "show", "1").out.splitlines()
    start = next(i for i, line in enumerate(shown) if line.startswith("Filters:"))
    assert shown[start].split(None, 1)[1] == "Interest: SEND support"
    assert shown[start + 1].strip() == "Stage: Lead"
    assert "interest id" not in "\n".join(shown)
    assert isinstance(crm("exports", "show", "1", "--json").json()["filters"]["interest_id"], int)


def test_default_campaign_name():
    assert export_commands.default_campaign(date(2026, 3, 1)) == "CLI export 2026-03-01"
