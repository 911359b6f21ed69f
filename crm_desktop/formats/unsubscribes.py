"""Read an unsubscribe or bounce file from the email tool.

Accepts Mailchimp's unsubscribed and cleaned member exports, any CSV with an
email column (comma, semicolon or tab separated, with a header row), or a
plain list with one address per line. Yields raw address strings; checking
them is the caller's job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from ..errors import CrmError

EMAIL_HEADERS = ("email address", "email", "e-mail", "e-mail address", "email_address", "mail")
MAX_FIELD = 10_000
MAX_FILE_BYTES = 2 * 1024**3


class UnsubscribeFileError(CrmError):
    pass


def _open_text(path: Path) -> io.TextIOWrapper:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnsubscribeFileError(
                f"{path.name} is {size / 1024**3:.1f} GB: too large for an unsubscribe file."
            )
        fh = open(path, encoding="utf-8-sig", errors="replace", newline="")  # noqa: SIM115
    except FileNotFoundError:
        raise UnsubscribeFileError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise UnsubscribeFileError(f"{path} is a folder, not a file.") from None
    except OSError as exc:
        raise UnsubscribeFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    head = fh.buffer.peek(4096)[:4096] if hasattr(fh.buffer, "peek") else b""
    if b"\x00" in head:
        fh.close()
        raise UnsubscribeFileError(f"{path.name} is not a text file (it holds binary data).")
    return fh


def read_addresses(path: str | Path) -> Iterator[str]:
    """Every address-like value in the file, in order (blank lines skipped)."""
    path = Path(path)
    csv.field_size_limit(MAX_FIELD)
    with _open_text(path) as fh:
        first = ""
        consumed = 0
        for line in fh:
            consumed += 1
            if line.strip():
                first = line
                break
        if not first:
            return
        delimiter = max((",", ";", "\t"), key=first.count)
        header = next(csv.reader([first], delimiter=delimiter))
        names = [h.strip().strip('"').lower() for h in header]
        column = next((names.index(h) for h in EMAIL_HEADERS if h in names), None)
        if column is None:
            if "@" in first:
                column = None  # no header: a list of addresses (maybe with more columns)
            elif first.count(delimiter) > 0:
                raise UnsubscribeFileError(
                    f"{path.name} has no email column: looked for a header named "
                    "'Email Address' or 'Email'."
                )
            else:
                raise UnsubscribeFileError(
                    f"{path.name} does not look like an unsubscribe file: its first line "
                    f"is not an email address or a header ('{first.strip()[:60]}')."
                )
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            if column is None:
                yield _pick(header)
            for row in reader:
                if not row or not any(cell.strip() for cell in row):
                    continue
                if column is None:
                    yield _pick(row)
                elif column < len(row):
                    yield row[column].strip()
                else:
                    yield ""
        except csv.Error as exc:
            line = consumed + reader.line_num
            raise UnsubscribeFileError(f"{path.name}, line {line}: {exc}.") from None


def _pick(row: list[str]) -> str:
    for cell in row:
        if "@" in cell:
            return cell.strip()
    return row[0].strip() if row else ""
