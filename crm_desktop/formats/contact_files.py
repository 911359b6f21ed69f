"""Read a file of contacts: CSV, an Excel (or OpenDocument) workbook, or vCards.

:func:`open_contact_file` looks at the file once (size, SHA-256, what it
is, its encoding and delimiter, its header) and returns a
:class:`SourceTable` whose :meth:`~SourceTable.rows` streams the rows, as
often as asked, without holding the file in memory twice. What the columns
mean is ``domain.contact_mapping``'s business; checking the values is the
import's.

What it is comes from the content, not the name: a ZIP or OLE workbook is
read as a workbook, text starting with ``BEGIN:VCARD`` as vCards, other text
as CSV. Refused, each with one sentence saying what to do: a missing or empty
file, a folder, a file over the size limit, an image, PDF, archive or other
binary file, a workbook that cannot be opened, a file with only a header row.

- **CSV**: the encoding from its byte-order mark (UTF-8, or UTF-16 as Excel's
  "Unicode Text" writes it), else UTF-8 if every byte is UTF-8, else what
  charset-normalizer finds (Windows-1252 when it reads as well as the
  guess: it is what Excel writes on Windows). The delimiter (comma,
  semicolon or tab) from ``csv.Sniffer``, checked against the delimiter that
  splits the rows most consistently. Quotes are double quotes (every
  exporter's); quoted cells may hold delimiters and line breaks. A row with
  more or fewer cells than the header, or with bytes the encoding cannot
  read, is a row with an ``error``, never a refused file.
- **Workbooks** (python-calamine): the first sheet or a named one; numbers
  and dates read as text the way a person typed them (``42``, not ``42.0``;
  dates as ``2026-03-12``).
- **vCard** 2.1, 3.0 and 4.0 (vobject): one row per card, in the columns of
  :data:`~crm_desktop.domain.contact_mapping.VCARD_HEADERS`; several emails or
  phones joined with " ::: ". A card vobject cannot read is a row with an
  ``error`` holding the card's text in its Note cell: the other cards are read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ..domain.contact_mapping import MULTI_VALUE_SEPARATOR, VCARD_HEADERS
from ..errors import CrmError

FORMATS = ("auto", "csv", "xlsx", "vcard")
# Names of known exports that are, as files, one of the above.
LAYOUT_FORMATS = ("google", "outlook", "mailchimp")
MAX_TEXT_BYTES = 200 * 1024**2
MAX_WORKBOOK_BYTES = 50 * 1024**2
MAX_CELL = 1_000_000  # characters in one CSV cell (csv's field limit)
DELIMITERS = (",", ";", "\t")
CHUNK = 1024**2
SNIFF_CHARS = 64 * 1024
DIALECT_CHARS = 16 * 1024  # csv.Sniffer is slow on more, and needs no more
CHOOSE = "choose a CSV file, an Excel workbook or a vCard (.vcf) file"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# First bytes of files that are never contacts, and what to call them.
_NOT_CONTACTS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"PK\x05\x06", "an empty ZIP archive"),
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UNREADABLE = re.compile(r"[\udc80-\udcff]")
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffe\uffff]")
_VCARD_START = re.compile(r"^\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
_VCARD_END = re.compile(r"^\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)


class ContactFileError(CrmError):
    """The file itself is refused; the message is one sentence saying why and what to do."""


@dataclass(frozen=True)
class SourceRow:
    number: int  # 1-based data row (header not counted), or card number
    cells: tuple[str, ...]  # the values as read
    error: str | None = None  # why the row cannot be used as it is


@dataclass
class SourceTable:
    path: Path
    format: str  # "csv" | "xlsx" | "vcard"
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    headers: list[str]
    sha256: str
    size: int
    _read: Callable[[], Iterator[SourceRow]] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def rows(self) -> Iterator[SourceRow]:
        """The data rows in order (blank rows left out, their numbers skipped); reads the file again."""
        return self._read()

    @property
    def format_label(self) -> str:
        """The format as a person reads it: "CSV (UTF-8, comma)", "Excel workbook, sheet Contacts"."""
        if self.format == "csv":
            delimiter = {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.delimiter or ",")
            return f"CSV ({encoding_label(self.encoding)}, {delimiter})"
        if self.format == "xlsx":
            return f"Workbook, sheet {self.sheet}"
        return f"vCard ({encoding_label(self.encoding)})"


def encoding_label(encoding: str | None) -> str:
    """An encoding's name as a person knows it."""
    return {
        "utf-8": "UTF-8",
        "utf-8-sig": "UTF-8 with BOM",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16",
        "utf-16-be": "UTF-16",
        "cp1252": "Windows-1252",
        "cp1250": "Windows-1250",
        "cp1251": "Windows-1251",
        "latin-1": "ISO-8859-1",
        None: "unknown",
    }.get(encoding, encoding or "unknown")


