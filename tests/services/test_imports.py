"""services.imports: one file of contacts as one batch, all or nothing.

Runs on SQLite and (with CRM_TEST_POSTGRES_URL) on PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from cli_support import blns_lines
from sqlalchemy import func, select

from crm_desktop.domain.consent_wording import event_facts
from crm_desktop.domain.contact_mapping import fold_lines
from crm_desktop.domain.enums import OptOutSource
from crm_desktop.domain.models import (
    AuditEntry,
    ChannelPermission,
    ConsentEvent,
    ContactPoint,
    Correspondence,
    ImportBatch,
    ImportMember,
    Prospect,
)
from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import NotPermittedError
from crm_desktop.formats.contact_files import ContactFileError
from crm_desktop.services import Context, audit, marketing, prospects, rights, suppression
from crm_desktop.services import imports as I
from crm_desktop.services.imports import ImportOptions, run_import

HEADERS = ["First name", "Last name", "Email", "Phone", "School", "Job title", "Notes"]


def write_csv(path: Path, rows, headers=HEADERS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An OpenDocument spreadsheet made by hand (a zip of XML), as LibreOffice saves one:
    str cells as text, int/float as numbers, ("date", "YYYY-MM-DD") as dates, None empty."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    def cell(v) -> str:
        if v is None:
            return "<table:table-cell/>"
        if isinstance(v, tuple):
            return (f'<table:table-cell office:value-type="date" office:date-value="{v[1]}">'
                    f"<text:p>{v[1]}</text:p></table:table-cell>")  # fmt: skip
        if isinstance(v, int | float):
            return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                    f"<text:p>{v}</text:p></table:table-cell>")  # fmt: skip
        return f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>'

    ns = {"office": "office:1.0", "table": "table:1.0", "text": "text:1.0"}
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>"
        + "".join(f"<table:table-row>{''.join(map(cell, row))}</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        + " ".join(f'xmlns:{k}="urn:oasis:names:tc:opendocument:xmlns:{v}"' for k, v in ns.items())
        + ' office:version="1.2"><office:body><office:spreadsheet>'
        + body + "</office:spreadsheet></office:body></office:document-content>"
    )  # fmt: skip
    kind = "application/vnd.oasis.opendocument.spreadsheet"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{kind}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # The mimetype first and stored, as the OpenDocument format asks.
        archive.writestr(zipfile.ZipInfo("mimetype"), kind, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def by_email(ctx, email: str):
    return prospects.find_prospect(ctx, email)


def opted_channels(ctx, pid: int) -> set[str]:
    view = marketing.marketing_view(ctx, pid)
    return {c.channel for c in view.channels if c.opted_out}


def outcomes_add_up(report) -> bool:
    parts = (
        report.created, report.updated, report.unchanged, report.opted_out, report.merged,
        report.skipped, report.rejected,
    )  # fmt: skip
    return sum(parts) == report.total_rows


def test_rows_are_created_and_bad_rows_go_to_a_rejects_file_beside_the_import(ctx, tmp_path):
    src = write_csv(
        tmp_path / "bett.csv",
        [
            ["Ada", "Lovelace", "ada@example.sch.uk", "01632 960001", "Hill School", "Head",
             "Met at the stand\nwants a demo"],
            ["Bob", "", "bob@example.sch.uk", "", "", "", ""],
            ["Cy", "Young", "cy@", "", "", "", ""],
            ["=cmd|' /C calc'!A0", "Evil", "x@example.org", "", "hill school", "", ""],
        ],
    )  # fmt: skip
    report = run_import(ctx, src, ImportOptions(source="Bett 2026 stand sign-ups"))
    assert (report.total_rows, report.created, report.rejected) == (4, 2, 2)
    assert outcomes_add_up(report)
    ada = by_email(ctx, "ada@example.sch.uk")
    assert (ada.phone, ada.school_name, ada.role, ada.owner) == (
        "+441632960001", "Hill School", "Head", "alice",
    )  # fmt: skip
    assert ada.source == "import" and ada.source_detail == "Bett 2026 stand sign-ups"
    evil = by_email(ctx, "x@example.org")
    # One school, matched whatever its case; the formula is stored as text, as typed.
    assert evil.school_id == ada.school_id and evil.first_name == "=cmd|' /C calc'!A0"
    with ctx.db.read() as session:
        note = session.scalars(
            select(Correspondence).where(Correspondence.prospect_id == ada.id)
        ).one()
        members = session.execute(select(ImportMember.prospect_id, ImportMember.outcome,
                                         ImportMember.row_number)).all()  # fmt: skip
        batch = session.scalars(select(ImportBatch)).one()
    assert note.kind == "note" and note.summary == "Met at the stand\nwants a demo"
    assert sorted(members) == sorted([(ada.id, "created", 1), (evil.id, "created", 4)])
    assert json.loads(batch.counts)["rejected"] == 2 and batch.source == "Bett 2026 stand sign-ups"
    assert report.prospect_ids == sorted([ada.id, evil.id])
    # The rejects file: UTF-8 with a BOM, the original header and cells, and a reason each.
    rejects = Path(report.rejects_file)
    assert rejects == tmp_path / "bett rejects.csv"
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [*HEADERS, "Reason"]
    assert rows[1][:7] == ["Bob", "", "bob@example.sch.uk", "", "", "", ""]
    assert "Last name is required" in rows[1][7] and rows[1][7].startswith("Row 2:")
    assert rows[2][2] == "cy@" and "not a valid email address" in rows[2][7]
    assert audit.verify(ctx).ok


def test_no_rejects_file_when_every_row_is_imported(ctx, tmp_path):
    src = write_csv(tmp_path / "ok.csv", [["Ada", "L", "ada@example.sch.uk", "", "", "", ""]])
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert report.rejects_file is None
    assert not [p for p in tmp_path.iterdir() if "rejects" in p.name or p.name.endswith(".part")]


def test_several_emails_and_phones_make_one_prospect_and_a_bad_extra_is_left_out(ctx, tmp_path):
    src = write_csv(
        tmp_path / "multi.csv",
        [["Ada", "L", "ada@example.sch.uk ::: nope@ ::: ada@home.example.org",
          "01632 960001 ::: 01632 960002", "", "", ""]],
    )  # fmt: skip
    report = run_import(ctx, src, ImportOptions(source="s"))
    ada = by_email(ctx, "ada@example.sch.uk")
    assert report.created == 1 and report.dropped == 1
    assert "nope@" in report.warnings[0] and "Row 1" in report.warnings[0]
    assert ada.other_emails == ["ada@home.example.org"]
    assert ada.phone == "+441632960001" and ada.other_phones == ["+441632960002"]


def test_an_unsubscribe_file_naming_only_an_imported_extra_email_opts_the_person_out(ctx, tmp_path):
    from crm_desktop.services import email_sync

    src = write_csv(
        tmp_path / "multi.csv",
        [["Ada", "L", "ada@example.sch.uk ::: ada@home.example.org", "", "", "", ""],
         ["Bo", "M", "bo@example.sch.uk ::: bo@home.example.org", "", "", "", ""],
         ["Cy", "N", "cy@example.sch.uk", "", "", "", ""]],
    )  # fmt: skip
    run_import(ctx, src, ImportOptions(source="s"))
    ada, bo, cy = (by_email(ctx, f"{n}@example.sch.uk").id for n in ("ada", "bo", "cy"))
    unsubscribed = tmp_path / "unsubscribed.txt"
    # Ada by her other address only; Bo by both (one person, counted once).
    unsubscribed.write_text(
        "ADA@home.example.org\nbo@example.sch.uk\nbo@home.example.org\n", encoding="utf-8"
    )
    report = email_sync.import_unsubscribes(ctx, unsubscribed)
    assert (report.matched, report.already_opted_out, report.new) == (2, 1, 0)
    assert opted_channels(ctx, ada) == {"email"} and opted_channels(ctx, bo) == {"email"}
    assert opted_channels(ctx, cy) == set()
    email = next(c for c in marketing.marketing_view(ctx, ada).channels if c.channel == "email")
    assert email.opt_out_source == "email-tool"
    for address in ("ada@example.sch.uk", "ada@home.example.org"):  # both, as for her primary
        assert [(e.channel, e.reason) for e in suppression.lookup(ctx, address)] == [
            ("email", "email-tool")], address  # fmt: skip
    assert audit.verify(ctx).ok


def test_an_opendocument_spreadsheet_is_imported_from_the_chosen_sheet(ctx, tmp_path):
    src = write_ods(tmp_path / "stand.ods", {
        "Read me": [["Sign-ups are on the next sheet"]],
        "Contacts": [
            ["First name", "Last name", "Email", "Phone", "School", "Job title", "Notes"],
            ["Ada", "Lovelace", "ada@example.sch.uk", "01632 960001", "Hill Primary", None,
             ("date", "2026-03-12")],
            ["Bo", "Nguyễn", "bo@example.sch.uk", None, None, "SENCo", 42],
            ["Cy", None, "not an address", None, None, None, None],
        ],
    })  # fmt: skip
    with pytest.raises(ContactFileError, match="Sheet 'Read me' of stand.ods has only a header"):
        I.inspect_file(ctx, src)  # the first sheet, unless one is chosen
    preview = I.inspect_file(ctx, src, sheet="Contacts")
    assert (preview.table.sheets, preview.table.headers) == (["Read me", "Contacts"], HEADERS)
    # Numbers and dates read as a person typed them, not 42.0 or a timestamp.
    assert [r.cells for r in preview.rows[:2]] == [
        ("Ada", "Lovelace", "ada@example.sch.uk", "01632 960001", "Hill Primary", "", "2026-03-12"),
        ("Bo", "Nguyễn", "bo@example.sch.uk", "", "", "SENCo", "42"),
    ]
    report = run_import(ctx, src, ImportOptions(source="Stand", sheet="Contacts"))
    assert (report.created, report.rejected) == (2, 1) and outcomes_add_up(report)
    ada, bo = by_email(ctx, "ada@example.sch.uk"), by_email(ctx, "bo@example.sch.uk")
    assert (ada.phone, ada.school_name, bo.last_name, bo.role) == (
        "+441632960001", "Hill Primary", "Nguyễn", "SENCo")  # fmt: skip
    rejects = Path(report.rejects_file).read_text("utf-8-sig")
    assert "Row 3: Email" in rejects and "not an address" in rejects


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("keep", ("Ada", "Lovelace", None, "Old role")),
        ("fill", ("Ada", "Lovelace", "+441632960009", "Old role")),
        ("overwrite", ("Adeline", "Lovelace", "+441632960009", "New role")),
    ],
)
def test_the_same_email_updates_the_existing_prospect_by_the_policy(
    ctx, tmp_path, add_prospect, policy, expected
):
    pid = add_prospect("Ada", "Lovelace", email="Ada@Example.sch.uk", role="Old role")
    src = write_csv(
        tmp_path / "again.csv",
        [["Adeline", "", "ada@example.SCH.uk", "01632 960009", "", "New role", ""]],
    )
    report = run_import(ctx, src, ImportOptions(source="s", on_duplicate=policy))
    assert report.created == 0 and count(ctx, Prospect) == 1
    view = prospects.get_prospect(ctx, pid)
    assert (view.first_name, view.last_name, view.phone, view.role) == expected
    assert report.updated == 1
    # "keep" changes no value; the number the file adds is kept among the others.
    assert view.other_phones == (["+441632960009"] if policy == "keep" else [])
    assert report.prospect_ids == [pid]
    assert audit.verify(ctx).ok


def test_a_row_without_a_name_still_updates_the_prospect_with_its_email(
    ctx, tmp_path, add_prospect
):
    pid = add_prospect("Ada", "Lovelace", email="ada@example.sch.uk")
    src = write_csv(
        tmp_path / "n.csv",
        [
            ["", "", "ada@example.sch.uk", "", "", "Head", ""],
            ["", "", "new@example.org", "", "", "", ""],
        ],
    )
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert (report.updated, report.rejected) == (1, 1)
    assert prospects.get_prospect(ctx, pid).role == "Head"
    assert "First name is required" in Path(report.rejects_file).read_text("utf-8-sig")


def test_unchanged_rows_are_counted_and_change_nothing(ctx, tmp_path, add_prospect):
    pid = add_prospect("Ada", "Lovelace", email="ada@example.sch.uk")
    before = prospects.get_prospect(ctx, pid)
    src = write_csv(tmp_path / "u.csv", [["Ada", "Lovelace", "ada@example.sch.uk", "", "", "", ""]])
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert (report.unchanged, report.updated) == (1, 0)
    assert prospects.get_prospect(ctx, pid).version == before.version


def test_the_same_email_twice_in_the_file_is_one_prospect(ctx, tmp_path):
    src = write_csv(
        tmp_path / "twice.csv",
        [
            ["Ada", "Lovelace", "ada@example.sch.uk", "", "", "", "first"],
            ["Ada", "Byron", "ADA@example.sch.uk", "01632 960001", "", "Head", "second"],
        ],
    )
    report = run_import(ctx, src, ImportOptions(source="s", on_duplicate="fill"))
    assert (report.created, report.merged, report.total_rows) == (1, 1, 2)
    ada = by_email(ctx, "ada@example.sch.uk")
    assert (ada.last_name, ada.phone, ada.role) == ("Lovelace", "+441632960001", "Head")
    with ctx.db.read() as session:
        notes = session.scalars(select(Correspondence.summary).order_by(Correspondence.id)).all()
    assert notes == ["first", "second"]


def test_erased_and_restricted_prospects_are_never_updated(ctx, tmp_path, add_prospect):
    kept = add_prospect("Rita", "Stricted", email="rita@example.sch.uk")
    rights.restrict(ctx, kept, "Accuracy contested")
    src = write_csv(tmp_path / "r.csv", [["Rita", "New", "rita@example.sch.uk", "", "", "", ""]])
    report = run_import(ctx, src, ImportOptions(source="s", on_duplicate="overwrite"))
    assert (report.skipped, report.updated) == (1, 0)
    assert prospects.get_prospect(ctx, kept).last_name == "Stricted"
    rows = list(csv.reader(Path(report.rejects_file).read_text("utf-8-sig").splitlines()))
    assert "restricted" in rows[1][-1]


def test_an_opted_out_prospect_re_imported_stays_opted_out_and_gets_no_consent(
    ctx, tmp_path, add_prospect
):
    pid = add_prospect("Otto", "Out", email="otto@example.sch.uk")
    marketing.object_to_marketing(ctx, pid, reason="No marketing")
    src = write_csv(tmp_path / "o.csv", [["Otto", "Out", "otto@example.sch.uk", "", "", "", ""]])
    report = run_import(
        ctx, src,
        ImportOptions(source="s", basis="consent", consent_wording="Ticked the box",
                      consent_channels=("email", "sms")),
    )  # fmt: skip
    assert report.opted_out == 1 and report.created == 0
    view = marketing.marketing_view(ctx, pid)
    assert all(c.opted_out and not c.consent for c in view.channels)


def test_a_deleted_opted_out_person_re_imported_comes_in_opted_out(ctx, tmp_path, add_prospect):
    pid = add_prospect("Otto", "Out", email="otto@example.sch.uk")
    marketing.opt_out(ctx, pid, "email", reason="Unsubscribed")
    prospects.delete_prospect(ctx, pid)
    src = write_csv(tmp_path / "o.csv", [["Otto", "Out", "otto@example.sch.uk", "", "", "", ""]])
    report = run_import(
        ctx, src, ImportOptions(source="s", basis="consent", consent_wording="Ticked the box")
    )
    assert report.opted_out == 1
    new = by_email(ctx, "otto@example.sch.uk")
    assert "email" in opted_channels(ctx, new.id)
    assert not any(c.consent for c in marketing.marketing_view(ctx, new.id).channels)
    with ctx.db.read() as session:
        outcome = session.scalar(select(ImportMember.outcome))
    assert outcome == "opted-out"


def test_an_erased_person_re_imported_comes_in_opted_out(ctx, tmp_path, add_prospect):
    pid = add_prospect("Erin", "Gone", email="erin@example.sch.uk", phone="01632 960123")
    rights.erase(ctx, pid, confirm="Erin Gone")
    src = write_csv(
        tmp_path / "e.csv", [["Erin", "Gone", "erin@example.sch.uk", "01632 960123", "", "", ""]]
    )
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert report.opted_out == 1
    new = by_email(ctx, "erin@example.sch.uk")
    assert opted_channels(ctx, new.id) == {"email", "sms", "phone", "online"}
    assert audit.verify(ctx).ok


def test_suppressed_rows_can_be_skipped_instead(ctx, tmp_path):
    suppression.suppress(ctx, "sam@example.org")
    src = write_csv(tmp_path / "s.csv", [["Sam", "S", "sam@example.org", "", "", "", ""]])
    report = run_import(ctx, src, ImportOptions(source="s", on_suppressed="skip"))
    assert (report.skipped, count(ctx, Prospect)) == (1, 0)
    assert "suppression list" in Path(report.rejects_file).read_text("utf-8-sig")


def test_an_imported_opt_out_names_the_import_as_its_source(ctx, tmp_path):
    suppression.suppress(ctx, "sam@example.org")
    src = write_csv(tmp_path / "s.csv", [["Sam", "S", "sam@example.org", "", "", "", ""]])
    assert run_import(ctx, src, ImportOptions(source="Stand")).opted_out == 1
    pid = by_email(ctx, "sam@example.org").id
    email = next(c for c in marketing.marketing_view(ctx, pid).channels if c.channel == "email")
    assert (email.opted_out, email.opt_out_source) == (True, "import")
    assert OptOutSource(email.opt_out_source).label == "Import"
    (event,) = [e for e in marketing.consent_history(ctx, pid) if e.channel == "email"]
    facts = {f.label: f.value for f in event_facts(event.action, event.details)}
    assert facts["Source"] == "Import"  # as the history shows it, not "Other"


def test_consent_basis_records_the_evidence_on_the_chosen_channels(ctx, tmp_path):
    src = write_csv(tmp_path / "c.csv", [["Cleo", "C", "cleo@example.sch.uk", "", "", "", ""]])
    run_import(
        ctx, src,
        ImportOptions(source="Bett 2026", basis="consent", consent_wording="Yes, send me news",
                      policy_version="2026-01", consent_channels=("email", "sms")),
    )  # fmt: skip
    pid = by_email(ctx, "cleo@example.sch.uk").id
    view = marketing.marketing_view(ctx, pid)
    assert view.lawful_basis == "consent"
    consented = {c.channel: c for c in view.channels if c.consent}
    assert set(consented) == {"email", "sms"}
    email = consented["email"]
    assert (email.consent_method, email.consent_wording, email.consent_policy_version,
            email.consent_given_by) == ("import", "Yes, send me news", "2026-01", "Bett 2026")  # fmt: skip
    with ctx.db.read() as session:
        actions = sorted(session.scalars(select(ConsentEvent.action)).all())
    assert actions == ["basis-set", "consent-granted", "consent-granted"]


def test_legitimate_interest_needs_a_note_or_an_assessment(ctx, tmp_path):
    src = write_csv(tmp_path / "l.csv", [["Lia", "L", "lia@example.sch.uk", "", "", "", ""]])
    with pytest.raises(ValidationError, match="legitimate interest"):
        run_import(ctx, src, ImportOptions(source="s", basis="legitimate-interest"))
    with pytest.raises(ValidationError, match="assessment"):
        run_import(ctx, src, ImportOptions(source="s", basis="legitimate-interest",
                                           li_assessment_id=999))  # fmt: skip
    assert count(ctx, Prospect) == 0 and count(ctx, ImportBatch) == 0
    run_import(
        ctx, src, ImportOptions(source="s", basis="legitimate-interest", li_note="Schools buy this")
    )
    view = marketing.marketing_view(ctx, by_email(ctx, "lia@example.sch.uk").id)
    assert (view.lawful_basis, view.li_note) == ("legitimate-interest", "Schools buy this")


def test_options_are_refused_with_clear_messages(ctx, tmp_path):
    src = write_csv(tmp_path / "x.csv", [["A", "B", "a@example.org", "", "", "", ""]])
    with pytest.raises(ValidationError, match="Source is required|source"):
        run_import(ctx, src, ImportOptions(source="  "))
    with pytest.raises(ValidationError, match="evidence"):
        run_import(ctx, src, ImportOptions(source="s", basis="consent"))
    with pytest.raises(ValidationError, match="on_duplicate|merge"):
        run_import(ctx, src, ImportOptions(source="s", on_duplicate="merge"))
    assert count(ctx, ImportBatch) == 0


def test_sales_may_import_but_not_record_consent(ctx, tmp_path):
    src = write_csv(tmp_path / "x.csv", [["A", "B", "a@example.org", "", "", "", ""]])
    sales = Context(ctx.db, user="sam", role=Role.SALES)
    with pytest.raises(NotPermittedError):
        run_import(sales, src, ImportOptions(source="s", basis="consent", consent_wording="w"))
    assert run_import(sales, src, ImportOptions(source="s")).created == 1


def test_a_given_mapping_is_remembered_for_the_next_file_with_the_same_headers(ctx, tmp_path):
    headers = ["Given", "Family", "Contact", "Kind of school"]
    src = write_csv(tmp_path / "m.csv", [["Ada", "L", "ada@example.org", "Primary"]], headers)
    mapping = {0: "first_name", 1: "last_name", 2: "email"}
    assert I.inspect_file(ctx, src).mapping_source == "suggested"
    run_import(ctx, src, ImportOptions(source="s", mapping=mapping))
    preview = I.inspect_file(ctx, src)
    assert (preview.mapping_source, preview.mapping) == ("remembered", mapping)
    assert preview.rows[0].outcome == "update"


def test_a_mapping_without_a_name_or_an_address_is_refused(ctx, tmp_path):
    src = write_csv(tmp_path / "m.csv", [["Ada", "L", "ada@example.org", "", "", "", ""]])
    with pytest.raises(ValidationError, match="email address or a phone"):
        run_import(ctx, src, ImportOptions(source="s", mapping={0: "first_name", 1: "last_name"}))
    assert count(ctx, ImportBatch) == 0


def test_preview_says_what_each_row_will_do(ctx, tmp_path, add_prospect):
    add_prospect("Ada", "Lovelace", email="ada@example.sch.uk")
    suppression.suppress(ctx, "sam@example.org")
    src = write_csv(
        tmp_path / "p.csv",
        [
            ["Ada", "Lovelace", "ada@example.sch.uk", "", "", "", ""],
            ["Sam", "S", "sam@example.org", "", "", "", ""],
            ["New", "Person", "new@example.org", "", "", "", ""],
            ["Bad", "", "bad@example.org", "", "", "", ""],
        ],
    )
    preview = I.inspect_file(ctx, src)
    assert [r.outcome for r in preview.rows] == ["update", "opted-out", "new", "reject"]
    assert preview.rows[2].candidate.emails == ["new@example.org"]
    assert count(ctx, ImportBatch) == 0


def test_cancel_imports_nothing(ctx, tmp_path):
    rows = [[f"P{i}", "Person", f"p{i}@example.org", "", "", "", ""] for i in range(1_200)]
    src = write_csv(tmp_path / "big.csv", rows + [["Bad", "", "", "", "", "", ""]])
    polls = {"n": 0}

    def cancelled() -> (
        bool
    ):  # let the read and the preparing run, then cancel in the write transaction
        polls["n"] += 1
        return polls["n"] > 6

    with pytest.raises(I.ImportCancelled):
        run_import(ctx, src, ImportOptions(source="s"), cancelled=cancelled)
    assert polls["n"] > 6
    for model in (Prospect, ImportBatch, ImportMember, ContactPoint):
        assert count(ctx, model) == 0
    assert not [p for p in tmp_path.iterdir() if "rejects" in p.name or p.name.endswith(".part")]


def test_changes_made_by_others_during_the_read_are_honoured(
    ctx, tmp_path, add_prospect, monkeypatch
):
    """An opt-out, a new prospect with a file's email and a new suppression, all
    recorded while the file was being read, win over what the read saw."""
    pid = add_prospect("Otto", "Out", email="otto@example.sch.uk")
    src = write_csv(
        tmp_path / "c.csv",
        [
            ["Otto", "Out", "otto@example.sch.uk", "", "", "Head", ""],
            ["Nina", "New", "nina@example.sch.uk", "", "", "Head", ""],
            ["Sue", "S", "sue@example.org", "", "", "", ""],
        ],
    )
    colleague = Context(ctx.db, user="bob")
    real = I.snapshot

    def snapshot_then_colleague_acts(session, keys):
        snap = real(session, keys)
        marketing.object_to_marketing(colleague, pid, reason="Phoned to object")
        prospects.create_prospect(colleague, prospects.ProspectInput(
            first_name="Nina", last_name="Typed", email="NINA@example.sch.uk"))  # fmt: skip
        suppression.suppress(colleague, "sue@example.org")
        return snap

    monkeypatch.setattr(I, "snapshot", snapshot_then_colleague_acts)
    report = run_import(
        ctx, src, ImportOptions(source="s", basis="consent", consent_wording="Ticked")
    )
    assert count(ctx, Prospect) == 3  # Otto, Nina (once), Sue
    assert opted_channels(ctx, pid) == {"email", "sms", "phone", "online"}
    assert not any(c.consent for c in marketing.marketing_view(ctx, pid).channels)
    nina = by_email(ctx, "nina@example.sch.uk")
    assert (nina.last_name, nina.role) == ("Typed", "Head")  # filled, not created again
    sue = by_email(ctx, "sue@example.org")
    assert "email" in opted_channels(ctx, sue.id)
    assert report.opted_out == 2 and report.updated == 1
    assert audit.verify(ctx).ok


def test_every_naughty_string_in_every_column_is_stored_exactly_or_rejected(ctx, tmp_path):
    lines = blns_lines()
    targets = ["first_name", "last_name", "email", "phone", "school", "role", "notes"]
    rows = []
    for i, text in enumerate(lines):
        column = i % len(targets)
        row = [f"First{i}", f"Last{i}", f"p{i}@example.org", "", "", "", ""]
        if targets[column] == "email":
            row[2] = text
        else:
            row[column if column < 2 else column] = text
        rows.append(row)
    path = tmp_path / "blns.csv"
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    report = run_import(ctx, path, ImportOptions(source="BLNS"))
    assert report.total_rows == len(rows)
    rejects = []
    if report.rejects_file:
        rejects = list(csv.reader(Path(report.rejects_file).read_text("utf-8-sig").splitlines()))[
            1:
        ]
    rejected_rows = {int(r[-1].split(":")[0].removeprefix("Row ")) for r in rejects}
    stored = 0
    with ctx.db.read() as session:
        by_key = {p.email_key: p for p in session.scalars(select(Prospect))}
        notes = {c.prospect_id: c.summary for c in session.scalars(select(Correspondence))}
        from crm_desktop.domain.models import School

        schools = {s.id: s.name for s in session.scalars(select(School))}
    for number, row in enumerate(rows, 1):
        if number in rejected_rows:
            continue
        emails = [e for e in (row[2],)]
        p = next(
            (by_key[k] for k in (e.strip().lower() for e in emails) if k in by_key), None
        ) or by_key.get(f"p{number - 1}@example.org")
        assert p is not None, f"row {number} neither stored nor rejected: {row!r}"
        stored += 1

        def clean(text: str) -> str | None:
            value = unicodedata.normalize("NFC", fold_lines(text)).strip()
            return value or None

        assert p.first_name == clean(row[0])
        assert p.last_name == clean(row[1])
        assert (p.role or None) == clean(row[5])
        if clean(row[4]):
            assert schools[p.school_id].lower() == clean(row[4]).lower()
        if row[6].strip():
            assert notes.get(p.id) == unicodedata.normalize("NFC", row[6]).strip()
    assert stored + len(rejected_rows) == len(rows)
    assert len(rejects) == len(rejected_rows) == report.rejected + report.skipped


# ------------------------------------------------------------------- kill -9

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, audit
    from crm_desktop.services import imports
    where, url, src = sys.argv[1], sys.argv[2], sys.argv[3]
    real = audit.record_prepared
    def die_in_apply(*args, **kwargs):
        result = real(*args, **kwargs)
        if where == "apply":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    audit.record_prepared = die_in_apply
    ctx = Context(open_database(url), user="alice")
    imports.run_import(ctx, src, imports.ImportOptions(source="kill test"))
    os.kill(os.getpid(), signal.SIGKILL)  # after the commit
    """
)


