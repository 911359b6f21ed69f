"""The subject access pack as a readable PDF.

``services.sar`` gathers the pack (Qt-free) and records its creation;
``sar_html`` turns it into rich text; ``reports.pdf`` lays that out and
paints it onto A4 pages, with the person's name and "page N of M" in every
footer.
"""

from __future__ import annotations

from pathlib import Path

from crm_desktop.reports import pdf
from crm_desktop.reports.sar_html import pack_html, subject_name
from crm_desktop.services import sar
from crm_desktop.services.context import Context

FILE_FILTERS = "PDF, to read (*.pdf);;JSON, machine-readable (*.json)"


def pack_title(pack: dict) -> str:
    return f"Subject access pack: {subject_name(pack)}"


def layout_document(pack: dict, device):
    """The pack laid out as one long page as wide as ``device``'s printable area."""
    return pdf.layout_html(pack_html(pack), device)


def render_pdf(
    pack: dict,
    path: Path,
    progress: sar.Progress | None = None,
    should_cancel: sar.CancelFn | None = None,
) -> int:
    """Paint the pack onto A4 pages at ``path``; returns the number of pages.

    Raises :class:`Cancelled` between pages when ``should_cancel()`` says so
    (the caller's atomic write then leaves no file).
    """
    return pdf.write_document(pack_html(pack), path, pack_title(pack), progress, should_cancel)


def _render(pack: dict, tmp: Path, progress, should_cancel) -> None:
    render_pdf(pack, tmp, progress, should_cancel)


def write_pdf(
    ctx: Context,
    prospect_id: int,
    path: str | Path,
    *,
    progress: sar.Progress | None = None,
    should_cancel: sar.CancelFn | None = None,
    request_id: int | None = None,
) -> Path:
    """Write the readable pack as a PDF; recorded and refused as ``sar.write_pack`` is."""
    pdf.ensure_gui_application()
    return sar.write_pack(
        ctx, prospect_id, path, "pdf", _render,
        progress=progress, should_cancel=should_cancel, request_id=request_id,
    )  # fmt: skip
