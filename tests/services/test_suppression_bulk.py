"""The suppression-list additions for the GUI: address files and a cancellable bulk add."""

from __future__ import annotations

import pytest

from crm_desktop.errors import Cancelled, CrmError
from crm_desktop.services import suppression as S


def test_split_addresses_keeps_spaces_inside_phone_numbers():
    text = "a@x.com, b@y.com;\r\n01632 960123\t+44 7700 900123\n\n  "
    assert S.split_addresses(text) == ["a@x.com", "b@y.com", "01632 960123", "+44 7700 900123"]


def test_csv_with_header_reads_only_email_and_phone_columns(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        'Name,Email,Mobile\n"Smith, Jane",jane@oak.sch.uk,07700 900123\nKim,,\n',
        encoding="utf-8-sig",
    )
    assert S.read_address_file(path) == ["jane@oak.sch.uk", "07700 900123"]


def test_semicolon_csv_and_plain_lists(tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text("E-mail;Town\nann@elm.sch.uk;Leeds\n", encoding="cp1252")
    assert S.read_address_file(semi) == ["ann@elm.sch.uk"]
    plain = tmp_path / "plain.txt"
    plain.write_bytes("zoë@example.com\n07700 900124\n".encode("cp1252"))
    assert S.read_address_file(plain) == ["zoë@example.com", "07700 900124"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"\x00\x01binary", "not a text file")],
)
def test_unreadable_files_say_why(tmp_path, content, message):
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CrmError, match=message):
        S.read_address_file(path)


def test_bulk_add_reports_progress_and_counts(ctx):
    S.suppress(ctx, "old@x.com")
    seen = []
    result = S.suppress_many(
        ctx,
        ["new@x.com", "old@x.com", "new@x.com", "junk", "", "07700 900123"],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (result.added, result.already, result.invalid) == (2, 2, ["junk"])
    assert seen[-1] == (5, 5)
    assert S.lookup(ctx, "new@x.com")[0].reason == "manual"


def test_a_cancelled_bulk_add_adds_nothing(ctx):
    addresses = [f"p{i}@x.com" for i in range(500)]
    calls = iter([False, False, True])  # cancel at the third check (after 400 rows)
    with pytest.raises(Cancelled):
        S.suppress_many(ctx, addresses, should_cancel=lambda: next(calls))
    assert S.count(ctx) == 0