@pytest.mark.parametrize("where", ["apply", "after"])
def test_a_kill_during_the_import_leaves_all_or_nothing(ctx, tmp_path, where, add_prospect):
    add_prospect("Kept", "Before")  # the trail has begun (and is keyed) before the kill
    rows = [[f"P{i}", "Person", f"p{i}@example.org", "", "", "", "note"] for i in range(300)]
    src = write_csv(tmp_path / "kill.csv", rows + [["Bad", "", "", "", "", "", ""]])
    url = ctx.db.url
    ctx.db.dispose()
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, where, url, str(src)], capture_output=True, text=True,
        timeout=120, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    imported = count(ctx, Prospect)
    if where == "apply":
        assert (imported, count(ctx, ImportBatch), count(ctx, ImportMember)) == (1, 0, 0)
        assert count(ctx, Correspondence) == 0
        assert not (tmp_path / "kill rejects.csv").exists()
    else:
        assert (imported, count(ctx, ImportMember), count(ctx, Correspondence)) == (301, 300, 300)
        assert (tmp_path / "kill rejects.csv").exists()
    with ctx.db.read() as session:
        entries = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "prospect")
        )
    assert entries == imported
    assert audit.verify(ctx).ok
    assert count(ctx, ChannelPermission) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


# ------------------------------------------------------ the write lock, the index


