"""``crm history``: one prospect's merged timeline (managers and admins)."""

from __future__ import annotations

import argparse

from ..domain.validation import DATE_FORMATS, ValidationError, parse_date
from ..services import history, prospects
from .commands import opened
from .output import Table, display, local_time, out, print_json
from .parser import Commands
from .support import REF_HELP


def _day(option: str, text: str | None):
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError({option: str(exc)}) from None


def cmd_history(args: argparse.Namespace) -> int:
    since = _day("since", args.since)
    until = _day("until", args.until)
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        events = history.history(ctx, person.id, kinds=args.kind, since=since, until=until)
    if args.json:
        print_json(
            {
                "prospect_id": person.id,
                "name": person.full_name,
                "events": [e.to_dict() for e in events],
            }
        )
        return 0
    out(f"History of {display(person.full_name)} (#{person.id}), newest first:")
    if not events:
        out("Nothing recorded for these filters.")
        return 0
    table = Table(["When", "Kind", "What", "Details", "By"], [16, 14, 40, 60, 16])
    table.print_rows(
        [
            [
                local_time(e.at),
                history.KIND_LABELS[e.kind],
                e.title,
                e.detail.replace("\n", "; "),
                e.actor,
            ]
            for e in events
        ]
    )
    return 0


def register(commands: Commands) -> None:
    """Register ``crm history`` on ``crm``'s parser (see app.build_parser)."""
    p = commands.command("history", cmd_history, "Show everything that happened to one prospect.")
    p.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    p.add_argument(
        "--kind",
        action="append",
        choices=history.KINDS,
        help="only this kind of event; repeat for more (default: all)",
    )
    p.add_argument("--since", metavar="DATE", help=f"from this day: {DATE_FORMATS}")
    p.add_argument("--until", metavar="DATE", help=f"up to and including this day: {DATE_FORMATS}")
    p.epilog = (
        "Merges correspondence, consent changes, edits (old -> new values), campaign "
        "exports and data-subject requests. Needs the right to view the audit trail."
    )
