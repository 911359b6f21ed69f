"""Reading contact files: CSV in its encodings and dialects, workbooks, vCards, refusals."""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from contact_samples import GOOGLE_2024, GOOGLE_OLD, MAILCHIMP, OUTLOOK

from crm_desktop.domain.contact_mapping import (
    VCARD_HEADERS,
    layout_mapping,
    map_row,
    recognise_layout,
)
from crm_desktop.formats import contact_files
from crm_desktop.formats.contact_files import (
    ContactFileError,
    SourceRow,
    cell_text,
    column_letter,
    open_contact_file,
)

BLNS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "blns.txt"


def csv_text(header, rows, delimiter=",", lineterminator="\r\n"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_bytes(tmp_path, name, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def row_of(header, **values):
    return [values.get(h, "") for h in header]


def cells(table):
    return [row.cells for row in table.rows()]


# ------------------------------------------------------------------ layouts


def test_google_2024_export_with_multi_values_and_a_multi_line_note(tmp_path):
    rows = [
        row_of(
            GOOGLE_2024,
            **{
                "First Name": "Zoë",
                "Last Name": "Ó'Brien",
                "Organization Name": "St Mary's C of E Primary",
                "Organization Title": "Head of Maths",
                "Notes": "Met at Bett 2026\nWants a demo",
                "Labels": "* myContacts ::: Bett",
                "E-mail 1 - Label": "* Work",
                "E-mail 1 - Value": "zoe.obrien@stmarys.example.sch.uk ::: zoe@example.org",
                "E-mail 2 - Label": "Home",
                "E-mail 2 - Value": "zoe.home@example.com",
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": "07700 900123",
            },
        ),
        row_of(
            GOOGLE_2024,
            **{
                "First Name": "Łukasz",
                "Last Name": "Kowalski",
                "E-mail 1 - Value": "lk@example.org",
            },
        ),  # fmt: skip
    ]
    path = write_bytes(tmp_path, "contacts.csv", csv_text(GOOGLE_2024, rows).encode("utf-8"))
    table = open_contact_file(path)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.headers == GOOGLE_2024
    assert recognise_layout(table.headers) == "google"
    found = list(table.rows())
    assert [r.number for r in found] == [1, 2] and all(r.error is None for r in found)
    first = map_row(found[0].cells, layout_mapping("google", table.headers))
    assert (first.first_name, first.last_name) == ("Zoë", "Ó'Brien")
    assert first.emails == [
        "zoe.obrien@stmarys.example.sch.uk",
        "zoe@example.org",
        "zoe.home@example.com",
    ]
    assert first.phones == ["07700 900123"]
    assert (first.school, first.role) == ("St Mary's C of E Primary", "Head of Maths")
    assert first.notes == "Met at Bett 2026\nWants a demo"


def test_google_older_export_reads_given_and_family_names(tmp_path):
    rows = [
        row_of(GOOGLE_OLD, **{"Name": "Ana García", "Given Name": "Ana", "Family Name": "García",
               "E-mail 1 - Type": "* Work", "E-mail 1 - Value": "ana@example.es",
               "Organization 1 - Name": "Colegio Británico", "Organization 1 - Title": "Bursar"}),
        row_of(GOOGLE_OLD, **{"Name": "Sam Lee", "Phone 1 - Value": "+44 7700 900456"}),
    ]  # fmt: skip
    path = write_bytes(tmp_path, "google.csv", csv_text(GOOGLE_OLD, rows).encode("utf-8"))
    table = open_contact_file(path)
    mapping = layout_mapping(recognise_layout(table.headers), table.headers)
    ana, sam = (map_row(r.cells, mapping) for r in table.rows())
    assert (ana.first_name, ana.last_name, ana.school, ana.role) == (
        "Ana", "García", "Colegio Británico", "Bursar"
    )  # fmt: skip
    assert (sam.first_name, sam.last_name, sam.phones) == ("Sam", "Lee", ["+44 7700 900456"])


def test_outlook_export_in_windows_1252(tmp_path):
    rows = [
        row_of(OUTLOOK, **{"Title": "Ms", "First Name": "Zoë", "Last Name": "Ó'Brien",
               "Company": "Académie Française School", "Job Title": "Deputy Head",
               "Business Phone": "01632 960123", "Mobile Phone": "07700 900123",
               "E-mail Address": "zoe@example.org", "E-mail 2 Address": "z.obrien@example.org",
               "Notes": "Prefers “phone” calls – mornings"}),
        row_of(OUTLOOK, **{"First Name": "José", "Last Name": "Núñez",
               "E-mail Address": "jose@example.es"}),
    ]  # fmt: skip
    path = write_bytes(tmp_path, "outlook.CSV", csv_text(OUTLOOK, rows).encode("cp1252"))
    table = open_contact_file(path)
    assert table.encoding == "cp1252"
    assert recognise_layout(table.headers) == "outlook"
    mapping = layout_mapping("outlook", table.headers)
    zoe, jose = (map_row(r.cells, mapping) for r in table.rows())
    assert (zoe.first_name, zoe.last_name, zoe.role) == ("Zoë", "Ó'Brien", "Deputy Head")
    assert zoe.school == "Académie Française School"
    assert zoe.emails == ["zoe@example.org", "z.obrien@example.org"]
    assert zoe.phones == ["01632 960123", "07700 900123"]
    assert zoe.notes == "Prefers “phone” calls – mornings"
    assert (jose.first_name, jose.last_name) == ("José", "Núñez")


def test_mailchimp_audience_export(tmp_path):
    rows = [
        row_of(MAILCHIMP, **{"Email Address": "head@example.sch.uk", "First Name": "Priya",
               "Last Name": "Patel", "School": "Oakfield Academy", "Job Title": "Headteacher",
               "MEMBER_RATING": "2", "OPTIN_TIME": "2025-09-01 10:00:00",
               "TAGS": '"Bett 2026","Maths"'}),
    ]  # fmt: skip
    text = csv_text(MAILCHIMP, rows, lineterminator="\n")
    path = write_bytes(tmp_path, "members_export.csv", text.encode("utf-8"))
    table = open_contact_file(path)
    assert recognise_layout(table.headers) == "mailchimp"
    priya = map_row(next(table.rows()).cells, layout_mapping("mailchimp", table.headers))
    assert (priya.first_name, priya.last_name, priya.emails) == (
        "Priya", "Patel", ["head@example.sch.uk"]
    )  # fmt: skip
    assert (priya.school, priya.role) == ("Oakfield Academy", "Headteacher")


# --------------------------------------------------------- encodings, dialects

NAMES = [["Zoë", "Ó'Brien", "zoe@example.org"], ["Łukasz", "Żółć", "lk@example.org"]]
HEADER = ["First Name", "Last Name", "Email"]


@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
    ],
)
def test_unicode_encodings_with_and_without_a_bom(tmp_path, encoding, bom, reported):
    text = csv_text(HEADER, NAMES)
    path = write_bytes(tmp_path, "x.csv", bom + text.encode(encoding))
    table = open_contact_file(path)
    assert table.encoding == reported
    assert table.headers == HEADER
    assert cells(table) == [tuple(r) for r in NAMES]


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path):
    # Excel > Save As > Unicode Text: UTF-16 LE with a BOM, tab separated, quoted where needed.
    text = csv_text(HEADER + ["Notes"], [NAMES[0] + ["Two\r\nlines, with\ttab"], NAMES[1] + [""]],
                    delimiter="\t")  # fmt: skip
    path = write_bytes(tmp_path, "contacts.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table = open_contact_file(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.format_label == "CSV (UTF-16, tab)"
    assert cells(table) == [
        ("Zoë", "Ó'Brien", "zoe@example.org", "Two\r\nlines, with\ttab"),
        ("Łukasz", "Żółć", "lk@example.org", ""),
    ]


def test_windows_1252_with_accented_names_and_smart_quotes(tmp_path):
    rows = [["Zoë", "Ó'Brien", "“Head” – Maths"], ["José", "Núñez", "Señor"]]
    path = write_bytes(
        tmp_path, "x.csv", csv_text(["First", "Last", "Role"], rows).encode("cp1252")
    )
    table = open_contact_file(path)
    assert table.encoding == "cp1252"
    assert table.format_label == "CSV (Windows-1252, comma)"
    assert cells(table) == [tuple(r) for r in rows]


def test_windows_1250_is_told_from_1252_by_charset_normalizer(tmp_path):
    rows = [["Łukasz", "Żółć"], ["Małgorzata", "Wąsik"], ["Grzegorz", "Brzęczyszczykiewicz"]]
    path = write_bytes(tmp_path, "x.csv", csv_text(["Imię", "Nazwisko"], rows).encode("cp1250"))
    table = open_contact_file(path)
    assert table.encoding == "cp1250"
    assert cells(table) == [tuple(r) for r in rows]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(tmp_path, delimiter):
    rows = [["Zoë", "Ó'Brien", "a, b; c\td"], ["Sam", "Lee", ""]]
    text = csv_text(["First name", "Surname", "Notes"], rows, delimiter=delimiter)
    table = open_contact_file(write_bytes(tmp_path, "x.csv", text.encode("utf-8")))
    assert table.delimiter == delimiter
    assert cells(table) == [tuple(r) for r in rows]


def test_semicolons_inside_comma_separated_values_do_not_fool_the_sniffer(tmp_path):
    rows = [[f"Name {i}", f"a{i}; b{i}; c{i}; d{i}"] for i in range(30)]
    text = csv_text(["Name", "Interests"], rows)
    table = open_contact_file(write_bytes(tmp_path, "x.csv", text.encode("utf-8")))
    assert table.delimiter == ","
    assert len(cells(table)) == 30


def test_one_column_file(tmp_path):
    table = open_contact_file(
        write_bytes(tmp_path, "x.csv", b"Email\na@example.org\nb@example.org\n")
    )
    assert table.headers == ["Email"]
    assert cells(table) == [("a@example.org",), ("b@example.org",)]


def test_quoted_cells_with_newlines_delimiters_and_quotes(tmp_path):
    data = (
        'First,Last,Notes\r\n"Zoë","O""Brien","line one\r\nline two, still\r\n"\r\n'
        'Sam,Lee,"He said ""hi"""\r\n'
    )
    table = open_contact_file(write_bytes(tmp_path, "x.csv", data.encode("utf-8")))
    assert cells(table) == [
        ("Zoë", 'O"Brien', "line one\r\nline two, still\r\n"),
        ("Sam", "Lee", 'He said "hi"'),
    ]


def test_ragged_rows_are_rows_with_an_error_and_blank_rows_keep_their_numbers(tmp_path):
    data = "A,B,C,D\n1,2,3,4\n\n1,2,3,4,5\n1,2\n1,2,3,4,,\n, , ,\n9,9,9,9\n"
    table = open_contact_file(write_bytes(tmp_path, "x.csv", data.encode("utf-8")))
    assert list(table.rows()) == [
        SourceRow(1, ("1", "2", "3", "4")),
        SourceRow(3, ("1", "2", "3", "4", "5"), "has 5 columns where the header has 4"),
        SourceRow(4, ("1", "2"), "has 2 columns where the header has 4"),
        SourceRow(5, ("1", "2", "3", "4")),  # trailing delimiters lose nothing
        SourceRow(7, ("9", "9", "9", "9")),
    ]


def test_header_cells_are_trimmed_and_blank_ones_named(tmp_path):
    data = "\ufeff First Name ,,Email,,\nZoë,x,z@example.org,,\n"
    table = open_contact_file(write_bytes(tmp_path, "x.csv", data.encode("utf-8")))
    assert table.headers == ["First Name", "Column B", "Email"]
    assert cells(table) == [("Zoë", "x", "z@example.org")]


def test_leading_blank_lines_before_the_header_are_skipped(tmp_path):
    table = open_contact_file(
        write_bytes(tmp_path, "x.csv", b"\r\n\r\nName,Email\r\nA B,a@x.org\r\n")
    )
    assert table.headers == ["Name", "Email"]
    assert list(table.rows()) == [SourceRow(1, ("A B", "a@x.org"))]


def test_a_utf8_file_with_a_stray_byte_reports_that_row_and_reads_the_rest(tmp_path):
    data = "First,Last\nZoë,Ó'Brien\n".encode() + b"Jos\xe9,Bad\n" + "Łukasz,Żółć\n".encode()
    table = open_contact_file(write_bytes(tmp_path, "x.csv", data))
    assert table.encoding == "utf-8"
    rows = list(table.rows())
    assert rows[0] == SourceRow(1, ("Zoë", "Ó'Brien"))
    assert rows[1].cells == ("Jos\ufffd", "Bad")
    assert rows[1].error and "not UTF-8 text" in rows[1].error
    assert rows[2] == SourceRow(3, ("Łukasz", "Żółć"))


def test_rows_can_be_read_again_and_table_describes_the_file(tmp_path):
    data = csv_text(HEADER, NAMES).encode("utf-8")
    path = write_bytes(tmp_path, "x.csv", data)
    table = open_contact_file(path)
    assert list(table.rows()) == list(table.rows())
    import hashlib

    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.size == len(data)
    assert table.path == path
    assert (table.sheet, table.sheets) == (None, [])


def test_content_decides_the_format_not_the_extension(tmp_path):
    table = open_contact_file(write_bytes(tmp_path, "export.dat", b"Email;Name\na@x.org;A B\n"))
    assert (table.format, table.delimiter) == ("csv", ";")


def test_layout_names_mean_automatic(tmp_path):
    path = write_bytes(tmp_path, "x.csv", csv_text(HEADER, NAMES).encode("utf-8"))
    assert open_contact_file(path, fmt="google").format == "csv"
    with pytest.raises(ValueError, match="unknown format"):
        open_contact_file(path, fmt="pdf")


# ------------------------------------------------------------ naughty strings


def blns_values() -> list[str]:
    if not BLNS.exists():
        pytest.fail(f"test corpus missing: {BLNS}")
    return BLNS.read_text(encoding="utf-8").split("\n")


def test_every_naughty_string_round_trips_through_csv(tmp_path):
    values = blns_values()
    header = ["Line", "Value", "Again"]
    text = csv_text(header, [[str(i), v, v] for i, v in enumerate(values, 1)])
    path = write_bytes(tmp_path, "blns.csv", text.encode("utf-8"))
    table = open_contact_file(path)
    assert (table.delimiter, table.headers) == (",", header)
    read = list(table.rows())
    assert all(row.error is None for row in read)
    assert [row.number for row in read] == list(range(1, len(values) + 1))
    assert [row.cells[1] for row in read] == values
    assert [row.cells[2] for row in read] == values


def test_every_naughty_string_round_trips_through_xlsx(tmp_path):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    values = blns_values()
    # XLSX (XML) cannot hold C0 control characters: openpyxl refuses those lines.
    storable = [v for v in values if not ILLEGAL_CHARACTERS_RE.search(v)]
    assert len(values) - len(storable) <= 5
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Naughty"
    sheet.append(["Line", "Value"])
    for i, value in enumerate(storable, 1):
        sheet.cell(row=i + 1, column=1, value=i)
        cell = sheet.cell(row=i + 1, column=2)
        cell.value = value
        cell.data_type = "s"  # text, never a formula
    path = tmp_path / "blns.xlsx"
    workbook.save(path)
    read = list(open_contact_file(path).rows())
    assert [row.number for row in read] == list(range(1, len(storable) + 1))
    assert all(row.error is None for row in read)
    by_number = {row.number: row.cells for row in read}
    for i, value in enumerate(storable, 1):
        if value and not value.strip(" "):
            # openpyxl writes <t> </t> without xml:space="preserve" for a cell of
            # spaces only, so XML readers (calamine among them) see an empty cell.
            assert by_number[i] == (str(i), ""), f"line {i}: {value!r}"
            continue
        assert by_number[i] == (str(i), value), f"line {i}: {value!r}"
    assert sum(1 for v in storable if v and not v.strip(" ")) <= 2


# ---------------------------------------------------------------- workbooks


def make_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_first_sheet_with_numbers_and_dates_as_text(tmp_path):
    path = make_workbook(
        tmp_path / "stand.xlsx",
        {
            "Bett sign-ups": [
                ["Forename", "Surname", "Email", "Phone", "Pupils", "Signed up", "Ratio"],
                ["Zoë", "Ó'Brien", "zoe@example.org", 447700900123, 420, date(2026, 1, 21), 0.25],
                [None, None, None, None, None, None, None],
                ["Łukasz", "Kowalski", "lk@example.org", "07700 900456", 12.5,
                 datetime(2026, 1, 22, 14, 30), True],
            ],
            "Other": [["Name"], ["X"]],
        },
    )  # fmt: skip
    table = open_contact_file(path)
    assert (table.format, table.sheet, table.sheets) == (
        "xlsx",
        "Bett sign-ups",
        ["Bett sign-ups", "Other"],
    )
    assert table.encoding is None and table.delimiter is None
    assert table.format_label == "Workbook, sheet Bett sign-ups"
    assert list(table.rows()) == [
        SourceRow(1, ("Zoë", "Ó'Brien", "zoe@example.org", "447700900123", "420", "2026-01-21", "0.25")),
        SourceRow(3, ("Łukasz", "Kowalski", "lk@example.org", "07700 900456", "12.5",
                      "2026-01-22 14:30:00", "TRUE")),
    ]  # fmt: skip


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    path = make_workbook(
        tmp_path / "book.xlsx",
        {"Summary": [["Total"], [3]], "Contacts": [["Name", "Email"], ["A B", "a@x.org"]]},
    )
    table = open_contact_file(path, sheet="Contacts")
    assert table.sheet == "Contacts" and table.headers == ["Name", "Email"]
    assert cells(table) == [("A B", "a@x.org")]
    with pytest.raises(ContactFileError) as raised:
        open_contact_file(path, sheet="People")
    assert (
        str(raised.value)
        == "book.xlsx has no sheet named 'People'; its sheets are Summary, Contacts."
    )


def test_xlsx_short_rows_are_padded_and_values_beyond_the_header_are_errors(tmp_path):
    path = make_workbook(
        tmp_path / "book.xlsx",
        {"S": [["Name", "Email", "Notes"], ["A B"], ["C D", "c@x.org", "n", "stray"]]},
    )
    assert list(open_contact_file(path).rows()) == [
        SourceRow(1, ("A B", "", "")),
        SourceRow(
            2, ("C D", "c@x.org", "n", "stray"), "has a value in column D, which has no header"
        ),
    ]


def test_xlsx_with_only_a_header_or_nothing_is_refused(tmp_path):
    path = make_workbook(tmp_path / "h.xlsx", {"People": [["Name", "Email"]], "Empty": []})
    with pytest.raises(ContactFileError, match=r"^Sheet 'People' of h.xlsx has only a header row"):
        open_contact_file(path)
    with pytest.raises(ContactFileError, match=r"^Sheet 'Empty' of h.xlsx is empty"):
        open_contact_file(path, sheet="Empty")


def test_explicit_format_that_does_not_match_the_content_is_refused(tmp_path):
    book = make_workbook(tmp_path / "book.xlsx", {"S": [["Name"], ["A"]]})
    with pytest.raises(ContactFileError, match="is a workbook .*not a CSV file"):
        open_contact_file(book, fmt="csv")
    text = write_bytes(tmp_path, "x.csv", b"Name\nA\n")
    with pytest.raises(ContactFileError, match="is a text file, not an Excel workbook"):
        open_contact_file(text, fmt="xlsx")
    with pytest.raises(ContactFileError, match="not a vCard file"):
        open_contact_file(text, fmt="vcard")


def test_cell_text_and_column_letters():
    assert cell_text(None) == "" and cell_text(3.0) == "3" and cell_text(-2.5) == "-2.5"
    assert cell_text(1e20) == "1e+20" and cell_text(False) == "FALSE"
    assert cell_text(datetime(2026, 3, 12)) == "2026-03-12"
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# ------------------------------------------------------------------- vCards

VCARDS = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=93'Brien;Zo=C3=AB;Ann;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB =C3=93'Brien\r\n"
    "ORG:St Mary's Primary;Maths\r\n"
    "TITLE:Head of Maths\r\n"
    "TEL;WORK;VOICE:01632 960123\r\n"
    "TEL;CELL:07700 900123\r\n"
    "EMAIL;PREF;INTERNET:zoe@example.org\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Met at Bett=0D=0AWants a demo of the =\r\n"
    "reading programme\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Kowalski;Łukasz;;;\r\n"
    "FN:Łukasz Kowalski\r\n"
    "ORG:Academy\\, Trust and Partners;Science\r\n"
    "TITLE:Teacher\\, Science\r\n"
    "EMAIL;TYPE=INTERNET,WORK:l.kowalski@example.org\r\n"
    "EMAIL;TYPE=INTERNET,HOME:lk@home.example\r\n"
    "NOTE:Line one\\nLine two with a long folded\r\n"
    "  continuation\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Ana García\r\n"
    "N:García;Ana;;;\r\n"
    'TEL;VALUE=uri;TYPE="voice,cell":tel:+44-7700-900456\r\n'
    "EMAIL:ana@example.es\r\n"
    "END:VCARD\r\n"
)