def test_a_colleagues_opt_out_goes_through_while_the_file_is_read(ctx, tmp_path, add_prospect):
    """Reading, validating and planning hold no write lock: another program's
    opt-out (its own connection, waiting at most half a second for the lock)
    is saved while the import reads the file, and the import honours it."""
    from crm_desktop.persistence import open_database

    pid = add_prospect("Olive", "Out", email="olive@example.sch.uk")
    rows = [[f"P{i}", "Person", f"p{i}@example.org", "", "", "", ""] for i in range(1_200)]
    rows.append(["Olive", "Out", "olive@example.sch.uk", "", "", "Head", ""])
    src = write_csv(tmp_path / "big.csv", rows)
    other = Context(open_database(ctx.db.url), user="bob")
    saved = []

    def progress(done: int, total: int | None) -> None:
        if total is None and not saved:  # still reading the file
            marketing.opt_out(other, pid, "all", reason="Asked on the phone", wait=0.5)
            saved.append(done)

    try:
        report = run_import(ctx, src, ImportOptions(source="s"), progress=progress)
    finally:
        other.db.dispose()
    assert saved and saved[0] < len(rows)
    assert opted_channels(ctx, pid) == {"email", "sms", "phone", "online"}
    assert report.opted_out == 1 and report.created == 1_200
    assert audit.verify(ctx).ok


