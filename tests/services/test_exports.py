import csv
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from datetime import date

import pytest

from crm_desktop.domain.validation import ContactInput, ProspectInput, ValidationError
from crm_desktop.errors import Cancelled, ConflictError
from crm_desktop.formats.atomic import FileExistsRefused
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import schools as SC
from crm_desktop.services.email_sync import import_unsubscribes


def add(ctx, n, email=None, phone=None, li=True, **kw):
    pid = P.create_prospect(
        ctx,
        ProspectInput(
            first_name=f"P{n}",
            last_name="Test",
            email=email or f"p{n}@oak.sch.uk",
            phone=phone,
            **kw,
        ),
    ).record.id
    if li:
        M.set_lawful_basis(ctx, pid, "legitimate-interest", note="School staff")
    return pid


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_preview_counts_and_reasons(ctx):
    ok = add(ctx, 1)
    add(ctx, 2, li=False)
    out = add(ctx, 3)
    M.opt_out(ctx, out, "email")
    add(ctx, 4, email="p4@gmail.com")
    preview = E.preview_export(ctx, E.ExportRequest("email", "Spring"))
    assert [c.prospect_id for c in preview.included] == [ok]
    assert preview.counts == {
        "no-lawful-basis": 1,
        "opted-out": 1,
        "suppressed": 1,
        "individual-without-consent": 1,
    }
    assert {c.first_name: c.reasons for c in preview.excluded}["P3"] == ["opted-out", "suppressed"]


def test_run_export_writes_file_and_records_everything(ctx, tmp_path):
    a = add(ctx, 1, interests=["SEND support"], role="SENCo")
    add(ctx, 2, li=False)
    out = tmp_path / "spring.csv"
    record = E.run_export(
        ctx,
        E.ExportRequest(
            "email",
            "Spring",
            purpose="Term news",
            personalised=True,
            filters=E.ExportFilters(role="senco"),
        ),  # fmt: skip
        out,
    )
    rows = read_csv(out)
    assert rows[0] == ["Prospect ID", "First name", "Last name", "Email", "School", "Job role",
                       "Stage", "Interests"]  # fmt: skip
    assert rows[1][0] == str(a) and rows[1][7] == "SEND support"
    assert len(rows) == 2
    assert (record.included, record.excluded, record.exclusions) == (1, 0, {})
    assert record.filters == {"role": "senco"} and record.purpose == "Term news"
    import hashlib

    assert record.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert E.export_members(ctx, record.id) == [a]
    assert [r.id for r in E.exports_for_prospect(ctx, a)] == [record.id]
    assert E.list_exports(ctx)[0].campaign == "Spring"


def test_sms_uses_e164_mobiles_and_skips_landlines(ctx, tmp_path):
    mobile = add(ctx, 1, phone="07700 900123")
    add(ctx, 2, phone="01632 960001")
    out = tmp_path / "sms.csv"
    record = E.run_export(ctx, E.ExportRequest("sms", "Texts"), out)
    rows = read_csv(out)
    assert rows == [["Prospect ID", "First name", "Last name", "Mobile (E.164)"],
                    [str(mobile), "P1", "Test", "+447700900123"]]  # fmt: skip
    assert record.exclusions == {"no-address": 1}


def test_mailchimp_columns_and_only_for_email(ctx, tmp_path):
    add(ctx, 1)
    out = tmp_path / "mc.csv"
    E.run_export(ctx, E.ExportRequest("email", "Spring", format="mailchimp"), out)
    assert read_csv(out) == [["Email Address", "First Name", "Last Name", "Tags"],
                             ["p1@oak.sch.uk", "P1", "Test", "Spring"]]  # fmt: skip
    with pytest.raises(ValidationError, match="Mailchimp format is for email"):
        E.run_export(ctx, E.ExportRequest("sms", "x", format="mailchimp"), tmp_path / "y.csv")
    assert not (tmp_path / "y.csv").exists()


def test_export_of_nobody_writes_header_only_and_is_recorded(ctx, tmp_path):
    add(ctx, 1, li=False)
    out = tmp_path / "none.xlsx"
    record = E.run_export(ctx, E.ExportRequest("email", "Nobody", format="xlsx"), out)
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows == [("Prospect ID", "First name", "Last name", "Email")]
    assert record.included == 0 and record.excluded == 1


