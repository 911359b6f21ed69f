"""One function per ``crm`` command: call the services, print the result.

Each takes the parsed arguments and returns the exit status; errors a person
can act on are raised (service errors, :class:`ValidationError` or
:class:`CliError`) and turned into one line by ``main``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields

from sqlalchemy.exc import ArgumentError

from ..domain.enums import ContactKind, DataSource, Stage
from ..domain.validation import ContactInput, ProspectInput
from ..errors import PasswordRequiredError
from ..persistence import (
    Database,
    mask_secrets,
    sqlite_file,
)
from ..services import correspondence, prospects, recovery, session, users
from ..services.context import Context
from ..services.views import ContactView, FollowUpView, ProspectRow, ProspectView
from .output import (
    JsonArrayWriter,
    Progress,
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

EXIT_ERROR = 1
EXIT_USAGE = 2

# Rows fetched per query by `prospect list`, so a million rows never load at once.
PAGE_SIZE = 10_000


class CliError(Exception):
    """A refusal found by the CLI itself, reported like a service error."""

    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.code = code


def _ask_password(refusal: PasswordRequiredError, where: str) -> str:
    """A server that asks for a password gets it from a prompt on a terminal.

    libpq has already tried ``PGPASSFILE``/``~/.pgpass``, so nobody has to put
    it on the command line.
    """
    if not sys.stdin.isatty():
        raise CliError(
            f"{refusal} Put it in ~/.pgpass (or the file PGPASSFILE names), or run "
            "crm in a terminal to be asked for it."
        )
    if refusal.refused:
        err(f"crm: {refusal}")
    return getpass.getpass(f"Password for {where}: ")


@contextmanager
def opened(args: argparse.Namespace, *, create: bool = False) -> Iterator[Context]:
    """The database named by --db (else CRM_DATABASE_URL, else the default),
    as its single user, or as whoever signs in with --user/CRM_USER.

    A missing database is refused (see open_database) unless ``create``.
    """
    name = getattr(args, "user", None) or os.environ.get("CRM_USER")
    try:
        ctx = session.open_and_sign_in(
            args.db,
            create=create,
            ask_password=_ask_password,
            sign_in=lambda db: _sign_in(db, name),
            check_owner=lambda owner: _check_owner(owner, name),
        )
    except ArgumentError as exc:
        # A URL SQLAlchemy cannot parse or has no dialect for; persistence
        # passes these through, so they would otherwise be a traceback.
        raise CliError(f"Cannot open the database: {mask_secrets(str(exc))}.") from None
    # The questions above are answered or refused with an error, never declined.
    assert isinstance(ctx, Context), ctx
    try:
        # Work a killed or failed run left unfinished is finished first.
        for sentence in recovery.recover(ctx):
            err(f"crm: {sentence}")
        yield ctx
    finally:
        ctx.db.dispose()


def _check_owner(owner: Context, name: str | None) -> None:
    if name and name.strip().lower() != owner.user:
        raise CliError(f"This database has one user, {owner.user}; there is no '{name}'.")


def _sign_in(db: Database, name: str | None) -> Context:
    if not name:
        raise CliError(
            "This database has several users: sign in with --user NAME (or CRM_USER) and "
            "the password in CRM_PASSWORD or at the prompt."
        )
    password = os.environ.get("CRM_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CliError("Give the password in CRM_PASSWORD (no terminal to ask at).")
        password = getpass.getpass(f"Password for {name}: ")
    return users.sign_in(db, name, password)


# ---------------------------------------------------------- init and demo


def cmd_init(args: argparse.Namespace) -> int:
    # Opening without migrating first tells a new (empty) file from an old one.
    path = sqlite_file(args.db)
    created = path is not None and (not path.exists() or path.stat().st_size == 0)
    with opened(args, create=True) as ctx:
        where = ctx.db.display_name
    if args.json:
        print_json({"database": where, "path": str(path) if path else None, "created": created})
    elif created:
        out(f"Created a new database at {where}")
    else:
        out(f"The database at {where} is ready (schema up to date).")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        from ..services import demo
    except ModuleNotFoundError as exc:
        if exc.name != "crm_desktop.services.demo":
            raise
        raise CliError("This version of CRM Desktop has no demo data generator.") from None
    count, most = args.prospects, demo.MAX_DEMO_PROSPECTS
    if not 1 <= count <= most:
        raise CliError(f"--prospects must be between 1 and {most:,} (got {count:,}).")
    progress = Progress("Generating demo data") if sys.stderr.isatty() else None
    with opened(args) as ctx:
        try:
            result = demo.generate_demo(ctx, count, seed=args.seed, progress=progress)
        finally:
            if progress is not None:
                progress.finish()
        where = ctx.db.display_name
    if args.json:
        print_json(
            {
                "schools": result.schools,
                "prospects": result.prospects,
                "contacts": result.contacts,
                "database": where,
            }
        )
    else:
        out(
            f"Added {result.prospects:,} prospects at {result.schools:,} schools "
            f"with {result.contacts:,} logged contacts to {where}"
        )
    return 0


# --------------------------------------------------------------- prospects

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
    query = prospects.ProspectQuery(search=args.search or "")
    with opened(args) as ctx:
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
        err("No prospects match." if args.search else "No prospects yet.")
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
            ("School", view.school_name or ""),
            ("Job role", view.role or ""),
            ("Stage", label(Stage, view.stage)),
            ("Owner", view.owner or ""),
            ("Interests", ", ".join(view.interests)),
            ("Source", source),
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
