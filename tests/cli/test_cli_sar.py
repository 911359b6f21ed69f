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


@pytest.fixture
def jane(crm, add):
    person = add("Jane", "Smith", email="jane@oak.sch.uk", school="Oak Primary", role="SENCo")
    assert crm("log", "jane@oak.sch.uk", "--kind", "call", "--summary", "Intro call").code == 0
    return person


def test_json_pack(crm, jane, tmp_path, db_path):
    out = tmp_path / "jane.json"
    result = crm("sar", "jane@oak.sch.uk", "--out", str(out), "--json")
    assert result.code == 0, result
    assert result.json() == {"prospect_id": jane["id"], "format": "json", "file": str(out)}
    pack = json.loads(out.read_bytes().decode("utf-8"))
    assert pack["format_version"] == 1
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
