import pytest

from crm_desktop.formats.unsubscribes import UnsubscribeFileError, read_addresses


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
    with pytest.raises(UnsubscribeFileError, match="no email column"):
        list(read_addresses(path))


def test_binary_file_is_refused(tmp_path):
    path = write(tmp_path, "x.xlsx", b"PK\x03\x04\x00\x00binary", mode="wb")
    with pytest.raises(UnsubscribeFileError, match="not a text file"):
        list(read_addresses(path))


def test_missing_and_folder(tmp_path):
    with pytest.raises(UnsubscribeFileError, match="does not exist"):
        list(read_addresses(tmp_path / "nope.csv"))
    with pytest.raises(UnsubscribeFileError, match="is a folder"):
        list(read_addresses(tmp_path))


def test_huge_field_is_a_clear_error(tmp_path):
    path = write(tmp_path, "x.csv", "Email\n" + '"' + "a" * 200_000 + '"\n')
    with pytest.raises(UnsubscribeFileError, match="line 2"):
        list(read_addresses(path))


def test_empty_file_yields_nothing(tmp_path):
    assert list(read_addresses(write(tmp_path, "x.csv", "\n\n"))) == []


def test_invalid_utf8_does_not_crash(tmp_path):
    path = write(tmp_path, "x.txt", b"a@x.org\n\xff\xfe@x.org\n", mode="wb")
    assert list(read_addresses(path))[0] == "a@x.org"
