import csv
import os
import stat
import zipfile

import pytest
from openpyxl import load_workbook

from crm_desktop.formats.atomic import FileWriteError, atomic_output
from crm_desktop.formats.tabular import neutralise, write_table

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "=cmd|' /C calc'!A0",
    "+447700900123+1",
    "+44 7700 900123",
    "+0123456789",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_prefixes_formula_triggers(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Jane", "O'Brien", "a=b", "1-2", "", None, 42, "+447700900123", "+12025550100"]
)
def test_neutralise_leaves_safe_values(value):
    assert neutralise(value) == ("" if value is None else str(value))


def read(path, fmt):
    if fmt == "xlsx":
        return [[c.value or "" for c in r] for r in load_workbook(path).active.iter_rows()]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("fmt", ["csv", "mailchimp"])
def test_hostile_cells_come_out_inert_in_csv(tmp_path, fmt):
    out = tmp_path / f"x.{fmt}"
    write_table(out, fmt, ["Name", "=Header"], [[v, v] for v in HOSTILE])
    rows = read(out, fmt)
    assert rows[0] == ["Name", "'=Header"]
    for row, value in zip(rows[1:], HOSTILE, strict=True):
        assert row == ["'" + value, "'" + value]


def test_xlsx_keeps_formula_like_values_as_text_cells_without_an_apostrophe(tmp_path):
    """XLSX can mark a cell as text, so the value goes in exactly as it is.

    Checked three ways: the sheet's XML holds no formula element, openpyxl
    sees text cells, and python-calamine (the Rust reader pandas and
    Polars use) reads back the very same text.
    """
    from python_calamine import CalamineWorkbook

    out = tmp_path / "x.xlsx"
    header = ["Name", "=Header"]
    write_table(out, "xlsx", header, [[v, v] for v in HOSTILE])
    # XML normalises a lone CR to LF when it is read; the value is still text.
    expected = [header] + [[v.replace("\r", "\n")] * 2 for v in HOSTILE]

    with zipfile.ZipFile(out) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert 't="inlineStr"' in sheet_xml

    sheet = load_workbook(out).active
    cells = [list(r) for r in sheet.iter_rows()]
    assert {c.data_type for r in cells for c in r} == {"s"}
    assert [[c.value for c in r] for r in cells] == expected

    calamine = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert calamine == expected
    assert not any(str(v).startswith("'") for r in calamine for v in r)


def test_header_only_file_for_no_rows(tmp_path):
    out = tmp_path / "empty.csv"
    write_table(out, "csv", ["Email"], [])
    assert read(out, "csv") == [["Email"]]


def test_failure_midway_leaves_previous_file_and_no_temp(tmp_path):
    out = tmp_path / "list.csv"
    out.write_text("previous\n")

    def rows():
        yield ["a"]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_table(out, "csv", ["h"], rows())
    assert out.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["list.csv"]


def test_written_file_is_owner_only(tmp_path):
    out = tmp_path / "x.csv"
    write_table(out, "csv", ["h"], [["v"]])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_unwritable_destination_is_a_clear_error(tmp_path):
    with (
        pytest.raises(FileWriteError, match="does not exist"),
        atomic_output(tmp_path / "missing" / "x.csv"),
    ):
        pass
    with pytest.raises(FileWriteError, match="is a folder"), atomic_output(tmp_path):
        pass


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        write_table(tmp_path / "x.pdf", "pdf", ["h"], [])
    assert os.listdir(tmp_path) == []
