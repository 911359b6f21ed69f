import pytest

from crm_desktop.formats.address_files import AddressFileError, read_addresses


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_mailchimp_unsubscribed_export(tmp_path):
    path = write(
        tmp_path,
        "unsubscribed.csv",
        '\ufeff"Email Address","First Name","Last Name","UNSUB_TIME","UNSUB_REASON"\n'
        '"a@x.org","A","B","2026-01-01 10:00:00","No longer interested"\n'
        '"b@x.org","C, Jr","D","2026-01-02 10:00:00",""\n',
    )
    assert list(read_addresses(path)) == ["a@x.org", "b@x.org"]


def test_semicolon_csv_with_email_column_elsewhere(tmp_path):
    path = write(tmp_path, "x.csv", "id;name;E-mail\n1;A;a@x.org\n2;B;\n\n3;C;c@x.org\n")
    assert list(read_addresses(path)) == ["a@x.org", "", "c@x.org"]


def test_one_address_per_line(tmp_path):
    path = write(tmp_path, "x.txt", "a@x.org\r\n\r\n  b@x.org  \r\nnonsense\r\n")
    assert list(read_addresses(path)) == ["a@x.org", "b@x.org", "nonsense"]


def test_csv_without_email_column_is_refused(tmp_path):
    path = write(tmp_path, "x.csv", "name,phone\nA,1\n")
    with pytest.raises(AddressFileError, match="no email column"):
        list(read_addresses(path))


def test_binary_file_is_refused(tmp_path):
    path = write(tmp_path, "x.xlsx", b"PK\x03\x04\x00\x00binary", mode="wb")
    with pytest.raises(AddressFileError, match="not a text file"):
        list(read_addresses(path))


def test_missing_and_folder(tmp_path):
    with pytest.raises(AddressFileError, match="does not exist"):
        list(read_addresses(tmp_path / "nope.csv"))
    with pytest.raises(AddressFileError, match="is a folder"):
        list(read_addresses(tmp_path))


def test_huge_field_is_a_clear_error(tmp_path):
    path = write(tmp_path, "x.csv", "Email\n" + '"' + "a" * 200_000 + '"\n')
    with pytest.raises(AddressFileError, match="line 2"):
        list(read_addresses(path))


def test_empty_file_yields_nothing(tmp_path):
    assert list(read_addresses(write(tmp_path, "x.csv", "\n\n"))) == []


def test_invalid_utf8_does_not_crash(tmp_path):
    path = write(tmp_path, "x.txt", b"a@x.org\n\xff\xfe@x.org\n", mode="wb")
    assert list(read_addresses(path))[0] == "a@x.org"


# ------------------------------------------- the one reader's rules, one by one


def test_too_big_a_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from crm_desktop.formats import address_files

    monkeypatch.setattr(address_files, "MAX_FILE_BYTES", 1024**2)
    path = write(tmp_path, "big.csv", "Email\n" + "a@x.org\n" * 200_000)
    with pytest.raises(
        AddressFileError,
        match=r"big.csv is 2 MB: too large for a list of addresses \(at most 1 MB\)",
    ):
        list(read_addresses(path))


