"""Campaign exports, the suppression list and the email tool's unsubscribes.

Who is in an export is decided by the export service alone; these commands
only turn options into an ``ExportRequest`` and report what was written.
The suppression list holds keyed hashes, never addresses, and nothing here
prints an address the person running the command did not type.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from ..domain.eligibility import Exclusion
from ..domain.enums import Channel, SchoolPhase, Stage
from ..domain.validation import DATE_FORMATS
from ..formats.atomic import FileExistsRefused
from ..formats.tabular import FORMATS
from ..services import email_sync, exports, interests, suppression
from ..services.context import Context
from ..services.exports import Candidate, ExportFilters, ExportRecord, ExportRequest
from .commands import EXIT_ERROR, EXIT_USAGE, CliError, opened
from .output import Table, display, err, label, local_time, one_line, out, print_block, print_json
from .parser import Commands
from .support import (
    cancel_on_interrupt,
    channels_option,
    date_option,
    option_errors,
    positive,
    progress_on_tty,
    text_option,
)

EXPORT_OPTIONS = {
    "channel": "--channel",
    "campaign": "--campaign",
    "purpose": "--purpose",
    "format": "--format",
    "stage": "--stage",
    "school_phase": "--school-phase",
    "last_contact_to": "--last-contact-to",
}
MAX_EXAMPLES = 5  # invalid lines shown from a file


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def default_campaign(today: date | None = None) -> str:
    return f"CLI export {(today or date.today()).isoformat()}"


def _format_for(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    return "xlsx" if args.out and args.out.lower().endswith(".xlsx") else "csv"


def _interest_id(ctx: Context, name: str) -> int:
    wanted = " ".join(name.split()).lower()
    known = interests.list_interests(ctx)
    for interest_id, interest_name, _ in known:
        if interest_name.lower() == wanted:
            return interest_id
    names = ", ".join(n for _, n, _ in known) or "none yet"
    raise CliError(f"--interest: no interest called '{name}' (known: {names}).")


def _request(ctx: Context, args: argparse.Namespace) -> ExportRequest:
    filters = ExportFilters(
        interest_id=_interest_id(ctx, args.interest) if args.interest is not None else None,
        role=args.role,
        stage=args.stage,
        school_phase=args.school_phase,
        region=args.region,
        owner=args.owner,
        last_contact_from=date_option(args.last_contact_from, "--last-contact-from"),
        last_contact_to=date_option(args.last_contact_to, "--last-contact-to"),
    )
    return ExportRequest(
        channel=args.channel,
        campaign=default_campaign() if args.campaign is None else args.campaign,
        format=_format_for(args),
        purpose=args.purpose,
        personalised=args.personalised,
        filters=filters,
    )


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Exclusion counts in the rule's order (most fundamental first)."""
    known = [e.value for e in Exclusion if counts.get(e.value)]
    return {v: counts[v] for v in known} | {k: n for k, n in counts.items() if k not in known}


def _print_reasons(counts: dict[str, int]) -> None:
    ordered = _ordered(counts)
    if not ordered:
        return
    width = max(len(label(Exclusion, v)) for v in ordered)
    for value, n in ordered.items():
        out(f"  {label(Exclusion, value):<{width}}  {n:>7,}")


def record_dict(record: ExportRecord) -> dict:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "created_by": record.created_by,
        "channel": record.channel,
        "campaign": record.campaign,
        "purpose": record.purpose,
        "personalised": record.personalised,
        "format": record.format,
        "filters": record.filters,
        "included": record.included,
        "excluded": record.excluded,
        "excluded_by_reason": _ordered(record.exclusions),
        "file": record.file_name,
        "sha256": record.sha256,
        "replaced_file": record.replaced_file,
        # "complete"; "writing" (not finished); "interrupted": stopped before its
        # file was in place, so no list was written or sent.
        "state": record.state,
    }


def _person_dict(c: Candidate) -> dict:
    data = c.to_dict()
    data.pop("version", None)
    return data


