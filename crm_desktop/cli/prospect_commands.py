"""``crm prospect ...``, ``crm log`` and ``crm followups``: prospects and correspondence."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import asdict, fields

from ..domain.enums import ContactKind, DataSource, Stage
from ..domain.validation import DATE_FORMATS, ContactInput, ProspectInput
from ..services import contact_points, correspondence, import_batches, prospects
from ..services.context import Context
from ..services.results import ContactView, FollowUpView, ProspectRow, ProspectView
from .commands import EXIT_USAGE, CliError, opened
from .output import (
    JsonArrayWriter,
    Table,
    day,
    display,
    err,
    label,
    local_time,
    out,
    print_block,
    print_json,
    warn,
)
from .parser import Commands
from .prospect_bulk import register_bulk, run_bulk
from .support import REF_HELP, import_id, positive

# Rows fetched per query by `prospect list`, so a million rows never load at once.
PAGE_SIZE = 10_000

# Options of `prospect add` / `prospect edit` that map one-to-one onto ProspectInput.
PROSPECT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "stage",
    "owner",
    "source_detail",
    "source_date",
)


def input_from(view: ProspectView) -> ProspectInput:
    """The current values as input, so an edit changes only the options given.

    Copies every ProspectInput field the view has (``school_id`` stands for
    the school), so a field added to both later is kept too.
    """
    return ProspectInput(
        **{f.name: getattr(view, f.name) for f in fields(ProspectInput) if hasattr(view, f.name)}
    )


def map_source(source: str, detail: str | None) -> tuple[str, str | None, str | None]:
    """(source, source detail, note): text that is no known source is kept as 'Other'."""
    if not source.strip():
        return source, detail, None
    try:
        DataSource.parse(source)
    except ValueError:
        text = source.strip()
        detail = f"{text} - {detail.strip()}" if detail and detail.strip() else text
        note = (
            f"'{text}' is not a known source, so it was saved as source "
            f"'{DataSource.OTHER.label}' with detail '{detail}'."
        )
        return DataSource.OTHER.value, detail, note
    return source, detail, None


def _apply_options(args: argparse.Namespace, data: ProspectInput) -> list[str]:
    """Override ``data`` with the options given; returns notes for stderr."""
    for name in PROSPECT_FIELDS:
        value = getattr(args, name)
        if value is not None:
            setattr(data, name, value)
    if args.school is not None:
        data.school, data.school_id = args.school, None
    if args.interest is not None:
        data.interests = list(args.interest)
    if args.source is not None:
        data.source, data.source_detail, note = map_source(args.source, data.source_detail)
        if note:
            return [note]
    return []


def _print_saved(verb: str, view: ProspectView, args: argparse.Namespace) -> None:
    if args.json:
        print_json(view.to_dict())
    else:
        email = f" <{view.email}>" if view.email else ""
        out(f"{verb} prospect #{view.id}: {display(view.full_name + email)}")


def cmd_prospect_add(args: argparse.Namespace) -> int:
    data = ProspectInput()
    notes = _apply_options(args, data)
    with opened(args) as ctx:
        saved = prospects.create_prospect(ctx, data)
    warn([*notes, *saved.warnings])
    _print_saved("Added", saved.record, args)
    return 0


def cmd_prospect_edit(args: argparse.Namespace) -> int:
    if all(getattr(args, n) is None for n in (*PROSPECT_FIELDS, "school", "interest", "source")):
        raise CliError(
            "nothing to change: give at least one option (see 'crm prospect edit --help').",
            EXIT_USAGE,
        )
    with opened(args) as ctx:
        current = prospects.find_prospect(ctx, args.ref)
        data = input_from(current)
        notes = _apply_options(args, data)
        reason = args.reason
        if args.request is not None:
            reason = f"Rectification request #{args.request}" + (f": {reason}" if reason else "")
        saved = prospects.update_prospect(
            ctx, current.id, data, expected_version=current.version, reason=reason
        )
    warn([*notes, *saved.warnings])
    _print_saved("Updated", saved.record, args)
    return 0


def cmd_prospect_delete(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        target = prospects.find_prospect(ctx, args.ref)
        deleted = prospects.delete_prospect(ctx, target.id)
    _print_saved("Deleted", deleted, args)
    return 0


def cmd_prospect_bulk(args: argparse.Namespace) -> int:
    return run_bulk(args)  # see prospect_bulk


def pages(
    ctx: Context, query: prospects.ProspectQuery, limit: int | None
) -> Iterator[list[ProspectRow]]:
    """Every matching row (or the first ``limit``), PAGE_SIZE rows per query."""
    offset = 0
    while limit is None or offset < limit:
        size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - offset)
        page = prospects.list_prospects(ctx, query, offset=offset, limit=size)
        if page:
            yield page
        if len(page) < size:
            return
        offset += len(page)


def _row_cells(row: ProspectRow) -> list[str]:
    return [
        str(row.id),
        row.full_name,
        row.email or "",
        row.school_name or "",
        row.role or "",
        label(Stage, row.stage),
        day(row.next_follow_up),
    ]


def cmd_prospect_list(args: argparse.Namespace) -> int:
    query = prospects.ProspectQuery(search=args.search or "", import_id=args.import_id)
    with opened(args) as ctx:
        if args.import_id is not None:
            import_batches.get_batch(ctx, args.import_id)  # "No import with id N." if none
        if args.json:
            with JsonArrayWriter() as writer:
                for page in pages(ctx, query, args.limit):
                    for row in page:
                        writer.write(asdict(row))
            return 0
        table = Table(
            ["ID", "Name", "Email", "School", "Job role", "Stage", "Follow-up"],
            [10, 30, 60, 32, 24, 12, 10],
            exact={0},
        )
        shown = 0
        for page in pages(ctx, query, args.limit):
            table.print_rows([_row_cells(row) for row in page])
            shown += len(page)
    if not shown:
        filtered = args.search or args.import_id is not None
        err("No prospects match." if filtered else "No prospects yet.")
    return 0


def cmd_prospect_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        view = prospects.find_prospect(ctx, args.ref)
        contacts = correspondence.list_correspondence(ctx, view.id)
    if args.json:
        print_json({**view.to_dict(), "correspondence": [c.to_dict() for c in contacts]})
        return 0
    source = label(DataSource, view.source)
    if view.source_detail:
        source = f"{source} ({view.source_detail})" if source else view.source_detail
    if view.source_date:
        source = f"{source}, {day(view.source_date)}"
    out(f"Prospect #{view.id}")
    print_block(
        [
            ("Name", view.full_name),
            ("Email", view.email or ""),
            ("Phone", view.phone_display),
            *_others(view),
            ("School", view.school_name or ""),
            ("Job role", view.role or ""),
            ("Stage", label(Stage, view.stage)),
            ("Owner", view.owner or ""),
            ("Interests", ", ".join(view.interests)),
            *_origin(view, source),
            ("Last contact", local_time(view.last_contact_at)),
            ("Next follow-up", day(view.next_follow_up)),
            ("Added", local_time(view.created_at)),
            ("Updated", local_time(view.updated_at)),
        ]
    )
    out()
    if not contacts:
        out("No correspondence yet.")
        return 0
    out("Correspondence (newest first):")
    for contact in contacts:
        _print_contact(contact)
    return 0


def _others(view: ProspectView) -> list[tuple[str, str]]:
    """Extra addresses an import kept, one a line; nothing when there are none."""
    rows = []
    if view.other_emails:
        rows.append(("Other emails", "\n".join(view.other_emails)))
    if view.other_phones:
        rows.append(("Other phones", "\n".join(view.other_phones_display)))
    return rows


def _origin(view: ProspectView, source: str) -> list[tuple[str, str]]:
    """Where they came from: each import, and the source typed in (if any)."""
    rows = []
    if view.origins:
        rows.append(("Origin", "\n".join(contact_points.origin_text(o) for o in view.origins)))
    if source or not view.origins:
        rows.append(("Source", source))
    return rows


def _print_contact(c: ContactView) -> None:
    follow = ""
    if c.follow_up_on:
        done = " (done)" if c.follow_up_done_at else ""
        follow = f"  follow up {day(c.follow_up_on)}{done}"
    by = display(c.logged_by)
    out(f"- {local_time(c.occurred_at)}  {label(ContactKind, c.kind)} by {by}{follow}")
    if c.subject:
        out(f"  Subject: {display(c.subject)}")
    for line in display(c.summary, multiline=True).splitlines():
        out(f"  {line}".rstrip())


# --------------------------------------------------- correspondence


def _read_summary(text: str) -> str:
    if text != "-":
        return text
    try:
        return sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the summary from standard input: {exc}") from None


def cmd_log(args: argparse.Namespace) -> int:
    data = ContactInput(
        kind=args.kind,
        summary=_read_summary(args.summary),
        subject=args.subject,
        occurred_at=args.at,
        follow_up_on=args.follow_up,
    )
    with opened(args) as ctx:
        prospect = prospects.find_prospect(ctx, args.ref)
        contact = correspondence.log_contact(ctx, prospect.id, data)
    warn(correspondence.follow_up_warnings(contact.follow_up_on))  # stderr, so also with --json
    if args.json:
        print_json(contact.to_dict())
        return 0
    follow = f"; follow up on {day(contact.follow_up_on)}" if contact.follow_up_on else ""
    out(
        f"Logged {label(ContactKind, contact.kind).lower()} with {display(prospect.full_name)} "
        f"(#{prospect.id}) at {local_time(contact.occurred_at)}{follow}."
    )
    return 0


def _followup_cells(f: FollowUpView) -> list[str]:
    about = f.subject or (f.summary.splitlines() or [""])[0]
    return [
        day(f.due),
        f.status,
        f.prospect_name,
        f.school_name or "",
        label(ContactKind, f.kind),
        f.assigned_to,
        about,
    ]


def cmd_followups(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        items = correspondence.list_followups(ctx, mine=args.mine, limit=args.limit)
    if args.json:
        print_json([f.to_dict() for f in items])
        return 0
    if not items:
        err("No open follow-ups.")
        return 0
    table = Table(
        ["Due", "Status", "Prospect", "School", "Kind", "Assigned to", "About"],
        [10, 8, 30, 30, 18, 16, 60],
    )
    table.print_rows([_followup_cells(f) for f in items])
    return 0


# ----------------------------------------------------------------- parsers


def _add_prospect_options(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("--first-name", required=adding, metavar="NAME")
    p.add_argument("--last-name", required=adding, metavar="NAME")
    p.add_argument("--email", metavar="ADDRESS", help="needed unless --phone is given")
    p.add_argument("--phone", metavar="NUMBER", help="UK numbers may leave out +44")
    p.add_argument("--school", metavar="NAME", help="links the school, creating it if new")
    p.add_argument("--role", metavar="ROLE", help="job role, e.g. Headteacher")
    p.add_argument(
        "--interest",
        action="append",
        metavar="SERVICE",
        help="one of our services; repeat for more"
        + ("" if adding else " (replaces the list; --interest '' clears it)"),
    )
    p.add_argument("--stage", help=", ".join(s.value for s in Stage))
    p.add_argument("--owner", metavar="USER", help="default: you" if adding else None)
    p.add_argument(
        "--source",
        metavar="SOURCE",
        help=", ".join(s.value for s in DataSource)
        + "; other text is saved as 'other' with the text as its detail",
    )
    p.add_argument("--source-detail", metavar="TEXT")
    p.add_argument("--source-date", metavar="DATE", help=f"when we got the contact: {DATE_FORMATS}")


def register(commands: Commands) -> None:
    """Register ``crm prospect ...``, ``crm log`` and ``crm followups`` (see app.build_parser)."""
    actions = commands.group("prospect", "Add, edit, delete, list and show prospects.")
    add = actions.command("add", cmd_prospect_add, "Add a prospect.")
    _add_prospect_options(add, adding=True)
    edit = actions.command("edit", cmd_prospect_edit, "Change a prospect.")
    edit.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    _add_prospect_options(edit, adding=False)
    edit.add_argument(
        "--reason", metavar="TEXT", help="why (kept in the audit trail, e.g. a correction)"
    )
    edit.add_argument(
        "--request", type=positive, metavar="ID", help="the rectification request this answers"
    )
    edit.epilog = "Only the options given change; an empty value ('') clears an optional field."
    delete = actions.command("delete", cmd_prospect_delete, "Delete a prospect and their history.")
    delete.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    delete.description = (
        "Delete a prospect with their correspondence, interests and consent records. "
        "Their details are also blanked in the audit trail (its entries stay and still "
        "verify). Their addresses are not suppressed, so they can be added again; to "
        "remove a person for good and keep them off every list, use 'crm erase'."
    )
    listing = actions.command("list", cmd_prospect_list, "List prospects by name.")
    listing.add_argument("--search", metavar="TEXT", help="words of a name, email or school")
    listing.add_argument(
        "--import",
        dest="import_id",
        type=import_id,
        metavar="ID",
        help="only the prospects that import created or updated ('crm imports' lists them)",
    )
    listing.add_argument("--limit", type=positive, metavar="N", help="at most N (default: all)")
    show = actions.command("show", cmd_prospect_show, "Show a prospect and their history.")
    show.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    register_bulk(actions, cmd_prospect_bulk)

    log = commands.command("log", cmd_log, "Log a contact with a prospect.")
    log.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    log.add_argument("--kind", required=True, help=", ".join(k.value for k in ContactKind))
    log.add_argument("--summary", required=True, metavar="TEXT", help="'-' reads standard input")
    log.add_argument("--subject", metavar="TEXT")
    log.add_argument(
        "--at", metavar="ISO", help="when it happened, e.g. 2026-03-01T14:30 (default: now)"
    )
    log.add_argument(
        "--follow-up",
        metavar="DATE",
        help=f"when to follow up: {DATE_FORMATS} (a past date is kept, with a warning)",
    )

    followups = commands.command("followups", cmd_followups, "List open follow-ups, overdue first.")
    followups.add_argument("--mine", action="store_true", help="only the ones you logged")
    followups.add_argument("--limit", type=positive, metavar="N", help="at most N")
