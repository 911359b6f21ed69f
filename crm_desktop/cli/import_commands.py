"""``crm import``: bring contacts in from a CSV, a workbook, vCards or a known export.

The work is :func:`crm_desktop.services.imports.run_import`: one batch, all
or nothing, with a rejects file for the rows that could not be imported.
``crm imports`` lists the batches imported so far (``crm prospect list
--import ID`` lists one batch's people).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..domain import contact_mapping
from ..services import import_batches, imports
from .commands import CliError, opened
from .output import Table, display, err, local_time, one_line, out, print_block, print_json
from .parser import Commands
from .support import cancel_on_interrupt, option_errors, positive, whole

_OPTIONS = {
    "source": "--source",
    "evidence": "--evidence",
    "policy_version": "--policy-version",
    "channels": "--channels",
    "li_note": "--li-note",
    "li_assessment": "--li-assessment",
    "on_duplicate": "--on-duplicate",
    "on_suppressed": "--on-suppressed",
    "format": "--format",
    "rejects": "--rejects",
    "mapping": "--mapping",
}


class _Progress:
    """``Importing: 12,000 rows read`` then ``Importing: applying`` over itself on a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        text = f"{done:,} rows read" if total is None else f"applying ({done:,}/{total:,} rows)"
        sys.stderr.write(f"\rImporting: {text}   ")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _read_mapping(ctx, path: Path, args: argparse.Namespace) -> dict[int, str] | None:
    """--mapping FILE: a JSON object {"column header": "target"} as column index -> target."""
    if not args.mapping:
        return None
    source = Path(args.mapping)
    try:
        given = json.loads(source.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CliError(f"--mapping: cannot read {source} ({exc.strerror or exc}).") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"--mapping: {source} is not a JSON file ({one_line(exc)}).") from None
    if not isinstance(given, dict) or not all(isinstance(k, str) for k in given):
        raise CliError(
            '--mapping: the file must hold one JSON object, {"column header": "target", ...}.'
        )
    headers = imports.inspect_file(
        ctx, path, fmt=args.format, sheet=args.sheet, limit=0
    ).table.headers
    by_header = {}
    for index, header in enumerate(headers):
        by_header.setdefault(header.strip().lower(), index)
    mapping: dict[int, str] = {}
    for header, target in given.items():
        if target in (None, ""):
            continue
        if not isinstance(target, str) or target not in contact_mapping.TARGETS:
            allowed = ", ".join(contact_mapping.TARGETS)
            raise CliError(f"--mapping: '{target}' is not one of: {allowed}.")
        index = by_header.get(header.strip().lower())
        if index is None:
            shown = ", ".join(f"'{h}'" for h in headers[:12])
            raise CliError(
                f"--mapping: {path.name} has no column '{header}' (its columns: {shown})."
            )
        mapping[index] = target
    return mapping


def _channels(text: str | None) -> tuple[str, ...]:
    if not text:
        return ("email",)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise CliError(
            f"{path} is a folder, not a file." if path.is_dir() else f"{path} does not exist."
        )
    progress = _Progress() if sys.stderr.isatty() else None
    with opened(args) as ctx, cancel_on_interrupt() as cancelled, option_errors(_OPTIONS):
        options = imports.ImportOptions(
            source=args.source if args.source is not None else path.name,
            basis=args.basis,
            consent_wording=args.evidence,
            policy_version=args.policy_version,
            consent_channels=_channels(args.channels),
            li_note=args.li_note,
            li_assessment_id=args.li_assessment,
            on_duplicate=args.on_duplicate,
            on_suppressed=args.on_suppressed,
            fmt=args.format,
            sheet=args.sheet,
            mapping=_read_mapping(ctx, path, args),
            rejects_path=Path(args.rejects) if args.rejects else None,
        )
        try:
            report = imports.run_import(ctx, path, options, progress=progress, cancelled=cancelled)
        finally:
            if progress is not None:
                progress.finish()
    if args.json:
        print_json(report.to_dict())
        return 0
    out(
        f"Imported {display(report.file_name)} (import #{report.batch_id}): "
        f"{report.total_rows:,} rows."
    )
    print_block(
        [
            ("Created", f"{report.created:,}"),
            ("Updated", f"{report.updated:,}"),
            ("Already up to date", f"{report.unchanged:,}"),
            ("Opted out (suppressed or opted out before)", f"{report.opted_out:,}"),
            ("Same email as an earlier row (merged)", f"{report.merged:,}"),
            ("Skipped", f"{report.skipped:,}"),
            ("Rejected", f"{report.rejected:,}"),
            ("Probable duplicates to review", f"{report.duplicates_for_review:,}"),
        ]
    )
    if report.rejects_file:
        out(f"Rejected and skipped rows, with the reason for each: {display(report.rejects_file)}")
    if report.duplicates_for_review:
        out("Review the probable duplicates with 'crm duplicates'.")
    for warning in report.warnings:
        err(f"crm: warning: {display(one_line(warning))}")
    if report.dropped > len(report.warnings):
        err(f"crm: warning: {report.dropped:,} extra addresses in all were left out as not valid.")
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        batches = import_batches.list_batches(ctx, limit=args.limit)
    if args.json:
        print_json([b.to_dict() for b in batches])
        return 0
    if not batches:
        out("No imports yet.")
        return 0
    table = Table(
        ["ID", "When", "By", "File", "Source", "Basis", "Created", "Updated", "Opted out",
         "Rejected", "People"],
        [10, 16, 16, 40, 40, 20, 8, 8, 9, 8, 8],
        exact={0},
    )  # fmt: skip
    table.print_rows(
        [
            [
                str(b.id),
                local_time(b.imported_at),
                b.imported_by,
                b.file_name,
                b.source,
                b.basis_label,
                *(
                    f"{b.counts.get(k, 0):,}"
                    for k in ("created", "updated", "opted_out", "rejected")
                ),
                f"{b.people:,}",
            ]
            for b in batches
        ]
    )
    return 0


