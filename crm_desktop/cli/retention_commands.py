"""``crm retention``: review, keep or anonymise people we have not contacted for long."""

from __future__ import annotations

import argparse

from ..services import prospects, retention
from .commands import CliError, opened
from .output import (
    JsonArrayWriter,
    Progress,
    Table,
    day,
    display,
    err,
    local_time,
    out,
    print_json,
    warn,
)
from .parser import Commands
from .support import positive

PAGE = 500


def _pages(ctx, limit: int | None):
    """The queue page by page, so a long one is never held whole."""
    offset = 0
    while limit is None or offset < limit:
        size = PAGE if limit is None else min(PAGE, limit - offset)
        page = retention.review_queue(ctx, offset=offset, limit=size)
        if page:
            yield page
        if len(page) < size:
            return
        offset += len(page)


def _cells(row: retention.RetentionRow) -> list[str]:
    last = local_time(row.last_contact_at) or "never"
    return [str(row.id), display(row.name), display(row.school), last, day(row.due_since)]


def cmd_review(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        months = retention.get_retention_months(ctx)
        if args.json:
            with JsonArrayWriter() as writer:
                for page in _pages(ctx, args.limit):
                    for row in page:
                        writer.write(row.to_dict())
            return 0
        table = Table(["ID", "Name", "School", "Last contact", "Due since"], [10, 30, 32, 16, 10])
        shown = 0
        for page in _pages(ctx, args.limit):
            table.print_rows([_cells(row) for row in page])
            shown += len(page)
    if not shown:
        err(f"Nobody is due for review (no contact for {months} months).")
    return 0


def _ids(ctx, refs: list[str]) -> list[int]:
    return [prospects.find_prospect(ctx, ref).id for ref in refs]


def cmd_keep(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        count = retention.keep(ctx, _ids(ctx, args.refs), args.reason)
        months = retention.get_retention_months(ctx)
    if args.json:
        print_json({"kept": count, "months": months})
    else:
        out(
            f"Kept {count} {'person' if count == 1 else 'people'}; due for review again in {months} months."
        )
    return 0


def cmd_anonymise(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError("Anonymising cannot be undone: add --yes to go ahead.")
    with opened(args) as ctx:
        ids = _ids(ctx, args.refs)
        progress = Progress("Anonymising")
        try:
            result = retention.anonymise(ctx, ids, progress=progress)
        finally:
            progress.finish()
    count, done = result.count, result.cleanup
    who = f"{count} {'person' if count == 1 else 'people'}"
    if args.json:
        print_json({"anonymised": count, "cleanup": done.to_dict()})
    elif done.finished:
        out(f"Anonymised {who}: their addresses are suppressed; {done.outcome}.")
    else:
        out(f"Anonymised {who}: their addresses are suppressed.")
    if not done.finished:
        warn([f"The clean-up of the database files has not finished: {done.pending}."])
    return 0


def cmd_months(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        if args.months is None:
            months = retention.get_retention_months(ctx)
            message = f"People are due for review after {months} months without contact."
        else:
            months = retention.set_retention_months(ctx, args.months)
            message = f"People are now due for review after {months} months without contact."
    if args.json:
        print_json({"months": months})
    else:
        out(message)
    return 0


def register(commands: Commands) -> None:
    """Register ``crm retention ...`` (managers and admins; the services check)."""
    group = commands.group("retention", "Review people long out of contact: keep or anonymise.")
    review = group.command("review", cmd_review, "List the people due for review, oldest first.")
    review.add_argument("--limit", type=positive, metavar="N", help="at most N (default: all)")
    keep = group.command("keep", cmd_keep, "Keep people (restarts their review clock).")
    keep.add_argument("refs", nargs="+", metavar="EMAIL|ID")
    keep.add_argument("--reason", required=True, metavar="TEXT", help="why they are kept")
    anonymise = group.command(
        "anonymise", cmd_anonymise, "Anonymise people for good. Cannot be undone."
    )
    anonymise.add_argument("refs", nargs="+", metavar="EMAIL|ID")
    anonymise.add_argument("--yes", action="store_true", help="yes, anonymise them for good")
    months = group.command("months", cmd_months, "Show or set the review period in months.")
    months.add_argument("months", nargs="?", metavar="N", help="1-120 (admins only)")