# ----------------------------------------------------------------- opening


def open_contact_file(
    path: str | Path, *, fmt: str = "auto", sheet: str | None = None
) -> SourceTable:
    """The file's table, after checking it is one; raises :class:`ContactFileError` if not.

    ``fmt``: "auto" (from the content), "csv", "xlsx" or "vcard" (the names
    of known exports, "google", "outlook" and "mailchimp", mean "auto").
    ``sheet``: the workbook sheet to read (the first if None).
    """
    if fmt in LAYOUT_FORMATS:
        fmt = "auto"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    path = Path(path)
    size = _size_of(path)
    head = _read_head(path)
    kind = _kind_of(path, head)
    if fmt == "auto":
        fmt = {"zip": "xlsx", "ole": "xlsx"}.get(kind, kind)
    elif fmt == "csv" and kind != "csv":
        raise ContactFileError(_mismatch(path, kind, "a CSV file"))
    elif fmt == "xlsx" and kind not in ("zip", "ole"):
        raise ContactFileError(_mismatch(path, kind, "an Excel workbook"))
    elif fmt == "vcard" and kind != "vcard":
        raise ContactFileError(_mismatch(path, kind, "a vCard file"))
    limit = MAX_WORKBOOK_BYTES if fmt == "xlsx" else MAX_TEXT_BYTES
    if size > limit:
        raise ContactFileError(
            f"{path.name} is {size / 1024**2:,.0f} MB, larger than the "
            f"{limit // 1024**2} MB this app imports at once; split it into smaller files."
        )
    if fmt == "xlsx":
        if kind == "zip":
            _refuse_plain_zip(path)
        return _open_workbook(path, size, sheet)
    scan = _scan_text(path)
    encoding = _text_encoding(path, head, scan)
    if fmt == "vcard":
        return _open_vcard(path, size, scan.sha256, encoding)
    # Only a file not wholly readable in its encoding needs each row checked for bytes it is not.
    clean = encoding.startswith("utf-16") or (encoding.startswith("utf-8") and scan.utf8)
    return _open_csv(path, size, scan.sha256, encoding, clean)


