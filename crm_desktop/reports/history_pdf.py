"""A prospect's history as a new PDF file (``history`` makes the rich text,
``reports.pdf`` paints it): written atomically and never over a file."""

from __future__ import annotations

from pathlib import Path

from crm_desktop.errors import CrmError
from crm_desktop.formats.atomic import atomic_output
from crm_desktop.reports import pdf
from crm_desktop.reports.history import history_title
from crm_desktop.services.sar import CancelFn, Progress


def write_history_pdf(
    path: Path,
    name: str,
    html: str,
    progress: Progress | None = None,
    should_cancel: CancelFn | None = None,
) -> Path:
    """Write the history PDF at ``path`` (atomically; refused if it exists)."""
    pdf.ensure_gui_application()
    _refuse_existing(path)
    with atomic_output(path) as tmp:
        pdf.write_document(html, tmp, history_title(name), progress, should_cancel)
        _refuse_existing(path)  # someone may have made it meanwhile
    return path


def _refuse_existing(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise CrmError(
            f"{path} already exists; choose a new name (the history never replaces a file)."
        )