def test_vcards_21_30_40_with_quoted_printable_escapes_and_folding(tmp_path):
    path = write_bytes(tmp_path, "phone.vcf", VCARDS.encode("utf-8"))
    table = open_contact_file(path)
    assert (table.format, table.encoding) == ("vcard", "utf-8")
    assert table.headers == list(VCARD_HEADERS)
    assert recognise_layout(table.headers) == "vcard"
    assert list(table.rows()) == [
        SourceRow(1, ("Zoë Ó'Brien", "Zoë", "Ó'Brien", "zoe@example.org",
                      "01632 960123 ::: 07700 900123", "St Mary's Primary", "Head of Maths",
                      "Met at Bett\r\nWants a demo of the reading programme")),
        SourceRow(2, ("Łukasz Kowalski", "Łukasz", "Kowalski",
                      "l.kowalski@example.org ::: lk@home.example", "",
                      "Academy, Trust and Partners", "Teacher, Science",
                      "Line one\nLine two with a long folded continuation")),
        SourceRow(3, ("Ana García", "Ana", "García", "ana@example.es", "+44-7700-900456", "", "", "")),
    ]  # fmt: skip
    mapping = layout_mapping("vcard", table.headers)
    zoe = map_row(next(table.rows()).cells, mapping)
    assert zoe.phones == ["01632 960123", "07700 900123"]
    assert (zoe.school, zoe.role) == ("St Mary's Primary", "Head of Maths")


