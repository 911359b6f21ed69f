"""``crm import``: exit 0 with a report when the batch is imported, one line otherwise."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def write_csv(path: Path, rows, headers=("First name", "Last name", "Email")) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def test_import_reports_and_every_imported_prospect_is_listed(crm, tmp_path):
    rows = [[f"P{i}", "Person", f"p{i}@example.org"] for i in range(1_500)]
    src = write_csv(tmp_path / "list.csv", rows + [["Bad", "", "bad@"]])
    result = crm("import", str(src), "--source", "Bett 2026", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["created"], report["rejected"], report["total_rows"]) == (1_500, 1, 1_501)
    assert Path(report["rejects_file"]).name == "list rejects.csv"
    listed = crm("prospect", "list", "--json")
    emails = {p["email"] for p in json.loads(listed.out)}
    assert {f"p{i}@example.org" for i in range(1_500)} <= emails


def test_human_report_names_the_counts_and_the_rejects_file(crm, tmp_path):
    src = write_csv(tmp_path / "a.csv", [["Ada", "L", "ada@example.org"], ["", "", "x@"]])
    result = crm("import", str(src), "--rejects", str(tmp_path / "out.csv"))
    assert result.code == 0, result.err
    assert "Created:" in result.out and "Rejected:" in result.out
    assert str(tmp_path / "out.csv") in result.out


def test_a_refused_file_or_option_is_one_line_and_non_zero(crm, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = crm("import", str(empty))
    assert result.code != 0 and len(result.err.strip().splitlines()) == 1
    assert crm("import", str(tmp_path / "missing.csv")).code != 0
    src = write_csv(tmp_path / "a.csv", [["Ada", "L", "ada@example.org"]])
    result = crm("import", str(src), "--basis", "consent")
    assert result.code == 1 and "--evidence" in result.err
    result = crm("import", str(src), "--basis", "legitimate-interest")
    assert result.code == 1 and "--li-note" in result.err
    assert json.loads(crm("prospect", "list", "--json").out) == []


def test_mapping_file_maps_columns_by_header(crm, tmp_path):
    src = write_csv(
        tmp_path / "odd.csv", [["Ada", "L", "ada@example.org"]], headers=("Given", "Fam", "Contact")
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Given": "first_name", "Fam": "last_name", "Contact": "email"}))
    result = crm("import", str(src), "--mapping", str(mapping), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["created"] == 1
    mapping.write_text(json.dumps({"Nope": "email"}))
    result = crm("import", str(src), "--mapping", str(mapping))
    assert result.code == 1 and "no column 'Nope'" in result.err


def test_consent_import_from_the_command_line(crm, tmp_path):
    src = write_csv(tmp_path / "c.csv", [["Cleo", "C", "cleo@example.org"]])
    result = crm(
        "import", str(src), "--basis", "consent", "--evidence", "Ticked the box",
        "--policy-version", "v3", "--channels", "email,sms", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    pid = json.loads(result.out)["prospect_ids"][0]
    perms = json.loads(crm("permissions", str(pid), "--json").out)
    consented = {c["channel"] for c in perms["channels"] if c["consent"]}
    assert consented == {"email", "sms"}
