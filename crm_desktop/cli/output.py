"""Printing for the ``crm`` command: terminal-safe text, aligned tables, JSON.

Human output goes through :func:`display`, so stored text can never move the
cursor, ring the bell or reorder a line; ``--json`` output keeps every value
exact (ASCII-escaped, so it survives any terminal encoding).
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence, Set
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ..domain.dates import format_date, format_datetime


def out(text: str = "") -> None:
    print(text, file=sys.stdout)


def err(text: str) -> None:
    print(text, file=sys.stderr)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def warn(messages: Iterable[str]) -> None:
    for message in messages:
        err(f"crm: warning: {one_line(message)}")


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(data: object, *, indent: int | None = None) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=True, indent=indent)


def print_json(data: object) -> None:
    out(dumps(data, indent=2))


class JsonArrayWriter:
    """Writes one JSON array item by item, so a long list is never held whole."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> JsonArrayWriter:
        sys.stdout.write("[")
        return self

    def write(self, item: object) -> None:
        sys.stdout.write(("," if self.count else "") + "\n  " + dumps(item))
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            sys.stdout.write("\n]\n" if self.count else "]\n")


# Bidi embeddings, overrides and isolates would reorder the rest of a line.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def display(text: str | None, *, multiline: bool = False) -> str:
    """Text made safe to print in a terminal.

    Control characters (C0 and C1, so no escape sequence reaches the
    terminal) become spaces; bidi controls are dropped.
    """
    if not text:
        return ""
    chars = []
    for ch in text:
        if ch in _BIDI_CONTROLS:
            continue
        if ch == "\n" and multiline:
            chars.append(ch)
        elif unicodedata.category(ch) == "Cc":
            chars.append(" ")
        else:
            chars.append(ch)
    return "".join(chars)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two, combining marks none."""
    return sum(_char_width(ch) for ch in text)


def fit(text: str, width: int) -> str:
    """Truncate to ``width`` columns (ending with an ellipsis), then pad."""
    if text_width(text) > width:
        kept, used = [], 0
        for ch in text:
            w = _char_width(ch)
            if used + w > width - 1:
                break
            kept.append(ch)
            used += w
        text = "".join(kept) + "…"
    return text + " " * (width - text_width(text))


class Table:
    """An aligned text table printed batch by batch.

    Column widths come from the first batch (each capped), so rows can be
    streamed; a longer value later on is cut short with an ellipsis, except
    in ``exact`` columns (ids), which overflow rather than lose characters.
    """

    def __init__(self, headers: Sequence[str], caps: Sequence[int], exact: Set[int] = frozenset()):
        self.headers = headers
        self.caps = caps
        self.exact = exact
        self.widths: list[int] | None = None

    def print_rows(self, rows: Sequence[Sequence[str]]) -> None:
        if not rows:
            return
        cells = [[display(cell) for cell in row] for row in rows]
        if self.widths is None:
            self.widths = [
                min(cap, max(text_width(h), *(text_width(r[i]) for r in cells)))
                for i, (h, cap) in enumerate(zip(self.headers, self.caps, strict=True))
            ]
            self._line(self.headers)
        for row in cells:
            self._line(row)

    def _line(self, cells: Sequence[str]) -> None:
        assert self.widths is not None
        parts = [
            cell.ljust(w) if i in self.exact else fit(cell, w)
            for i, (cell, w) in enumerate(zip(cells, self.widths, strict=True))
        ]
        out("  ".join(parts).rstrip())


def print_block(pairs: Sequence[tuple[str, str]]) -> None:
    """``Key: value`` lines with the values aligned; long values keep their lines."""
    width = max(len(key) for key, _ in pairs) + 1
    for key, value in pairs:
        lines = display(value, multiline=True).splitlines() or [""]
        out(f"{key + ':':<{width}} {lines[0]}".rstrip())
        for more in lines[1:]:
            out(f"{'':<{width}} {more}".rstrip())


def label(enum_cls: type[StrEnum], value: str | None) -> str:
    """The readable label of a stored enum value (the value itself if unknown)."""
    if not value:
        return ""
    try:
        return enum_cls(value).label  # type: ignore[attr-defined]
    except ValueError:  # written by a newer version of the app
        return value


def local_time(value: datetime | None) -> str:
    """A moment for people to read, as the GUI writes it: "7 Dec 2026 14:30"."""
    return format_datetime(value)


def day(value: date | None) -> str:
    """A date for people to read, as the GUI writes it: "7 Dec 2026" (JSON keeps ISO 8601)."""
    return format_date(value)


class Progress:
    """Writes ``label: done/total (pct%)`` over itself, a few times a second."""

    def __init__(self, text: str, interval: float = 0.1):
        self.text = text
        self.interval = interval
        self._last = float("-inf")
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        pct = 100 * done // total if total else 100
        sys.stderr.write(f"\r{self.text}: {done:,}/{total:,} ({pct}%)")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        """End the progress line (if one was written), so the next message starts afresh."""
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