@pytest.mark.parametrize(
    "start",
    [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"],
    ids=["xlsx-or-ods", "xls"],
)
def test_a_workbook_is_named_with_what_to_do(tmp_path, start):
    path = write(tmp_path, "list.xlsx", start + b"\x00" * 100, mode="wb")
    with pytest.raises(
        AddressFileError, match="is a spreadsheet workbook, not a text file; save it as CSV UTF-8."
    ):
        list(read_addresses(path))


def test_a_real_xlsx_is_refused_as_a_workbook(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Email"])
    book.active.append(["a@x.org"])
    book.save(tmp_path / "list.xlsx")
    with pytest.raises(AddressFileError, match="spreadsheet workbook"):
        list(read_addresses(tmp_path / "list.xlsx"))


def test_utf16_unicode_text_is_refused_with_what_to_do(tmp_path):
    path = write(tmp_path, "list.txt", "Email\r\na@x.org\r\n".encode("utf-16"), mode="wb")
    with pytest.raises(
        AddressFileError,
        match=r"is UTF-16 \(\"Unicode text\"\), not a text file .*; save it as CSV UTF-8",
    ):
        list(read_addresses(path))


def test_a_nul_byte_anywhere_makes_it_binary(tmp_path):
    body = "Email\n" + "a@x.org\n" * 300_000  # beyond the first chunk read
    path = write(tmp_path, "x.csv", body.encode() + b"b@x.org\x00\n", mode="wb")
    with pytest.raises(AddressFileError, match=r"not a text file \(it holds binary data\)"):
        list(read_addresses(path))


def test_utf8_with_and_without_bom_and_windows_1252(tmp_path):
    text = "Name;E-mail\nZoë;zoë@example.com\n"
    for name, data in [
        ("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("plain.csv", text.encode("utf-8")),
        ("excel.csv", text.encode("cp1252")),
    ]:
        assert list(read_addresses(write(tmp_path, name, data, mode="wb"))) == [
            "zoë@example.com"
        ], name


def test_bytes_neither_utf8_nor_windows_1252_read_are_refused_by_position(tmp_path):
    path = write(tmp_path, "x.csv", b"Email\nzo\xeb@example.com\n\x81@x.org\n", mode="wb")
    with pytest.raises(
        AddressFileError,
        match=r"neither UTF-8 nor Windows-1252 text \(byte 0x81 at position 23\); save it as CSV UTF-8",
    ):
        list(read_addresses(path))


def test_phone_columns_only_when_asked_and_address_is_not_a_column(tmp_path):
    path = write(
        tmp_path,
        "x.csv",
        "Name,Address,Email,Mobile\nAda,1 High St,ada@x.org,07700 900123\nBo,2 Low St,,\n",
    )
    assert list(read_addresses(path)) == ["ada@x.org", ""]
    assert list(read_addresses(path, phones=True)) == ["ada@x.org", "07700 900123", ""]


def test_a_header_naming_no_address_column_is_refused(tmp_path):
    path = write(tmp_path, "x.csv", "Name,Address\nAda,1 High St\n")
    with pytest.raises(AddressFileError, match="has no email column"):
        list(read_addresses(path))
    with pytest.raises(AddressFileError, match="has no email or phone column: .*'Mobile'"):
        list(read_addresses(path, phones=True))


def test_a_list_of_phone_numbers_without_a_header(tmp_path):
    path = write(tmp_path, "x.txt", "01632 960123\n+44 7700 900123\nnot a number\n")
    assert list(read_addresses(path, phones=True)) == [
        "01632 960123",
        "+44 7700 900123",
        "not a number",
    ]
    with pytest.raises(AddressFileError, match="does not look like a list of addresses"):
        list(read_addresses(path))


def test_a_list_without_a_header_keeps_every_address_cell(tmp_path):
    path = write(tmp_path, "x.csv", "a@x.org,Ada,b@x.org\nBo,c@x.org\n")
    assert list(read_addresses(path)) == ["a@x.org", "b@x.org", "c@x.org"]


def test_line_numbers_count_the_blank_lines_before_the_header(tmp_path):
    path = write(tmp_path, "x.csv", "\n\nEmail\na@x.org\n" + '"' + "a" * 20_000 + '"\n')
    with pytest.raises(AddressFileError, match="x.csv, line 5: field larger than field limit"):
        list(read_addresses(path))


def test_control_and_bidi_characters_never_come_back_out(tmp_path):
    path = write(
        tmp_path,
        "x.csv",
        'Email\n"\x1b[31mevil@x.org\x1b[0m"\n"\u202eevil@x.org"\n"line\nbreak@x.org"\n',
    )
    assert list(read_addresses(path)) == [
        "\ufffd[31mevil@x.org\ufffd[0m",
        "\ufffdevil@x.org",
        "line\ufffdbreak@x.org",
    ]


def test_every_naughty_string_is_read_back_as_one_harmless_value(tmp_path):
    import csv

    from cli_support import blns_lines

    lines = [line for line in blns_lines() if line.strip()]
    path = tmp_path / "naughty.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Email"])
        writer.writerows([line] for line in lines)
    values = list(read_addresses(path))
    assert len(values) == len(lines)
    for value, line in zip(values, lines, strict=True):
        assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value), line
        assert not any(ch in value for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2069")
