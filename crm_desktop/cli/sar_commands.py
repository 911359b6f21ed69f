"""``crm sar``: write a person's subject access pack as JSON or PDF.

The format follows the file name (``.json`` or ``.pdf``). The PDF is drawn
by Qt, so ``crm_desktop.reports.sar_pdf`` is imported only when a PDF is asked
for: ``import crm_desktop.cli`` stays Qt-free and the JSON pack works on a
server without PySide6.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..services import prospects, sar
from .commands import CliError, opened
from .output import display, out, print_json
from .parser import Commands
from .support import REF_HELP, request_id


def _pdf_writer():
    try:
        from crm_desktop.reports.sar_pdf import write_pdf
    except ImportError as exc:  # PySide6 missing, or its Qt libraries not loadable
        raise CliError(
            f"A PDF pack needs the desktop app's Qt libraries ({exc}); write a .json pack instead."
        ) from None
    return write_pdf


def cmd_sar(args: argparse.Namespace) -> int:
    path = Path(args.out)
    fmt = sar.format_for(path)
    if fmt is None:
        raise CliError("--out: give a file name ending in .json or .pdf.")
    if path.exists() or path.is_symlink():
        # The service refuses too; saying so before signing in spares a password prompt.
        raise CliError(f"{path} already exists; choose a new name (a pack never replaces a file).")
    write = _pdf_writer() if fmt == "pdf" else sar.write_json
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        written = write(ctx, person.id, path, request_id=args.request)
    if args.json:
        print_json(
            {
                "prospect_id": person.id,
                "format": fmt,
                "file": str(written),
                "request_id": args.request,
            }
        )
    else:
        on_request = f" and on request #{args.request}" if args.request else ""
        out(
            f"Wrote the subject access pack for {display(person.full_name)} (#{person.id}) "
            f"to {written} ({fmt.upper()}); its creation is recorded in the audit trail"
            f"{on_request}."
        )
    return 0


def register(commands: Commands) -> None:
    """Register ``crm sar`` on ``crm``'s parser (see app.build_parser)."""
    p = commands.command("sar", cmd_sar, "Write a person's subject access pack (JSON or PDF).")
    p.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="FILE.json (machine-readable, for portability) or FILE.pdf (readable); "
        "never replaces an existing file",
    )
    p.add_argument(
        "--request",
        type=request_id,
        metavar="ID",
        help="the access request this answers (the pack is recorded on it)",
    )
    p.epilog = (
        "The pack holds every field we keep on the person, where it came from, the lawful "
        "basis, consent and its history, correspondence, the campaign lists they were in, "
        "the suppression list, recipients, retention and their rights. Making one is "
        "recorded in the audit trail. An admin must first set the data controller's "
        "details (crm settings set)."
    )