def _insert_trigger(ctx) -> str | None:
    if ctx.db.dialect != "sqlite":
        return None  # PostgreSQL searches without an index kept by triggers
    with ctx.db.read() as session:
        return (
            session.connection()
            .exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'prospect_fts_ai'"
            )
            .scalar()
        )


def _staging_rows(n: int) -> list[list[str]]:
    schools = ["Vale Academy", "VALE ACADEMY", "Hill Primary", ""]
    return [
        [f"Ann{i}", f"Lee{i}", f"ann{i}@example.org", f"01632 96{i:04d}" if i % 2 else "",
         schools[i % 4], "SENCo" if i % 3 else "", "A note\non two lines" if i % 5 == 0 else "",
         ] for i in range(n)
    ]  # fmt: skip


@pytest.mark.sqlite_only  # the rows are staged in a TEMP table on SQLite only
def test_new_prospects_are_staged_before_the_write_lock_and_inserted_in_one_statement(
    ctx, tmp_path
):
    """Under the write lock the new prospects (and their member rows) are one
    INSERT ... SELECT each from rows staged before it; none goes through the driver."""
    from sqlalchemy import event

    seen: list[tuple[str, bool, bool]] = []  # (statement, executemany, under the write lock)

    def before(conn, _cursor, statement, _params, _context, executemany):
        locked = conn.in_transaction() and bool(conn.get_execution_options().get("crm_write"))
        seen.append((" ".join(statement.split()), executemany, locked))

    src = write_csv(tmp_path / "a.csv", _staging_rows(40))
    event.listen(ctx.db.engine, "before_cursor_execute", before)
    try:
        report = run_import(ctx, src, ImportOptions(source="s"))
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", before)
    assert report.created == 40
    staging = [s for s in seen if s[0].startswith("INSERT INTO temp.crm_stage_")]
    assert staging and all(s[1] and not s[2] for s in staging)  # many rows, before the lock
    inserts = [
        s for s in seen if s[0].startswith(("INSERT INTO prospect ", "INSERT INTO import_member "))
    ]
    assert [(s[0].split()[2], "FROM temp.crm_stage_" in s[0], s[2]) for s in inserts] == [
        ("prospect", True, True), ("import_member", True, True)]  # fmt: skip
    assert any(s[0].startswith("DROP TABLE IF EXISTS temp.crm_stage_") for s in seen)
    with ctx.db.read() as session:
        members = session.execute(
            select(ImportMember.prospect_id, ImportMember.row_number, ImportMember.outcome)
        ).all()
    ids = {p.email: p.id for p in prospects.list_prospects(ctx, prospects.ProspectQuery())}
    assert sorted(members) == sorted((ids[f"ann{i}@example.org"], i + 1, "created")
                                     for i in range(40))  # fmt: skip