def test_filters(ctx):
    school = SC.create_school(
        ctx, __import__("crm_desktop.domain.validation", fromlist=["x"]).SchoolInput(
            name="Oak", phase="secondary", local_authority="Leeds")
    ).record  # fmt: skip
    a = add(ctx, 1, school_id=school.id, stage="trial")
    b = add(ctx, 2, stage="lead")
    C.log_contact(
        ctx, b, ContactInput(kind="call", summary="x", occurred_at="2026-01-15T10:00+00:00")
    )

    def ids(**kw):
        return [c.prospect_id for c in E.preview_export(
            ctx, E.ExportRequest("email", "x", filters=E.ExportFilters(**kw))).included]  # fmt: skip

    assert ids(school_phase="secondary") == [a]
    assert ids(region="LEEDS") == [a]
    assert ids(stage="lead") == [b]
    assert ids(last_contact_from=date(2026, 1, 15), last_contact_to=date(2026, 1, 15)) == [b]
    assert ids(last_contact_from=date(2026, 1, 16)) == []
    with pytest.raises(ValidationError, match="before"):
        ids(last_contact_from=date(2026, 2, 1), last_contact_to=date(2026, 1, 1))


def test_cancel_writes_nothing_and_records_nothing(ctx, tmp_path):
    add(ctx, 1)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    out.write_text("previous")
    with pytest.raises(Cancelled):
        E.run_export(
            ctx, E.ExportRequest("email", "x"), out, overwrite=True, should_cancel=lambda: True
        )
    assert out.read_text() == "previous" and os.listdir(out.parent) == ["x.csv"]
    assert E.list_exports(ctx) == []


def test_change_during_export_aborts_it(ctx, tmp_path, monkeypatch):
    pid = add(ctx, 1)
    real = E.write_table_to

    def opt_out_midway(*args, **kw):
        real(*args, **kw)
        M.opt_out(ctx, pid, "email")  # someone opts out while the file is written

    monkeypatch.setattr(E, "write_table_to", opt_out_midway)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    with pytest.raises(ConflictError, match="run the export again"):
        E.run_export(ctx, E.ExportRequest("email", "x"), out)
    assert os.listdir(out.parent) == []
    assert E.list_exports(ctx) == []


def test_an_existing_file_is_refused_before_anyone_is_read(ctx, tmp_path, monkeypatch):
    add(ctx, 1)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    out.write_text("last week's list\n")

    def must_not_run(*args, **kwargs):
        raise AssertionError("the list was evaluated for a file that is refused")

    monkeypatch.setattr(E, "_evaluate", must_not_run)
    with pytest.raises(FileExistsRefused, match="already exists"):
        E.run_export(ctx, E.ExportRequest("email", "x"), out)
    assert out.read_text() == "last week's list\n" and os.listdir(out.parent) == ["x.csv"]
    assert E.list_exports(ctx) == []


def test_a_file_appearing_during_the_export_is_kept_and_nothing_recorded(
    ctx, tmp_path, monkeypatch
):
    add(ctx, 1)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    real = E.write_table_to

    def someone_saves_there(*args, **kw):
        real(*args, **kw)
        out.write_text("someone else's file\n")  # another program, at that moment

    monkeypatch.setattr(E, "write_table_to", someone_saves_there)
    with pytest.raises(FileExistsRefused):
        E.run_export(ctx, E.ExportRequest("email", "x"), out)
    assert out.read_text() == "someone else's file\n"
    assert os.listdir(out.parent) == ["x.csv"]
    assert E.list_exports(ctx) == []


def test_overwrite_replaces_and_records_the_new_files_hash(ctx, tmp_path):
    add(ctx, 1)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    out.write_text("last week's list\n")
    record = E.run_export(ctx, E.ExportRequest("email", "x"), out, overwrite=True)
    assert record.replaced_file is True
    assert record.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert read_csv(out)[1][1:] == ["P1", "Test", "p1@oak.sch.uk"]
    assert E.get_export(ctx, record.id).replaced_file is True
    assert os.listdir(out.parent) == ["x.csv"]
    fresh = E.run_export(ctx, E.ExportRequest("email", "x"), out.parent / "new.csv")
    assert fresh.replaced_file is False