def register(commands: Commands) -> None:
    """Register ``crm import`` and ``crm imports`` (see app.build_parser)."""
    listing = commands.command("imports", cmd_imports, "List the imports made, newest first.")
    listing.add_argument("--limit", type=positive, metavar="N", help="the newest N only")
    listing.epilog = (
        "People: the prospects each import brought in who are still on record; list them "
        "with 'crm prospect list --import ID', change them all with 'crm prospect bulk "
        "--import ID ...'."
    )
    cmd = commands.command(
        "import", cmd_import, "Import contacts from a CSV, workbook or vCard file."
    )
    cmd.add_argument("path", metavar="FILE", help="the file to import")
    cmd.add_argument(
        "--format",
        default="auto",
        choices=imports.FORMATS,
        help="the file's format or known layout (default: auto, recognised from the file)",
    )
    cmd.add_argument(
        "--sheet", metavar="NAME", help="the workbook sheet to read (default: the first)"
    )
    cmd.add_argument(
        "--mapping",
        metavar="FILE",
        help='a JSON file {"column header": "target"}; targets: '
        + ", ".join(contact_mapping.TARGETS)
        + " (default: the known layout, else the mapping remembered for these headers, "
        "else one suggested from the header names)",
    )
    cmd.add_argument(
        "--source",
        metavar="TEXT",
        help="where the list came from, e.g. 'Bett 2026 stand sign-ups' (default: the file's name)",
    )
    cmd.add_argument(
        "--basis",
        default="none",
        choices=("consent", "legitimate-interest", "none"),
        help="the lawful basis for marketing to these people (default: none, not exportable)",
    )
    cmd.add_argument(
        "--evidence",
        metavar="TEXT",
        help="with --basis consent: what they were told when they agreed",
    )
    cmd.add_argument(
        "--policy-version", metavar="V", help="with --basis consent: the privacy notice's version"
    )
    cmd.add_argument(
        "--channels",
        metavar="LIST",
        help="with --basis consent: the channels they agreed to, comma-separated (default: email)",
    )
    cmd.add_argument(
        "--li-note", metavar="TEXT", help="with --basis legitimate-interest: why it is fair"
    )
    cmd.add_argument(
        "--li-assessment",
        type=whole,
        metavar="ID",
        help="with --basis legitimate-interest: an assessment's id ('crm assessment list')",
    )
    cmd.add_argument(
        "--on-duplicate",
        default="fill",
        choices=imports.ON_DUPLICATE,
        help="a row with the email of an existing prospect: keep its values, fill its blanks "
        "(default) or overwrite them",
    )
    cmd.add_argument(
        "--on-suppressed",
        default="opt-out",
        choices=imports.ON_SUPPRESSED,
        help="a row whose address is suppressed or opted out: import it opted out (default) or skip it",
    )
    cmd.add_argument(
        "--rejects",
        metavar="FILE",
        help="where to write the rows that were not imported (default: beside the file)",
    )