@pytest.mark.sqlite_only  # the rows are staged in a TEMP table on SQLite only
def test_staged_rows_store_exactly_what_the_rows_inserted_one_by_one_store(
    ctx, tmp_path, monkeypatch
):
    """The same file imported with its rows staged and without (as when a colleague's
    change makes the batch plan them again under the lock) gives the same rows."""
    from crm_desktop.persistence import open_database
    from crm_desktop.services import import_apply

    suppression.suppress(ctx, "ann7@example.org")
    src = write_csv(tmp_path / "a.csv", _staging_rows(60))
    run_import(ctx, src, ImportOptions(source="s"))
    other = Context(open_database(tmp_path / "other.db", create=True), user="alice")
    try:
        suppression.suppress(other, "ann7@example.org")
        monkeypatch.setattr(import_apply._NewRows, "stage_on", lambda self, conn: None)
        run_import(other, src, ImportOptions(source="s"))

        def dump(c: Context) -> list:
            with c.db.read() as session:
                conn = session.connection()
                out = []
                for table in ("prospect", "import_member", "school", "contact_point"):
                    rows = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all()
                    keys = conn.exec_driver_sql(f"SELECT * FROM {table} LIMIT 0").keys()
                    out.append([
                        {k: v for k, v in zip(keys, r, strict=True)
                         if k not in ("created_at", "updated_at", "source_date", "last_contact_at")}
                        for r in rows
                    ])  # fmt: skip
                # The times are the batch's own: the same within each database.
                stamps = conn.exec_driver_sql(
                    "SELECT count(DISTINCT created_at), count(DISTINCT typeof(created_at)) "
                    "FROM prospect"
                ).one()
                return out, tuple(stamps)

        mine, theirs = dump(ctx), dump(other)
        assert mine == theirs and mine[1] == (1, 1)
        assert len(mine[0][0]) == 60
        assert len(mine[0][2]) == 2  # one Vale Academy, whatever its case
    finally:
        other.db.dispose()