def _size_of(path: Path) -> int:
    try:
        if path.is_dir():
            raise ContactFileError(f"{path} is a folder, not a file; {CHOOSE}.")
        size = path.stat().st_size
    except FileNotFoundError:
        raise ContactFileError(f"{path} does not exist.") from None
    except OSError as exc:
        raise ContactFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size == 0:
        raise ContactFileError(f"{path.name} is empty: there are no contacts in it.")
    return size


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_CHARS)
    except OSError as exc:
        raise ContactFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _kind_of(path: Path, head: bytes) -> str:
    """ "zip", "ole", "vcard", "csv" (text), or refused as something that holds no contacts."""
    if head.startswith(_ZIP):
        return "zip"
    if head.startswith(_OLE):
        return "ole"
    for magic, what in _NOT_CONTACTS:
        if head.startswith(magic):
            raise ContactFileError(f"{path.name} is {what}, not a contact file; {CHOOSE}.")
    text = _head_text(head)
    if text is None:
        raise ContactFileError(
            f"{path.name} is not a text file (it holds binary data), nor a workbook; {CHOOSE}."
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise ContactFileError(f"{path.name} holds only blank lines: there are no contacts in it.")
    return "vcard" if _VCARD_START.match(first) else "csv"


def _head_text(head: bytes) -> str | None:
    """The start of the file as text, roughly (None if it is binary), to tell text from binary."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return _decoded(head, encoding)
    if b"\x00" in head:
        encoding = _bomless_utf16(head)
        return _decoded(head, encoding) if encoding else None
    text = head.decode("utf-8", errors="ignore")
    if len(text) < len(head) * 0.5:  # mostly not UTF-8: a single-byte encoding
        text = head.decode("cp1252", errors="replace")
    if not text.strip():
        return text
    if len(_BINARY_CHARS.findall(text)) > max(2, len(text) // 100):
        return None
    return text


def _decoded(head: bytes, encoding: str) -> str | None:
    text = head.decode(encoding, errors="replace")
    if len(_BINARY_CHARS.findall(text)) > max(2, len(text) // 100):
        return None
    return text


def _bomless_utf16(head: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text without a byte-order mark, else None."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _mismatch(path: Path, kind: str, wanted: str) -> str:
    found = {
        "zip": "a workbook (or another ZIP file)",
        "ole": "an old-style Excel workbook",
        "vcard": "a vCard file",
        "csv": "a text file",
    }[kind]
    return f"{path.name} is {found}, not {wanted}; choose its format, or Automatic."


# -------------------------------------------------------------- encodings


@dataclass
class _Scan:
    sha256: str
    has_nul: bool
    utf8: bool  # every byte is UTF-8 (after any BOM)
    sample: bytes  # the start, and the bytes around the first that is not UTF-8


def _scan_text(path: Path) -> _Scan:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    has_nul = False
    sample = b""
    read = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                has_nul = has_nul or b"\x00" in chunk
                if read == 0:
                    sample = chunk[: 4 * SNIFF_CHARS]
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        utf8 = False
                        if read > 0:
                            sample += chunk[max(0, exc.start - 4096) : exc.start + 4096]
                read += len(chunk)
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
    except OSError as exc:
        raise ContactFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return _Scan(digest.hexdigest(), has_nul, utf8, sample)


def _text_encoding(path: Path, head: bytes, scan: _Scan) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    if scan.has_nul:
        encoding = _bomless_utf16(head)
        if encoding:
            return encoding
        raise ContactFileError(f"{path.name} is not a text file (it holds NUL bytes); {CHOOSE}.")
    if scan.utf8:
        return "utf-8"
    if _mostly_utf8(scan.sample):
        return "utf-8"  # a few stray bytes: those rows are reported, the rest read
    return _guess_encoding(path, scan.sample)


def _mostly_utf8(sample: bytes) -> bool:
    """True if the sample has UTF-8 characters beyond ASCII and only a few bytes that are not."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - sample.count("\ufffd".encode())
    wide = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    return wide > 0 and bad <= max(2, wide // 10)


def _guess_encoding(path: Path, sample: bytes) -> str:
    """The encoding of text that is not UTF-8, by charset-normalizer."""
    import charset_normalizer

    results = charset_normalizer.from_bytes(sample)
    best = results.best()
    if best is None:
        raise ContactFileError(
            f"{path.name} is not text in an encoding this app can recognise; "
            "save it as CSV UTF-8 and try again."
        )
    encoding = codecs.lookup(best.encoding).name
    if encoding != "cp1252":
        # Windows-1252 (what Excel writes on Windows) when it reads about as
        # well as the guess: on a few accented names the guess is often a
        # DOS or Baltic code page that reads them wrongly.
        # Not when Windows-1252 puts symbols inside words where the guess
        # has letters ("£ukasz", "Ma³gorzata": Polish in Windows-1250).
        western = charset_normalizer.from_bytes(sample, cp_isolation=["cp1252"]).best()
        if (
            western is not None
            and western.chaos <= best.chaos + 0.01
            and western.coherence >= best.coherence - 0.1
            and _symbols_in_words(sample.decode("cp1252", errors="replace"))
            <= _symbols_in_words(sample.decode(encoding, errors="replace"))
        ):
            return "cp1252"
    return encoding


_SYMBOL = "£¤¥¦§¨©«¬®¯°±²³´¶·¸¹»¼½¾¿"
_SYMBOL_IN_WORD = re.compile(rf"(?<=[^\W\d_])[{_SYMBOL}]|[{_SYMBOL}](?=[^\W\d_])")


def _symbols_in_words(text: str) -> int:
    """How many symbols touch a letter: rare in text, common in text read in the wrong code page."""
    return len(_SYMBOL_IN_WORD.findall(text))


def _open_text(path: Path, encoding: str):
    # Bytes the encoding cannot read become lone surrogates, found row by row.
    errors = "replace" if encoding.startswith("utf-16") else "surrogateescape"
    try:
        return path.open(encoding=encoding, errors=errors, newline="")
    except OSError as exc:
        raise ContactFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _unreadable(cells: list[str], encoding: str) -> tuple[list[str], str | None]:
    """Cells with unreadable bytes shown as U+FFFD, and the row's error if there were any."""
    if not _UNREADABLE.search("".join(cells)):
        return cells, None
    cleaned = [_UNREADABLE.sub("\ufffd", cell) for cell in cells]
    return cleaned, f"has bytes that are not {encoding_label(encoding)} text (shown as \ufffd)"


# --------------------------------------------------------------------- CSV


def _open_csv(path: Path, size: int, sha256: str, encoding: str, clean: bool) -> SourceTable:
    with _open_text(path, encoding) as fh:
        sample = fh.read(SNIFF_CHARS)
        more = bool(fh.read(1))
    if more and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    sample = sample.lstrip("\ufeff")
    if len(sample) > DIALECT_CHARS and "\n" in sample[:DIALECT_CHARS]:
        sample = sample[: sample.rindex("\n", 0, DIALECT_CHARS) + 1]
    delimiter = _delimiter(sample)
    headers = _csv_headers(path, encoding, delimiter)
    table = SourceTable(
        path=path,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        sheet=None,
        sheets=[],
        headers=headers,
        sha256=sha256,
        size=size,
    )
    table._read = lambda: _csv_rows(path, encoding, delimiter, len(headers), clean)
    _require_a_row(table)
    return table


def _delimiter(sample: str) -> str:
    """Comma, semicolon or tab: the sniffed one unless another splits the rows more consistently."""
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in scores and scores[sniffed] >= scores[best]:
        return sniffed
    return best


def _consistency(sample: str, delimiter: str) -> tuple[bool, float, int]:
    """(splits the header at all, share of rows as wide as the header, header width)."""
    try:
        rows = [
            row
            for row in itertools.islice(
                csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"'), 500
            )
            if any(cell.strip() for cell in row)
        ]
    except csv.Error:
        return (False, 0.0, 0)
    if not rows:
        return (False, 0.0, 0)
    width = len(rows[0])
    data = rows[1:]
    share = sum(1 for row in data if len(row) == width) / len(data) if data else 1.0
    return (width > 1, share, width)


def _csv_reader(fh, delimiter: str):
    csv.field_size_limit(MAX_CELL)
    return csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _csv_headers(path: Path, encoding: str, delimiter: str) -> list[str]:
    with _open_text(path, encoding) as fh:
        reader = _csv_reader(fh, delimiter)
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    row[0] = row[0].lstrip("\ufeff")
                    return _header_names(row)
        except csv.Error as exc:
            raise ContactFileError(
                f"{path.name}: its header row cannot be read as CSV ({exc})."
            ) from None
    raise ContactFileError(f"{path.name} holds only blank lines: there are no contacts in it.")


def _header_names(cells: list[str]) -> list[str]:
    """Header cells, trimmed; a blank one is named by its column ("Column C")."""
    names = [_UNREADABLE.sub("\ufffd", cell).strip() for cell in cells]
    while len(names) > 1 and not names[-1]:
        names.pop()
    return [name or f"Column {column_letter(i)}" for i, name in enumerate(names)]


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names it: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _csv_rows(
    path: Path, encoding: str, delimiter: str, width: int, clean: bool
) -> Iterator[SourceRow]:
    with _open_text(path, encoding) as fh:
        reader = _csv_reader(fh, delimiter)
        seen_header = False
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if seen_header:
                    number += 1
                    yield SourceRow(number, (), f"cannot be read as CSV ({exc})")
                    continue
                raise ContactFileError(
                    f"{path.name}: its header row cannot be read ({exc})."
                ) from None
            blank = not any(cell.strip() for cell in row)
            if not seen_header:
                seen_header = not blank
                continue
            number += 1
            if blank:
                continue
            if clean and len(row) == width:
                yield SourceRow(number, tuple(row))  # the usual row, kept fast
            else:
                yield _csv_row(number, row, width, encoding)


def _csv_row(number: int, row: list[str], width: int, encoding: str) -> SourceRow:
    cells, error = _unreadable(row, encoding)
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        cells = cells[:width]  # trailing delimiters: nothing was lost
    elif len(cells) < width and error is None or len(cells) > width and error is None:
        error = f"has {len(cells)} columns where the header has {width}"
    return SourceRow(number, tuple(cells), error)


def _require_a_row(table: SourceTable) -> None:
    for _row in table.rows():
        return
    raise ContactFileError(
        f"{table.path.name} has only a header row: there are no contacts under it."
    )


# --------------------------------------------------------------- workbooks


def _open_workbook(path: Path, size: int, sheet: str | None) -> SourceTable:
    workbook = _workbook(path)
    try:
        names = list(workbook.sheet_names)
    finally:
        workbook.close()
    if not names:
        raise ContactFileError(f"{path.name} has no sheets.")
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise ContactFileError(
            f"{path.name} has no sheet named '{sheet}'; its sheets are {', '.join(names)}."
        )
    headers = None
    for _index, cells in _sheet_rows(path, sheet):
        headers = _header_names(cells)
        break
    if headers is None:
        raise ContactFileError(
            f"Sheet '{sheet}' of {path.name} is empty: there are no contacts in it."
        )
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    table = SourceTable(
        path=path,
        format="xlsx",
        encoding=None,
        delimiter=None,
        sheet=sheet,
        sheets=names,
        headers=headers,
        sha256=digest.hexdigest(),
        size=size,
    )
    table._read = lambda: _workbook_rows(path, sheet, len(headers))
    try:
        _require_a_row(table)
    except ContactFileError:
        raise ContactFileError(
            f"Sheet '{sheet}' of {path.name} has only a header row: there are no contacts under it."
        ) from None
    return table


def _refuse_plain_zip(path: Path) -> None:
    """Refuse a ZIP archive that is not a workbook, naming what to take out of it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine says what is wrong with it
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        what = "a Word document" if "word/document.xml" in names else "a PowerPoint presentation"
        raise ContactFileError(f"{path.name} is {what}, not a contact file; {CHOOSE}.")
    if "[Content_Types].xml" in names or "mimetype" in names:
        return  # an Office Open XML or OpenDocument file
    files = [n for n in names if not n.endswith("/")]
    tables = [n for n in files if n.lower().endswith((".csv", ".vcf", ".xlsx", ".xls", ".ods"))]
    if tables:
        inside = ", ".join(Path(n).name for n in tables[:3]) + (" ..." if len(tables) > 3 else "")
        which = "that file" if len(tables) == 1 else "the one you want"
        raise ContactFileError(
            f"{path.name} is a ZIP archive holding {inside}; extract it and import {which}."
        )
    raise ContactFileError(f"{path.name} is a ZIP archive, not a contact file; {CHOOSE}.")


def _workbook(path: Path):
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise ContactFileError(
            f"{path.name} is protected by a password; save a copy without one and import that."
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise ContactFileError(
            f"{path.name} cannot be read as a workbook ({_short(str(exc))}); {CHOOSE}."
        ) from None


def _sheet_rows(path: Path, sheet: str) -> Iterator[tuple[int, list[str]]]:
    """(0-based sheet row, cells as text) of each row from the header on, blank ones included."""
    import python_calamine

    workbook = _workbook(path)
    try:
        try:
            rows = workbook.get_sheet_by_name(sheet).iter_rows()
        except python_calamine.CalamineError as exc:
            raise ContactFileError(
                f"Sheet '{sheet}' of {path.name} cannot be read ({_short(str(exc))})."
            ) from None
        started = False
        for index, values in enumerate(rows):
            cells = [cell_text(value) for value in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if not started:
                if not cells:
                    continue
                started = True
            yield index, cells
    finally:
        workbook.close()


def _workbook_rows(path: Path, sheet: str, width: int) -> Iterator[SourceRow]:
    header_index = None
    for index, cells in _sheet_rows(path, sheet):
        if header_index is None:
            header_index = index
            continue
        if not cells:
            continue
        number = index - header_index
        if len(cells) > width:
            yield SourceRow(
                number,
                tuple(cells),
                f"has a value in column {column_letter(len(cells) - 1)}, which has no header",
            )
            continue
        yield SourceRow(number, tuple(cells + [""] * (width - len(cells))))


def cell_text(value: object) -> str:
    """A workbook cell's value as text, as a person typed it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------ vCards


def _open_vcard(path: Path, size: int, sha256: str, encoding: str) -> SourceTable:
    table = SourceTable(
        path=path,
        format="vcard",
        encoding=encoding,
        delimiter=None,
        sheet=None,
        sheets=[],
        headers=list(VCARD_HEADERS),
        sha256=sha256,
        size=size,
    )
    table._read = lambda: _vcard_rows(path, encoding)
    for _row in table.rows():
        return table
    raise ContactFileError(f"{path.name} has no cards in it (no BEGIN:VCARD ... END:VCARD).")


def _card_texts(path: Path, encoding: str) -> Iterator[tuple[str, bool]]:
    """(text of a card, complete) for each card, its quoted-printable soft line breaks joined."""
    with _open_text(path, encoding) as fh:
        lines: list[str] = []
        depth = 0
        pending = ""  # a quoted-printable line that ends in "=" continues on the next
        for raw in fh:
            line = raw.rstrip("\r\n").lstrip("\ufeff")
            if pending:
                line = pending[:-1] + line
                pending = ""
            if depth and line.endswith("=") and "QUOTED-PRINTABLE" in line.split(":", 1)[0].upper():
                pending = line
                continue
            if _VCARD_START.match(line):
                depth += 1
            if depth:
                lines.append(line)
            if depth and _VCARD_END.match(line):
                depth -= 1
                if depth == 0:
                    yield "\r\n".join(lines) + "\r\n", True
                    lines = []
        if pending and depth:
            lines.append(pending)
        if lines:
            yield "\r\n".join(lines) + "\r\n", False


def _vcard_rows(path: Path, encoding: str) -> Iterator[SourceRow]:
    import vobject

    for number, (text, complete) in enumerate(_card_texts(path, encoding), start=1):
        text = _UNREADABLE.sub("\ufffd", text)
        if not complete:
            yield SourceRow(number, _raw_card_cells(text), "is not complete (no END:VCARD)")
            continue
        try:
            card = vobject.readOne(text)
            cells = _card_cells(card)
        except Exception as exc:  # noqa: BLE001 - any failure of the parser is this card's alone
            yield SourceRow(
                number, _raw_card_cells(text), f"cannot be read as a vCard ({_short(str(exc))})"
            )
            continue
        yield SourceRow(number, cells)


def _raw_card_cells(text: str) -> tuple[str, ...]:
    full = re.search(r"^FN(?:;[^:\r\n]*)?:(.*)$", text, re.MULTILINE | re.IGNORECASE)
    name = full.group(1).strip() if full else ""
    return (name, "", "", "", "", "", "", text.strip())


def _values(card, name: str) -> list:
    return [line.value for line in card.contents.get(name, [])]


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(part) for part in value if _text(part))
    return unicodedata.normalize("NFC", str(value or "")).strip()


def _card_cells(card) -> tuple[str, ...]:
    full = next((_text(v) for v in _values(card, "fn") if _text(v)), "")
    first = last = ""
    for name in _values(card, "n"):
        if hasattr(name, "family"):
            first = _text(name.given)  # not the middle names: a prospect has none
            last = _text(name.family)
        else:  # vobject left it as text: "Family;Given;..."
            parts = str(name).split(";")
            last = parts[0].strip()
            first = parts[1].strip() if len(parts) > 1 else ""
        break
    emails = [_strip_scheme(_text(v), "mailto:") for v in _values(card, "email")]
    phones = [_strip_scheme(_text(v), "tel:") for v in _values(card, "tel")]
    org = ""
    for value in _values(card, "org"):
        parts = value if isinstance(value, list | tuple) else [value]
        org = next((_text(p) for p in parts if _text(p)), "")
        if org:
            break
    title = next((_text(v) for v in _values(card, "title") if _text(v)), "")
    notes = [str(v).strip() for v in _values(card, "note") if str(v or "").strip()]
    return (
        full,
        first,
        last,
        MULTI_VALUE_SEPARATOR.join(e for e in emails if e),
        MULTI_VALUE_SEPARATOR.join(p for p in phones if p),
        org,
        title,
        "\n".join(notes),
    )


def _strip_scheme(value: str, scheme: str) -> str:
    return value[len(scheme) :].strip() if value.lower().startswith(scheme) else value
