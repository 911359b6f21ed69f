"""Making a subject access pack from the GUI: ask where, write it in the background.

Shared by Prospect > Subject access pack and the Requests tab's "Make
access pack" (which links the pack to the request it answers). Before a
file name is asked for, the pack is refused if the controller's details are
not set, with the message saying exactly what is missing and how to set it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from crm_desktop.errors import CrmError
from crm_desktop.reports import sar_pdf
from crm_desktop.services import sar, settings
from crm_desktop.services.context import Context
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

TITLE = "Subject access pack"


def controller_missing(parent: QWidget | None, ctx: Context) -> bool:
    """True (after saying why) when no pack can be made yet for want of the controller."""
    try:
        missing = settings.get_controller(ctx).missing()
    except CrmError as exc:
        messages.show_error(parent, exc, "No access pack")
        return True
    if missing:
        messages.show_error(parent, settings.missing_message(missing), "Controller not set")
    return bool(missing)


def start_access_pack(
    parent: QWidget,
    ctx: Context,
    prospect_id: int,
    *,
    name: str = "",
    request_id: int | None = None,
) -> BackgroundTask | None:
    """Ask for a file name, then write the pack (PDF, or JSON for a .json name) off the
    GUI thread. Returns the task (its ``succeeded`` carries the path), or None when
    the controller is not set or the user cancelled the file dialog.

    ``name`` is the person's name, offered as "NAME - access pack.pdf". When the
    pack is written the user is offered Open file / Open folder.
    """
    if controller_missing(parent, ctx):
        return None
    suggested = f"{name} - access pack.pdf" if name else "Access pack.pdf"
    chosen = messages.save_file(parent, TITLE, sar_pdf.FILE_FILTERS, name=suggested)
    if not chosen:
        return None
    target = Path(chosen)
    if sar.format_for(target) is None:
        target = target.with_name(f"{target.name}.pdf")
    write = sar.write_json if sar.format_for(target) == "json" else sar_pdf.write_pdf

    def work(progress, should_cancel):
        return write(
            ctx,
            prospect_id,
            target,
            progress=progress,
            should_cancel=should_cancel,
            request_id=request_id,
        )

    task = run_with_progress(parent, TITLE, "Writing the pack…", work)
    task.succeeded.connect(lambda path: _offer_open(parent, path))
    task.failed.connect(lambda text: messages.show_error(parent, text, "Pack not written"))
    return task


def _offer_open(parent: QWidget, path: Path) -> None:
    messages.offer_open(
        parent,
        "Subject access pack written",
        f"The subject access pack was written to:\n{path}",
        path,
    )