def test_a_card_that_cannot_be_read_is_a_row_with_an_error_and_the_others_are_read(tmp_path):
    broken = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken Card\r\nthis line has no colon\r\nEND:VCARD\r\n"
    )
    unfinished = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\n"
    path = write_bytes(tmp_path, "x.vcf", (VCARDS.replace("END:VCARD\r\nBEGIN", "END:VCARD\r\n"
                       + broken + "BEGIN", 1) + unfinished).encode("utf-8"))  # fmt: skip
    rows = list(open_contact_file(path).rows())
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    assert [r.error is None for r in rows] == [True, False, True, True, False]
    assert rows[1].error.startswith("cannot be read as a vCard")
    assert rows[1].cells[0] == "Broken Card" and "this line has no colon" in rows[1].cells[-1]
    assert rows[4].error == "is not complete (no END:VCARD)"
    assert rows[4].cells[0] == "Cut Off"


def test_vcard_in_windows_1252_without_charset(tmp_path):
    card = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Núñez;José\r\nFN:José Núñez\r\nEMAIL:j@example.es\r\nEND:VCARD\r\n"
    table = open_contact_file(write_bytes(tmp_path, "j.vcf", card.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert cells(table)[0][:3] == ("José Núñez", "José", "Núñez")


def test_an_unfinished_card_is_reported_and_text_is_not_a_vcard(tmp_path):
    path = write_bytes(tmp_path, "x.vcf", b"BEGIN:VCARD\r\n")
    rows = list(open_contact_file(path).rows())  # one incomplete card: reported, not refused
    assert rows[0].error == "is not complete (no END:VCARD)"
    with pytest.raises(ContactFileError, match="not a vCard file"):
        open_contact_file(write_bytes(tmp_path, "y.vcf", b"hello\r\n"), fmt="vcard")


# ----------------------------------------------------------------- refusals


def refusal(path, **kwargs) -> str:
    with pytest.raises(ContactFileError) as raised:
        open_contact_file(path, **kwargs)
    message = str(raised.value)
    assert "\n" not in message and message.endswith(".")
    return message


def test_missing_file_folder_and_empty_file(tmp_path):
    assert refusal(tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'} does not exist."
    assert "is a folder, not a file" in refusal(tmp_path)
    assert (
        refusal(write_bytes(tmp_path, "e.csv", b""))
        == "e.csv is empty: there are no contacts in it."
    )
    assert "only blank lines" in refusal(write_bytes(tmp_path, "b.csv", b"\r\n  \r\n\t\r\n"))


def test_header_only_is_refused(tmp_path):
    message = refusal(write_bytes(tmp_path, "h.csv", b"First Name,Last Name,Email\r\n\r\n,,\r\n"))
    assert message == "h.csv has only a header row: there are no contacts under it."


def test_large_random_bytes_are_not_a_text_file(tmp_path):
    path = write_bytes(tmp_path, "big.csv", os.urandom(5 * 1024**2))
    assert refusal(path).startswith("big.csv is not a text file")


def test_random_bytes_without_nul_are_not_text_either(tmp_path):
    data = bytes(b if b else 1 for b in os.urandom(256 * 1024))
    assert "not a text file" in refusal(write_bytes(tmp_path, "r.csv", data))


def test_png_and_zip_renamed_csv_are_refused(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)
    assert refusal(write_bytes(tmp_path, "logo.csv", png)).startswith(
        "logo.csv is a PNG image, not a contact file"
    )
    archive = tmp_path / "contacts.csv"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("contacts.csv", "Name,Email\nA,a@x.org\n")
    assert refusal(archive) == (
        "contacts.csv is a ZIP archive holding contacts.csv; extract it and import that file."
    )
    mailchimp = tmp_path / "members_export_1a2b.zip"
    with zipfile.ZipFile(mailchimp, "w") as zf:
        zf.writestr("subscribed_members_export_1a2b.csv", "Email Address\na@x.org\n")
        zf.writestr("unsubscribed_members_export_1a2b.csv", "Email Address\n")
    assert refusal(mailchimp).endswith("; extract it and import the one you want.")
    other = tmp_path / "photos.csv"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("a.jpg", b"\xff\xd8\xff")
    assert refusal(other).startswith("photos.csv is a ZIP archive, not a contact file")


def test_a_pdf_is_refused_by_its_content(tmp_path):
    assert "is a PDF document" in refusal(
        write_bytes(tmp_path, "x.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj")
    )


def test_too_large_says_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(contact_files, "MAX_TEXT_BYTES", 1024**2)
    path = write_bytes(tmp_path, "big.csv", b"Name,Email\n" + b"A B,a@x.org\n" * 100_000)
    assert refusal(path) == (
        "big.csv is 1 MB, larger than the 1 MB this app imports at once; split it into smaller files."
    )


def test_a_password_protected_or_corrupt_workbook_is_refused(tmp_path):
    path = write_bytes(tmp_path, "x.xlsx", b"PK\x03\x04" + os.urandom(4096))
    assert refusal(path).startswith("x.xlsx cannot be read as a workbook")
