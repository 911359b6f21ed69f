"""The pieces every printed document is built from: its style sheet, escaped
stored text, definition tables, ruled tables and lists.

Qt's rich-text engine lays these out for the PDF (``reports.pdf``); they are
plain strings, made without Qt. Every helper that takes stored text escapes
it; a helper that takes "HTML" expects it escaped already. Documents are
made for paper, so they stay black on white whatever the app's colours.
"""

from __future__ import annotations

from html import escape

MUTED = "#5f6b7a"
RULE = "#c9d1da"
HEAD = "#eef1f4"
STYLE = f"""
body {{ font-size: 10pt; }}
h1 {{ font-size: 18pt; font-weight: 600; margin-top: 0; margin-bottom: 4px; }}
h2 {{ font-size: 13pt; font-weight: 600; margin-top: 22px; margin-bottom: 8px; }}
h3 {{ font-size: 11pt; font-weight: 600; margin-top: 14px; margin-bottom: 6px; }}
p {{ margin-top: 0; margin-bottom: 8px; }}
ul {{ margin-top: 0; margin-bottom: 8px; }}
.sub {{ color: {MUTED}; margin-bottom: 14px; }}
.muted {{ color: {MUTED}; }}
.entry {{ margin-bottom: 12px; }}
th {{ background-color: {HEAD}; font-weight: 600; text-align: left; }}
td.k {{ color: {MUTED}; }}
"""


def stored(value: object) -> str:
    """Stored text, escaped, keeping the writer's line breaks (None is "")."""
    if value is None:
        return ""
    return escape(str(value)).replace("\n", "<br>")


def pairs(rows: list[tuple[str, str]]) -> str:
    """A two-column table of label and (already escaped) value; empty values say so."""
    cells = "".join(
        f"<tr><td class='k' width='30%'>{escape(k)}</td>"
        f"<td width='70%'>{v or '<span class=muted>—</span>'}</td></tr>"
        for k, v in rows
    )
    return (
        f"<table width='100%' cellspacing='0' cellpadding='3' style='margin-bottom: 8px'>"
        f"{cells}</table>"
    )


def table(headers: list[str], widths: list[int], rows: list[list[str]], empty: str) -> str:
    """A ruled table with a header row; ``rows`` hold escaped HTML, ``empty`` says why none."""
    if not rows:
        return f"<p class='muted'>{escape(empty)}</p>"
    head = "".join(
        f"<th width='{w}%'>{escape(h)}</th>" for h, w in zip(headers, widths, strict=True)
    )
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table width='100%' border='1' cellspacing='0' cellpadding='4' "
        f"style='border-color:{RULE}; border-style: solid; border-collapse: collapse; "
        f"margin-bottom: 8px'>"
        f"<thead><tr>{head}</tr></thead>{body}</table>"
    )


def bullets(items: list[str]) -> str:
    """A bulleted list of stored texts (escaped here)."""
    return "<ul>" + "".join(f"<li>{stored(item)}</li>" for item in items) + "</ul>"


def document(body: str) -> str:
    """A whole document: our style sheet, then ``body`` (already HTML)."""
    return f"<html><head><style>{STYLE}</style></head><body>{body}</body></html>"