def test_imported_prospects_are_found_by_search_and_the_index_stays_kept(ctx, tmp_path):
    """The search index is filled by one statement at the end of the apply; the
    per-row trigger is back afterwards, exactly as it was, even after a cancel."""
    trigger = _insert_trigger(ctx)
    rows = [[f"Zebedee{i}", f"Quixote{i}", f"z{i}@example.org", "", f"Vale {i % 3} Academy", "", ""]
            for i in range(30)]  # fmt: skip
    src = write_csv(tmp_path / "a.csv", rows)
    calls = {"n": 0}

    def cancel_in_the_insert() -> bool:  # six polls before the insert, the seventh after it
        calls["n"] += 1
        return calls["n"] >= 7

    with pytest.raises(I.ImportCancelled):
        run_import(ctx, src, ImportOptions(source="s"), cancelled=cancel_in_the_insert)
    assert count(ctx, Prospect) == 0
    assert _insert_trigger(ctx) == trigger
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert report.created == 30
    assert _insert_trigger(ctx) == trigger

    def found(text: str) -> list[str]:
        q = prospects.ProspectQuery(search=text)
        return sorted(p.first_name for p in prospects.list_prospects(ctx, q))

    assert found("Zebedee7") == ["Zebedee7"]
    assert found("quixote1") == ["Zebedee1"] + [f"Zebedee{i}" for i in range(10, 20)]
    assert len(found("Vale 2 Academy")) == 10
    assert found("z29@example.org") == ["Zebedee29"]
    # A prospect typed in afterwards is indexed by the trigger as before.
    prospects.create_prospect(ctx, prospects.ProspectInput(
        first_name="Yolanda", last_name="Typed", email="y@example.org"))  # fmt: skip
    assert found("Yolanda") == ["Yolanda"]


