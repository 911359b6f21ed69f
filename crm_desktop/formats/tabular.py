"""Campaign list writers: generic CSV, Mailchimp-ready CSV and XLSX.

In CSV every cell that a spreadsheet could read as a formula is neutralised
as OWASP advises (CSV injection): a value starting with = + - @, tab,
carriage return or line feed gets a leading apostrophe, since a CSV file
cannot say "this is text". An XLSX file can: every cell is written as a text
cell (an inline string, never a formula), so values go in exactly as they
are, with no apostrophe for the recipient to see. Files are written through
:func:`atomic_output`, so they are complete or absent.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .atomic import atomic_output

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A bare E.164 phone number is data, not a formula (no operator or function
# follows the plus), and SMS tools need it exactly as it is.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
FORMATS = ("csv", "mailchimp", "xlsx")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralise(value: object) -> str:
    """A cell value as text that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _E164.fullmatch(text):
        return "'" + text
    return text


def write_table(
    path: str | Path,
    fmt: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Write ``rows`` under ``header`` as ``fmt`` (csv, mailchimp or xlsx).

    ``on_row`` is called after each row (progress, and a chance to cancel by
    raising, which leaves no file behind).
    """
    with atomic_output(path) as tmp:
        write_table_to(tmp, fmt, header, rows, on_row=on_row)


def write_table_to(
    path: Path,
    fmt: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Write straight to ``path`` (a temporary file the caller renames)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        _write_xlsx(path, header, rows, on_row)
        return
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow([neutralise(v) for v in row])
            if on_row:
                on_row()


def _write_xlsx(tmp: Path, header, rows, on_row) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Export")

    def cells(values):
        out = []
        for v in values:
            # XML cannot hold some characters; never let one spoil the file.
            text = _XML_ILLEGAL.sub("\ufffd", "" if v is None else str(v))
            cell = WriteOnlyCell(ws, value=text)
            # A text cell (inline string), never a formula, whatever it starts
            # with: so no apostrophe is needed, and none is added.
            cell.data_type = "s"
            out.append(cell)
        return out

    ws.append(cells(header))
    for row in rows:
        ws.append(cells(row))
        if on_row:
            on_row()
    wb.save(tmp)
