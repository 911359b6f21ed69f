"""Read a file of addresses: the one reader for every list of emails or phone numbers a person loads.

Used for the email tool's unsubscribe and bounce exports
(``services.email_sync``, email addresses only) and for lists to put on the
suppression list (``services.suppression``, email addresses and phone
numbers). The rules, strictest first, each refused with its own message:

- **Size**: at most :data:`MAX_FILE_BYTES`.
- **Text**: a workbook (XLSX, XLS, ODS), a UTF-16 ("Unicode text") file or
  anything else holding NUL bytes is not read: save it as CSV UTF-8.
- **Encoding**: UTF-8 (with or without a byte-order mark); else
  Windows-1252, what Excel writes as "CSV" on Windows, if every byte is one
  of its characters; anything else is refused, naming the first byte that
  neither can read.
- **Columns**: CSV or text separated by commas, semicolons or tabs. If the
  first non-blank line names a column in :data:`EMAIL_HEADERS` (or, with
  ``phones``, :data:`PHONE_HEADERS`), only those columns are read. Else it
  must itself hold an address (a list without a header); a header naming no
  address column is refused.
- **Hostile content**: a value longer than :data:`MAX_FIELD` characters
  (``csv``'s field limit, which this sets), or a broken CSV line, is refused
  with its line number; control characters and
  bidirectional-text overrides in a value become U+FFFD, so a value shown
  back (as an invalid example) can never drive a terminal or reorder text.

The values are raw: checking each address is the caller's job.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import CrmError

EMAIL_HEADERS = ("email address", "email", "e-mail", "e-mail address", "email_address", "mail")
PHONE_HEADERS = ("phone", "phone number", "telephone", "mobile", "mobile number")
MAX_FILE_BYTES = 200 * 1024**2
MAX_FIELD = 10_000
DELIMITERS = (",", ";", "\t")

CHUNK = 1024**2
# What a cell of a list without a header looks like when it is a phone number.
PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ().\-]{5,}")
# C0 and C1 controls (tabs and line breaks are separators, never kept in a value)
# and the bidirectional embeddings, overrides and isolates.
HOSTILE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The first bytes of files that are not text whatever their name says.
WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SAVE_AS = "save it as CSV UTF-8"


class AddressFileError(CrmError):
    """A file of addresses that cannot be read; the message says why and what to do."""


def read_addresses(path: str | Path, *, phones: bool = False) -> Iterator[str]:
    """The addresses in the file, in order.

    One value per address cell of each non-blank row, or ``""`` for a row
    whose address cells are all blank (so a caller can count it as invalid).
    ``phones``: phone-number columns count as address columns too.
    Raises :class:`AddressFileError`; lazily, so the whole file may need
    reading before the last error is known.
    """
    path = Path(path)
    encoding = check_file(path)
    csv.field_size_limit(MAX_FIELD)
    with _open(path, encoding) as fh:
        skipped = 0
        first = ""
        for line in fh:
            if line.strip():
                first = line
                break
            skipped += 1
        if not first:
            return
        delimiter = max(DELIMITERS, key=first.count)
        reader = csv.reader(itertools.chain([first], fh), delimiter=delimiter)
        try:
            header = next(reader)
            columns = _address_columns(header, phones)
            if columns is None:
                _refuse_unless_addresses(path, header, first, delimiter, phones)
                yield from _row_values(header, None, phones)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                yield from _row_values(row, columns, phones)
        except csv.Error as exc:
            raise AddressFileError(
                f"{path.name}, line {skipped + reader.line_num}: {exc}."
            ) from None


def check_file(path: Path) -> str:
    """The encoding to read ``path`` with, after checking its size and that it is text."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError
        if size > MAX_FILE_BYTES:
            raise AddressFileError(
                f"{path.name} is {size / 1024**2:,.0f} MB: too large for a list of addresses "
                f"(at most {MAX_FILE_BYTES // 1024**2} MB)."
            )
        with path.open("rb") as fh:
            return _encoding_of(path, fh)
    except FileNotFoundError:
        raise AddressFileError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise AddressFileError(f"{path} is a folder, not a file.") from None
    except OSError as exc:
        raise AddressFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _encoding_of(path: Path, fh) -> str:
    start = fh.read(CHUNK)
    if start.startswith(WORKBOOKS):
        raise AddressFileError(
            f"{path.name} is a spreadsheet workbook, not a text file; {SAVE_AS}."
        )
    if start.startswith(UTF16_BOMS):
        raise AddressFileError(
            f'{path.name} is UTF-16 ("Unicode text"), not a text file this app reads; {SAVE_AS}.'
        )
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    not_cp1252: tuple[int, int] | None = None  # (position, byte) of the first one it lacks
    read = 0
    chunk = start
    while chunk:
        if b"\x00" in chunk:
            raise AddressFileError(f"{path.name} is not a text file (it holds binary data).")
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
        if not_cp1252 is None:
            try:
                chunk.decode("cp1252")  # one byte a character: chunks split nothing
            except UnicodeDecodeError as exc:
                not_cp1252 = (read + exc.start, chunk[exc.start])
        read += len(chunk)
        chunk = fh.read(CHUNK)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return "utf-8-sig"
    if not_cp1252 is None:
        return "cp1252"
    position, byte = not_cp1252
    raise AddressFileError(
        f"{path.name} is neither UTF-8 nor Windows-1252 text (byte 0x{byte:02X} at position "
        f"{position + 1:,}); {SAVE_AS}."
    )


def _open(path: Path, encoding: str):
    try:
        return path.open(encoding=encoding, newline="")
    except OSError as exc:
        raise AddressFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _normal_header(cell: str) -> str:
    return cell.strip().strip('"').strip().lower()


def _address_columns(header: list[str], phones: bool) -> list[int] | None:
    """The address columns the header names, or None if it names none."""
    known = EMAIL_HEADERS + (PHONE_HEADERS if phones else ())
    names = [_normal_header(cell) for cell in header]
    columns = [i for i, name in enumerate(names) if name in known]
    return columns or None


def _looks_like_address(cell: str, phones: bool) -> bool:
    text = cell.strip()
    return "@" in text or (phones and PHONE_LIKE.fullmatch(text) is not None)


def _refuse_unless_addresses(
    path: Path, header: list[str], first: str, delimiter: str, phones: bool
) -> None:
    if any(_looks_like_address(cell, phones) for cell in header):
        return  # no header: a list of addresses (maybe with more columns)
    what = "email or phone" if phones else "email"
    if first.count(delimiter) > 0:
        names = (
            "'Email Address', 'Email', 'Phone' or 'Mobile'"
            if phones
            else ("'Email Address' or 'Email'")
        )
        raise AddressFileError(
            f"{path.name} has no {what} column: looked for a header named {names}."
        )
    raise AddressFileError(
        f"{path.name} does not look like a list of addresses: its first line is not "
        f"an {what} address or a header ('{_shown(first.strip()[:60])}')."
    )


def _row_values(row: list[str], columns: list[int] | None, phones: bool) -> Iterator[str]:
    if columns is None:  # no header: the cells that look like addresses, else the first
        cells = [cell for cell in row if _looks_like_address(cell, phones)]
        if not cells:
            cells = [next((cell for cell in row if cell.strip()), "")]
    else:
        cells = [row[i] if i < len(row) else "" for i in columns]
    found = [_shown(cell.strip()) for cell in cells if cell.strip()]
    yield from found or [""]


def _shown(text: str) -> str:
    return HOSTILE.sub("\ufffd", text)