def test_the_cycle_collector_is_paused_during_the_import_and_switched_back_on(ctx, tmp_path):
    """A large file keeps many objects alive: collecting them again and again held the
    interpreter lock (and the window) for most of a second. Back on after a cancel too."""
    import gc

    src = write_csv(tmp_path / "a.csv", [["Ada", "Lovelace", "ada@example.org", "", "", "", ""]])
    seen: list[bool] = []

    def progress(done, total) -> None:
        seen.append(gc.isenabled())

    assert gc.isenabled()
    run_import(ctx, src, ImportOptions(source="s"), progress=progress)
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(I.ImportCancelled):
        run_import(ctx, src, ImportOptions(source="s"), cancelled=lambda: not gc.isenabled())
    assert gc.isenabled()
    gc.disable()  # left as it was found
    try:
        run_import(ctx, src, ImportOptions(source="s"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_staged_rows_are_freed_in_slices_before_the_import_returns(ctx, tmp_path, monkeypatch):
    rows = [[f"P{i}", "Person", f"p{i}@example.org", "", "", "", ""] for i in range(50)]
    src = write_csv(tmp_path / "a.csv", rows + [["Bad", "", "", "", "", "", ""]])
    released: list = []
    real = I._release

    def watched(staged: list) -> None:
        released.extend(staged)
        real(staged)

    monkeypatch.setattr(I, "_release", watched)
    report = run_import(ctx, src, ImportOptions(source="s"))
    assert report.created == 50 and len(report.prospect_ids) == 50
    # The rows read, their plans, the prepared audit entries: all emptied in place.
    assert sum(len(x) for x in released) == 0 and len(released) >= 8
    assert any(isinstance(x, dict) for x in released)
    # On a cancel as well.
    released.clear()
    with pytest.raises(I.ImportCancelled):
        run_import(ctx, src, ImportOptions(source="s"), cancelled=lambda: True)
    assert released and sum(len(x) for x in released) == 0


def test_a_created_prospects_audit_entry_holds_only_the_values_it_was_created_with(ctx, tmp_path):
    """One entry per prospect, as {field: value}: no "old" side (a new record has none),
    no blank fields, and where it came from said once by the reason and the batch."""
    src = write_csv(
        tmp_path / "a.csv",
        [["Ada", "Lovelace", "ada@example.org", "", "Hill School", "", "Met at the stand"]],
    )
    report = run_import(ctx, src, ImportOptions(source="Bett 2026"))
    pid = report.prospect_ids[0]
    (entry,) = [e for e in audit.entries(ctx, entity="prospect", entity_id=pid)]
    assert entry.action == "prospect.created"
    assert entry.reason == f"Import #{report.batch_id}: Bett 2026"
    assert entry.values == {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org",
        "school": "Hill School", "stage": "lead", "owner": "alice", "row": 1, "notes_added": 1,
    }  # fmt: skip
    with ctx.db.read() as session:
        hashes = json.loads(session.get(AuditEntry, entry.id).value_hashes)
    assert not any(isinstance(h, dict) for h in hashes.values())
    assert audit.verify(ctx).ok
    # The history shows what the import set, as for a record typed in.
    from crm_desktop.services import history

    texts = "\n".join(e.detail for e in history.history(ctx, pid))
    assert "First name: Ada" in texts and "School: Hill School" in texts
    assert "Phone" not in texts