def test_bad_request_is_refused_with_field_messages(ctx, tmp_path):
    with pytest.raises(ValidationError) as exc:
        E.run_export(ctx, E.ExportRequest("fax", " ", format="pdf"), tmp_path / "x")
    assert set(exc.value.errors) == {"channel", "campaign", "format"}


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, exports as E
    from crm_desktop.formats import tabular

    real = tabular.write_table_to
    def slow_rows(path, fmt, header, rows, on_row=None):
        def ticking():
            for i, row in enumerate(rows):
                if i == 50:
                    print("MIDWAY", flush=True)
                    import time; time.sleep(60)
                yield row
        real(path, fmt, header, ticking(), on_row=on_row)
    E.write_table_to = slow_rows
    ctx = Context(open_database(sys.argv[1]), "alice")
    E.run_export(ctx, E.ExportRequest("email", "Kill"), sys.argv[2], overwrite=True)
    """
)


def test_killed_export_leaves_the_previous_file_and_no_record(ctx, db_path, tmp_path):
    from crm_desktop.services.demo import generate_demo

    generate_demo(ctx, 300, seed=1)
    for row in P.list_prospects(ctx):
        M.set_lawful_basis(ctx, row.id, "legitimate-interest", note="x")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "list.csv"
    out.write_text("previous list\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(db_path), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "MIDWAY"
        temp = [p for p in os.listdir(out_dir) if p.endswith(".part")]
        assert temp, "the export should be writing a temporary file"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.read_text() == "previous list\n"  # never half-written
    # Killed: the record says the export is still being written, never "complete".
    (left,) = E.list_exports(ctx)
    assert (left.state, left.sha256, left.complete) == ("writing", "", False)
    # The next start settles it: failed (interrupted), and its temporary file deleted.
    (said,) = E.finish_interrupted_exports(ctx)
    assert "failed (interrupted)" in said and "temporary file was deleted" in said
    (settled,) = E.list_exports(ctx)
    assert (settled.id, settled.state, settled.sha256) == (left.id, "interrupted", "")
    assert os.listdir(out_dir) == ["list.csv"]
    assert out.read_text() == "previous list\n"
    assert E.finish_interrupted_exports(ctx) == []  # nothing left to do


def test_unsubscribe_sync(ctx, tmp_path):
    known = add(ctx, 1)
    already = add(ctx, 2)
    M.opt_out(ctx, already, "email")
    path = tmp_path / "unsubscribed.csv"
    path.write_text(
        "Email Address,First Name\nP1@oak.sch.uk,P\np2@oak.sch.uk,Q\nstranger@x.org,S\nbad,B\n"
        "stranger@x.org,S\n"
    )
    report = import_unsubscribes(ctx, path)
    assert (report.rows, report.matched, report.already_opted_out, report.new) == (5, 1, 1, 1)
    assert (report.duplicates, report.invalid, report.invalid_examples) == (1, 1, ["bad"])
    view = M.marketing_view(ctx, known)
    email = next(c for c in view.channels if c.channel == "email")
    assert email.opted_out and email.opt_out_source == "email-tool"
    # A later prospect with the stranger's address is suppressed for email, and
    # is recorded as opted out as they are added.
    stranger = add(ctx, 9, email="Stranger@X.org")
    assert "suppressed" in [e.value for e in M.exclusions_for(ctx, stranger, "email")]
    stranger_email = next(
        c for c in M.marketing_view(ctx, stranger).channels if c.channel == "email"
    )
    assert stranger_email.opted_out
    again = import_unsubscribes(ctx, path)
    # So this time all three addresses in the file are already opted out.
    assert (again.matched, again.already_opted_out, again.new) == (0, 3, 0)


def test_unsubscribe_sync_of_a_bad_file_changes_nothing(ctx, tmp_path):
    pid = add(ctx, 1)
    path = tmp_path / "x.csv"
    path.write_text("Email\np1@oak.sch.uk\n" + '"' + "a" * 50_000 + '"\n')
    from crm_desktop.formats.address_files import AddressFileError

    with pytest.raises(AddressFileError):
        import_unsubscribes(ctx, path)
    assert M.exclusions_for(ctx, pid, "email") == []


def test_address_suppressed_during_export_aborts_it(ctx, tmp_path, monkeypatch):
    from crm_desktop.services import suppression as S

    add(ctx, 1)
    add(ctx, 2)
    real = E.write_table_to

    def suppress_midway(*args, **kw):
        real(*args, **kw)
        S.suppress(ctx, "p2@oak.sch.uk")  # marketing adds an address meanwhile

    monkeypatch.setattr(E, "write_table_to", suppress_midway)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    with pytest.raises(ConflictError, match="suppressed while it was being exported"):
        E.run_export(ctx, E.ExportRequest("email", "x"), out)
    assert os.listdir(out.parent) == []
    # An unrelated address suppressed meanwhile does not abort it.
    monkeypatch.setattr(
        E, "write_table_to", lambda *a, **k: (real(*a, **k), S.suppress(ctx, "other@x.org"))
    )
    record = E.run_export(ctx, E.ExportRequest("email", "x"), out)
    assert record.included == 1


def test_unsubscribe_of_an_address_suppressed_for_all_counts_as_already(ctx, tmp_path):
    from crm_desktop.services import suppression as S

    S.suppress(ctx, "gone@x.org")
    path = tmp_path / "u.txt"
    path.write_text("gone@x.org\n")
    report = import_unsubscribes(ctx, path)
    assert (report.new, report.already_suppressed) == (0, 1)
    assert [e.channel for e in S.lookup(ctx, "gone@x.org")] == ["all"]
