"""A prospect's history (``services.history``) as a printable document.

Rich text made without Qt, in the access pack's style; ``history_pdf``
paints it. Every stored value is escaped.
"""

from __future__ import annotations

from html import escape

from crm_desktop.domain.dates import format_datetime
from crm_desktop.domain.types import utcnow
from crm_desktop.reports.html import document, stored, table
from crm_desktop.services.history import KIND_LABELS, HistoryEvent


def history_title(name: str) -> str:
    return f"History of {name}"


def history_html(name: str, events: list[HistoryEvent], filters: str) -> str:
    """The timeline as rich text for the PDF; ``filters`` says which events these are."""
    rows = [
        [
            escape(format_datetime(e.at)),
            escape(KIND_LABELS.get(e.kind, e.kind)),
            f"<b>{stored(e.title)}</b>" + (f"<br>{stored(e.detail)}" if e.detail else ""),
            stored(e.actor),
        ]
        for e in events
    ]
    return document(
        f"<h1>{stored(history_title(name))}</h1>"
        f"<p class='sub'>{escape(filters)} · printed on {escape(format_datetime(utcnow()))}</p>"
        + table(["When", "Kind", "What happened", "By"], [17, 13, 56, 14], rows, "No events.")
    )