def _is_address(column: str) -> bool:
    return column.startswith(("Email", "Mobile", "Phone"))


def _preview(ctx: Context, request: ExportRequest, args: argparse.Namespace) -> int:
    with progress_on_tty("Checking") as progress, cancel_on_interrupt() as cancelled:
        preview = exports.preview_export(ctx, request, progress=progress, should_cancel=cancelled)
    if args.json:
        print_json(
            {
                "preview": True,
                "channel": preview.channel,
                "campaign": request.campaign,
                "format": request.format,
                "personalised": request.personalised,
                "total": preview.total,
                "included": len(preview.included),
                "excluded": len(preview.excluded),
                "excluded_by_reason": _ordered(preview.counts),
                "included_people": [_person_dict(c) for c in preview.included],
                "excluded_people": [_person_dict(c) for c in preview.excluded],
            }
        )
        return 0
    channel = label(Channel, preview.channel)
    out(
        f"Preview for {channel} (nothing written): {len(preview.included):,} of "
        f"{preview.total:,} people would be included, {len(preview.excluded):,} left out."
    )
    if preview.included:
        out()
        out(f"People included, as the {request.format} file would list them:")
        columns = exports.columns_for(request, Channel.parse(preview.channel))
        # Ids and addresses are never cut short: they are what is being checked.
        exact = {i for i, c in enumerate(columns) if c == "Prospect ID" or _is_address(c)}
        table = Table(columns, [80 if i in exact else 30 for i in range(len(columns))], exact)
        for start in range(0, len(preview.included), 500):
            batch = preview.included[start : start + 500]
            table.print_rows([exports.file_row(request, c) for c in batch])
    if not preview.excluded:
        return 0
    out()
    out("Left out, by reason (a person can have more than one):")
    _print_reasons(preview.counts)
    out()
    out("People left out:")
    table = Table(["ID", "Name", "Why"], [10, 40, 200], exact={0})
    table.print_rows(
        [
            [
                str(c.prospect_id),
                f"{c.first_name} {c.last_name}",
                "; ".join(label(Exclusion, r) for r in c.reasons),
            ]
            for c in preview.excluded
        ]
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if not args.preview and not args.out:
        raise CliError("--out FILE is required (or --preview, which writes nothing).", EXIT_USAGE)
    with opened(args) as ctx:
        if args.out and ctx.db.path and Path(args.out).resolve() == ctx.db.path.resolve():
            raise CliError("--out is the database file itself; choose another file.")
        request = _request(ctx, args)
        with option_errors(EXPORT_OPTIONS):
            if args.preview:
                return _preview(ctx, request, args)
            try:
                with progress_on_tty("Exporting") as progress, cancel_on_interrupt() as cancelled:
                    record = exports.run_export(
                        ctx,
                        request,
                        args.out,
                        overwrite=args.overwrite,
                        progress=progress,
                        should_cancel=cancelled,
                    )
            except FileExistsRefused as exc:
                raise CliError(
                    f"--out: {display(str(exc.path))} already exists; it was left untouched. "
                    "Choose another file, or add --overwrite to replace it (the export record "
                    "will say it did)."
                ) from None
    if args.json:
        print_json(record_dict(record))
        return 0
    channel = label(Channel, record.channel)
    where = display(record.file_name)
    total = record.included + record.excluded
    if record.included:
        out(
            f"Exported {record.included:,} of {total:,} people for {channel} "
            f"to {where} ({record.format})."
        )
    else:
        out(
            f"Nobody of {total:,} may be contacted by {channel}: "
            f"wrote a file with only the header row to {where}."
        )
    if record.replaced_file:
        out("It replaced the file that was there (--overwrite); the record says so.")
    if record.excluded:
        out(f"Left out {record.excluded:,}, by reason (a person can have more than one):")
        _print_reasons(record.exclusions)
    print_block(
        [
            ("Campaign", record.campaign),
            ("File", record.file_name),
            ("SHA-256", record.sha256),
            ("Recorded as", f"export #{record.id} (see 'crm exports show {record.id}')"),
        ]
    )
    return 0


# --------------------------------------------------------------- records


def cmd_exports(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        records = exports.list_exports(ctx)
    if args.json:
        print_json([record_dict(r) for r in records])
        return 0
    if not records:
        out("No exports yet.")
        return 0
    table = Table(
        ["ID", "When", "By", "Channel", "Format", "State", "Included", "Excluded", "Campaign",
         "File"],
        [10, 16, 16, 16, 9, 20, 9, 9, 40, 80],
        exact={0},
    )  # fmt: skip
    table.print_rows(
        [
            [
                str(r.id),
                local_time(r.created_at),
                r.created_by,
                label(Channel, r.channel),
                r.format,
                r.state_label,
                f"{r.included:,}" if r.complete else "-",
                f"{r.excluded:,}" if r.complete else "-",
                r.campaign,
                r.file_name,
            ]
            for r in records
        ]
    )
    return 0


def cmd_exports_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        record = exports.get_export(ctx, args.export_id)
        filters = exports.describe_filters(ctx, record.filters)
        members = exports.export_members(ctx, record.id) if args.members else None
    if args.json:
        data = record_dict(record)
        if members is not None:
            data["members"] = members
        print_json(data)
        return 0
    out(f"Export #{record.id}")
    if record.state == exports.INTERRUPTED:
        out(
            "Failed (interrupted): the run was stopped before its file was in place. "
            "No list was written to the file named below, and its unfinished temporary "
            "file was deleted; nobody was sent this list."
        )
    elif record.state == exports.WRITING:
        out("Still being written (or stopped on another computer): not a finished list.")
    filters = "\n".join(f"{name}: {value}" for name, value in filters)
    print_block(
        [
            ("When", local_time(record.created_at)),
            ("By", record.created_by),
            ("Channel", label(Channel, record.channel)),
            ("Campaign", record.campaign),
            ("Purpose", record.purpose or ""),
            ("Personalised", "yes" if record.personalised else "no"),
            ("Filters", filters or "none"),
            ("Format", record.format),
            ("State", record.state_label),
            ("File", record.file_name),
            ("Replaced", "yes, a file that was there" if record.replaced_file else "no"),
            ("SHA-256", record.sha256),
            ("Included", f"{record.included:,}"),
            ("Excluded", f"{record.excluded:,}"),
        ]
    )
    if record.exclusions:
        out("Left out, by reason:")
        _print_reasons(record.exclusions)
    if members is not None:
        out()
        out(f"People in this export ({len(members):,} prospect ids):")
        for prospect_id in members:
            out(str(prospect_id))
    return 0


# ----------------------------------------------------------- suppression


def cmd_suppress(args: argparse.Namespace) -> int:
    if (args.address is None) == (args.file is None):
        raise CliError("give one EMAIL|PHONE, or --file FILE.", EXIT_USAGE)
    source = text_option(args.reason, "--reason", max_len=200)
    if args.file is not None:
        if args.channel is not None:
            raise CliError(
                "--channel cannot be used with --file (a file suppresses every channel).",
                EXIT_USAGE,
            )
        return _suppress_file(args, Path(args.file), source)
    channel = channels_option([args.channel or "all"])
    scope = "all" if len(channel) == len(Channel) else channel[0].value
    with opened(args) as ctx, option_errors({"address": "EMAIL|PHONE"}):
        added = suppression.suppress(ctx, args.address, channel=scope, source=source)
    if args.json:
        print_json({"added": added, "channel": scope})
        return 0
    what = "all channels" if scope == "all" else label(Channel, scope)
    if added:
        out(f"Added to the suppression list for {what}.")
    else:
        out(f"Already on the suppression list for {what}.")
    return 0


def _suppress_file(args: argparse.Namespace, path: Path, source: str | None) -> int:
    with opened(args) as ctx, cancel_on_interrupt() as cancelled:
        # The GUI's reader too: the same file gives the same addresses everywhere.
        addresses = suppression.read_address_file(path, should_cancel=cancelled)
        with progress_on_tty("Suppressing") as progress:
            result = suppression.suppress_many(
                ctx,
                addresses,
                source=source or one_line(display(f"file {path.name}"))[:200],
                progress=progress,
                should_cancel=cancelled,
            )
    if args.json:
        print_json(result.to_dict())
        return 0
    already = "was" if result.already == 1 else "were"
    out(
        f"Suppressed {_count(result.added, 'new address', 'new addresses')} for all channels; "
        f"{result.already:,} {already} on the list already."
    )
    if result.invalid:
        examples = ", ".join(f"'{display(one_line(x))}'" for x in result.invalid[:MAX_EXAMPLES])
        more = ", ..." if len(result.invalid) > MAX_EXAMPLES else ""
        err(
            f"crm: warning: skipped {_count(len(result.invalid), 'line', 'lines')} that "
            f"{'is' if len(result.invalid) == 1 else 'are'} not an email address or phone "
            f"number: {examples}{more}"
        )
    return 0


def cmd_suppressed(args: argparse.Namespace) -> int:
    with opened(args) as ctx, option_errors({"address": "EMAIL|PHONE"}):
        entries = suppression.lookup(ctx, args.address)
    code = 0 if entries else EXIT_ERROR
    if args.json:
        print_json({"suppressed": bool(entries), "entries": [e.to_dict() for e in entries]})
        return code
    if not entries:
        out("Not on the suppression list.")
        return code
    out("On the suppression list:")
    for e in entries:
        what = "all channels" if e.channel == "all" else label(Channel, e.channel)
        source = f", {e.source}" if e.source else ""
        out(
            display(
                f"- {what}: {e.reason}{source}; since {local_time(e.created_at)} "
                f"(added by {e.created_by})"
            )
        )
    return code


# -------------------------------------------------------- email tool sync

EXIT_INTERRUPTED = 130  # as main's for Ctrl-C (app.py imports this module)


def cmd_import_unsubscribes(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise CliError(
            f"{path} is a folder, not a file." if path.is_dir() else f"{path} does not exist."
        )
    with (
        opened(args) as ctx,
        progress_on_tty("Reading") as progress,
        cancel_on_interrupt() as cancelled,
    ):
        report = email_sync.import_unsubscribes(
            ctx, path, progress=progress, should_cancel=cancelled
        )
    if args.json:
        print_json({**report.to_dict(), "remaining": report.remaining})
        return EXIT_INTERRUPTED if report.cancelled else 0
    if report.cancelled:
        out(
            f"Cancelled: {report.applied:,} of the {_count(report.rows, 'row', 'rows')} in "
            f"{display(report.file)} were applied (below), {report.remaining:,} were not. "
            "Run the same command again to apply the rest; what was applied counts as "
            "already done."
        )
    else:
        out(f"Read {_count(report.rows, 'row', 'rows')} from {display(report.file)}.")
    print_block(
        [
            ("Opted out of email now", f"{report.matched:,}"),
            ("Already opted out", f"{report.already_opted_out:,}"),
            ("New on the suppression list", f"{report.new:,}"),
            ("Already on the suppression list", f"{report.already_suppressed:,}"),
            ("Duplicates in the file", f"{report.duplicates:,}"),
            ("Not an email address", f"{report.invalid:,}"),
        ]
    )
    if report.invalid_examples:
        shown = report.invalid_examples[:MAX_EXAMPLES]
        out("  e.g. " + ", ".join(f"'{display(one_line(x))}'" for x in shown))
    return EXIT_INTERRUPTED if report.cancelled else 0


# ----------------------------------------------------------------- parsers

_CHANNELS = ", ".join(c.value for c in Channel)


def register(commands: Commands) -> None:
    """Register the export and suppression commands (see app.build_parser)."""
    export = commands.command(
        "export",
        cmd_export,
        "Write a campaign list of who may be marketed to.",
    )
    export.add_argument(
        "--channel", required=True, metavar="CH", help=", ".join(c.value for c in Channel)
    )
    export.add_argument(
        "--out", metavar="FILE", help="the file to write (required unless --preview)"
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace FILE if it exists (recorded); without it an existing file is refused",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        help="default: xlsx for a FILE ending in .xlsx, else csv; mailchimp is for email",
    )
    export.add_argument(
        "--campaign", metavar="NAME", help="default: 'CLI export YYYY-MM-DD' (today)"
    )
    export.add_argument("--purpose", metavar="TEXT", help="what the campaign is for (recorded)")
    export.add_argument(
        "--personalised",
        action="store_true",
        help="a personalised campaign: adds school, role, stage and interests; leaves out "
        "people who refused personalised marketing",
    )
    export.add_argument("--interest", metavar="NAME", help="only people interested in this service")
    export.add_argument("--role", metavar="R", help="only this job role (any case)")
    export.add_argument("--stage", metavar="S", help=", ".join(s.value for s in Stage))
    export.add_argument("--school-phase", metavar="P", help=", ".join(p.value for p in SchoolPhase))
    export.add_argument("--region", metavar="LA", help="only schools in this local authority")
    export.add_argument("--owner", metavar="O", help="only prospects this user owns")
    export.add_argument(
        "--last-contact-from", metavar="DATE", help=f"last contacted on or after: {DATE_FORMATS}"
    )
    export.add_argument(
        "--last-contact-to", metavar="DATE", help=f"last contacted on or before: {DATE_FORMATS}"
    )
    export.add_argument(
        "--preview",
        action="store_true",
        help="write nothing; list the people who would be included, and who would be "
        "left out and why",
    )
    export.epilog = (
        "Who is included is decided afresh when the file is written. The file is complete "
        "or absent: Ctrl-C leaves no file (a previous one stays) and records nothing. An "
        "existing file is never replaced unless --overwrite is given."
    )

    exports = commands.command(
        "exports", cmd_exports, "List the exports made, newest first, or show one."
    )
    shown = commands.optional_actions(exports)
    show = shown.command("show", cmd_exports_show, "Show one export record.")
    show.add_argument("export_id", type=positive, metavar="ID")
    show.add_argument(
        "--members", action="store_true", help="also list the prospect ids in the file"
    )

    suppress = commands.command(
        "suppress",
        cmd_suppress,
        "Put addresses on the suppression list.",
    )
    suppress.add_argument("address", nargs="?", metavar="EMAIL|PHONE")
    suppress.add_argument("--channel", metavar="CH", help=f"{_CHANNELS}, or all (the default)")
    suppress.add_argument("--reason", metavar="TEXT", help="why (kept with the entry)")
    suppress.add_argument(
        "--file",
        metavar="FILE",
        help="one address per line, or a CSV with an email column; suppresses every channel",
    )

    suppressed = commands.command(
        "suppressed",
        cmd_suppressed,
        "Is an address suppressed? (exit 0 if so, else 1)",
    )
    suppressed.add_argument("address", metavar="EMAIL|PHONE")

    unsubscribes = commands.command(
        "import-unsubscribes",
        cmd_import_unsubscribes,
        "Apply an unsubscribe or bounce file from the email tool.",
    )
    unsubscribes.add_argument(
        "path",
        metavar="FILE",
        help="Mailchimp's unsubscribed or cleaned export, a CSV with an email column, "
        "or one address per line",
    )
    unsubscribes.epilog = (
        "Matching prospects are opted out of email; other addresses go on the suppression "
        "list. A bad file changes nothing. It is applied 5,000 addresses at a time, so "
        "others can opt people out meanwhile; Ctrl-C stops after the batch in progress "
        "and says how much was applied, and running the same file again applies the rest."
    )
