"""``crm sar``: JSON and PDF packs, refusals, and a PDF from a process with no Qt app."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from cli_support import assert_error

from crm_desktop.persistence import open_database
from crm_desktop.services import audit
from crm_desktop.services.context import Context

OWNER_PW = "owner long password"
BOB_PW = "bobs long password"


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF, counted from its bytes (page objects, not the /Pages tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", data))


def assert_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) >= 1


def sar_entries(db_path):
    db = open_database(db_path)
    try:
        return [
            e for e in audit.entries(Context(db, user="t")) if e.action == "sar.created"
        ]  # fmt: skip
    finally:
        db.dispose()


CONTROLLER = (
    "--controller-name", "Acme Learning Ltd", "--controller-address", "1 Park Row\\nLeeds",
    "--controller-email", "privacy@acme-learning.co.uk", "--dpo-name", "Priya Shah",
)  # fmt: skip


@pytest.fixture
def jane(crm, add):
    assert crm("settings", "set", *CONTROLLER).code == 0
    person = add("Jane", "Smith", email="jane@oak.sch.uk", school="Oak Primary", role="SENCo")
    assert crm("log", "jane@oak.sch.uk", "--kind", "call", "--summary", "Intro call").code == 0
    return person


def test_json_pack(crm, jane, tmp_path, db_path):
    out = tmp_path / "jane.json"
    result = crm("sar", "jane@oak.sch.uk", "--out", str(out), "--json")
    assert result.code == 0, result
    assert result.json() == {
        "prospect_id": jane["id"], "format": "json", "file": str(out), "request_id": None
    }  # fmt: skip
    pack = json.loads(out.read_bytes().decode("utf-8"))
    assert pack["format_version"] == 3
    assert pack["controller"]["address"] == "1 Park Row\nLeeds"
    assert pack["subject"]["email"] == "jane@oak.sch.uk"
    assert pack["school"]["name"] == "Oak Primary"
    assert [c["summary"] for c in pack["correspondence"]] == ["Intro call"]
    [entry] = sar_entries(db_path)
    assert entry.values == {"format": "json", "file": "jane.json"}
    assert entry.entity_id == str(jane["id"])


def test_pdf_pack_in_process(crm, jane, tmp_path, db_path, qapp):
    # qapp: a QApplication, as later GUI tests in this process need (a
    # QGuiApplication made here by the command would be in their way).
    out = tmp_path / "jane.pdf"
    result = crm("sar", str(jane["id"]), "--out", str(out))
    assert result.code == 0, result
    assert result.out.startswith(f"Wrote the subject access pack for Jane Smith (#{jane['id']})")
    assert_pdf(out.read_bytes())
    [entry] = sar_entries(db_path)
    assert entry.values == {"format": "pdf", "file": "jane.pdf"}


def test_pdf_pack_from_a_process_without_a_display(crm, jane, tmp_path, db_path):
    """The real command: lazy Qt import, its own offscreen app, no DISPLAY needed."""
    out = tmp_path / "jane.pdf"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    done = subprocess.run(
        [sys.executable, "-m", "crm_desktop.cli", "--db", str(db_path), "sar", "#1",
         "--out", str(out), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["format"] == "pdf"
    assert_pdf(out.read_bytes())
    assert len(sar_entries(db_path)) == 1


def test_existing_file_is_refused_and_untouched(crm, jane, tmp_path, db_path):
    for name in ("old.json", "old.pdf"):
        out = tmp_path / name
        out.write_bytes(b"do not touch")
        assert_error(crm("sar", "jane@oak.sch.uk", "--out", str(out)), 1, "already exists")
        assert out.read_bytes() == b"do not touch"
    assert sar_entries(db_path) == []


def test_bad_extension_and_unknown_person(crm, jane, tmp_path):
    assert_error(crm("sar", "1", "--out", str(tmp_path / "x.txt")), 1, ".json or .pdf")
    assert_error(crm("sar", "nobody@x.org", "--out", str(tmp_path / "x.json")), 1, "nobody@x.org")
    assert not (tmp_path / "x.json").exists()
    assert crm("sar", "1").code == 2  # --out is required


def test_marketing_is_refused(crm, jane, tmp_path, monkeypatch, db_path):
    monkeypatch.setenv("CRM_NEW_PASSWORD", OWNER_PW)
    assert crm("user", "passwd").code == 0
    monkeypatch.setenv("CRM_NEW_PASSWORD", BOB_PW)
    assert crm("user", "add", "bob", "--role", "marketing").code == 0
    monkeypatch.setenv("CRM_USER", "bob")
    monkeypatch.setenv("CRM_PASSWORD", BOB_PW)
    out = tmp_path / "x.json"
    assert_error(
        crm("sar", "jane@oak.sch.uk", "--out", str(out)),
        1,
        "Not permitted: bob (marketing) may not handle data-subject requests",
    )
    assert not out.exists()
    assert sar_entries(db_path) == []


def test_help_lists_sar_with_the_requests(run_crm):
    result = run_crm("--help")
    assert result.code == 0
    section = result.out.split("Data-subject requests:")[1]
    assert re.search(r"^\s+sar\s+Write a person's subject access pack", section, re.M)


# --------------------------------------------- issue 10 items 12-14 from the command line


def test_no_pack_until_the_controller_is_set(crm, add, tmp_path):
    add("Jane", "Smith", email="jane@oak.sch.uk")
    out = tmp_path / "jane.json"
    result = crm("sar", "jane@oak.sch.uk", "--out", str(out))
    assert_error(result, 1, "not set yet: Company name, Company address, Contact email, Data")
    assert 'crm settings set --controller-name "…"' in result.err
    assert not out.exists()
    shown = crm("settings", "show")
    assert shown.code == 0 and "Company name:            (not set)" in shown.out
    assert crm("settings", "set", *CONTROLLER).code == 0
    shown = crm("settings", "show", "--json").json()
    assert shown["missing"] == [] and shown["controller"]["name"] == "Acme Learning Ltd"
    assert crm("sar", "jane@oak.sch.uk", "--out", str(out)).code == 0


def test_settings_are_for_admins_and_refuse_bad_input(crm, run_crm, db_path):
    assert_error(crm("settings", "set"), 2, "nothing to set")
    assert_error(crm("settings", "set", "--controller-email", "not-an-address"), 1, "not a valid")
    assert crm("settings", "show", "--json").json()["controller"]["email"] is None
    result = crm("settings", "set", "--my-name", "Sam Taylor")
    assert result.code == 0 and "Your name:               Sam Taylor" in result.out


def test_pack_erasure_and_restriction_are_recorded_on_the_request(crm, jane, tmp_path):
    access = crm("request", "add", "jane@oak.sch.uk", "--kind", "access", "--json").json()
    out = tmp_path / "jane.json"
    result = crm("sar", "jane@oak.sch.uk", "--out", str(out), "--request", str(access["id"]))
    assert result.code == 0 and f"on request #{access['id']}" in result.out
    erasure = crm("request", "add", "jane@oak.sch.uk", "--kind", "erasure", "--json").json()
    erased = crm("erase", "jane@oak.sch.uk", "--yes", "--request", str(erasure["id"]))
    assert erased.code == 0, erased
    assert f"Erased Jane Smith (prospect #{jane['id']})" in erased.out
    assert f"Recorded on request #{erasure['id']}." in erased.out
    kept = crm("request", "show", str(erasure["id"]), "--json").json()
    assert (kept["requester_name"], kept["requester_email"]) == ("Jane Smith", "jane@oak.sch.uk")
    # Re-adding the erased address warns that it is suppressed (issue 10 item 13).
    again = crm("prospect", "add", "--first-name", "Jane", "--last-name", "Again",
                "--email", "jane@oak.sch.uk")  # fmt: skip
    assert again.code == 0 and again.out.startswith("Added prospect")
    assert again.err == (
        "crm: warning: jane@oak.sch.uk is on the suppression list for Email and Online "
        "audiences: saved, and recorded as opted out of those channels.\n"
    )
    perms = crm("permissions", "jane@oak.sch.uk", "--json").json()
    assert {c["channel"] for c in perms["channels"] if c["opted_out"]} == {"email", "online"}
