"""``crm request``: the register of data-subject requests from the command line.

The same service functions as the Requests tab, so the deadlines, the
one-extension rule and the manager-only permission are the same here.
Refusals name the options a person typed (``--received: cannot be in the
future``), not the service's field names.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..domain.requests import (
    DUE_SOON_DAYS,
    FIELD_LABELS,
    MAX_EXTENSION_MONTHS,
    REQUEST_RETENTION_YEARS,
    RequestKind,
    RequestStatus,
)
from ..domain.validation import DATE_FORMATS, ValidationError, error_sentence, format_phone
from ..services import requests
from ..services.requests import UNSET, RequestView
from .commands import EXIT_USAGE, CliError, opened
from .output import Table, day, display, err, label, local_time, out, print_block, print_json
from .parser import Commands

_REF = "EMAIL|ID"
_KINDS = ", ".join(k.value for k in RequestKind)


@contextmanager
def _option_errors(options: Mapping[str, str]) -> Iterator[None]:
    """A service ValidationError as one line naming the options typed."""
    try:
        yield
    except ValidationError as exc:
        parts = [
            error_sentence(options.get(field) or FIELD_LABELS.get(field, field), message)
            for field, message in exc.errors.items()
        ]
        raise CliError("; ".join(parts)) from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def due_text(v: RequestView) -> str:
    """How the deadline stands, in words that flag an overdue request."""
    if v.days_left is None:
        return label(RequestStatus, v.status)
    if v.days_left < 0:
        return f"OVERDUE by {_plural(-v.days_left, 'day')}"
    if v.days_left == 0:
        return "due today"
    return f"{_plural(v.days_left, 'day')} left"


def _summary(verb: str, v: RequestView) -> str:
    return (
        f"{verb} request #{v.id} ({label(RequestKind, v.kind).lower()}) from "
        f"{display(v.requester)}: due {day(v.due_on)} ({due_text(v)})."
    )


def _print(verb: str, v: RequestView, args: argparse.Namespace) -> None:
    if args.json:
        print_json(v.to_dict())
    else:
        out(_summary(verb, v))


# ---------------------------------------------------------------- commands


def cmd_request_add(args: argparse.Namespace) -> int:
    ref = (args.ref or "").strip()
    if not ref and not (args.name or args.phone):
        raise CliError(f"give {_REF}, or --name or --phone for someone not in the CRM.")
    by_id = ref.lstrip("#").isdigit()
    options = {
        "kind": "--kind",
        "prospect": _REF,
        "email": _REF,
        "name": "--name",
        "phone": "--phone",
        "received": "--received",
        "notes": "--notes",
    }
    with opened(args) as ctx, _option_errors(options):
        view = requests.add_request(
            ctx,
            args.kind,
            prospect_ref=ref if by_id else None,
            email=None if by_id else ref or None,
            requester_name=args.name,
            phone=args.phone,
            received=args.received,
            identity_verified=args.verified,
            notes=args.notes,
        )
    if args.json:
        print_json(view.to_dict())
        return 0
    out(_summary("Recorded", view))
    if view.prospect_id is None:
        out(
            "No prospect matches: recorded as an unmatched requester. Link one later with "
            f"'crm request edit {view.id} --prospect {_REF}'."
        )
    return 0


def cmd_request_list(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        items = requests.list_requests(ctx, open_only=not args.all)
    if args.json:
        print_json([v.to_dict() for v in items])
        return 0
    if not items:
        err("No data-subject requests." if args.all else "No open data-subject requests.")
        return 0
    table = Table(
        ["ID", "Due", "Deadline", "Kind", "Requester", "Status", "ID checked"],
        [8, 10, 20, 26, 50, 12, 10],
        exact={0},
    )
    table.print_rows(
        [
            [
                str(v.id),
                day(v.due_on),
                due_text(v),
                label(RequestKind, v.kind),
                v.requester,
                label(RequestStatus, v.status),
                "yes" if v.identity_verified else "no",
            ]
            for v in items
        ]
    )
    overdue = sum(v.days_left is not None and v.days_left < 0 for v in items)
    soon = sum(v.days_left is not None and 0 <= v.days_left <= DUE_SOON_DAYS for v in items)
    out()
    out(f"{_plural(overdue, 'request')} overdue, {soon} due within {DUE_SOON_DAYS} days.")
    return 0


def cmd_request_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        v = requests.get_request(ctx, args.request_id)
    if args.json:
        print_json(v.to_dict())
        return 0
    linked = f"#{v.prospect_id} {v.prospect_name}" if v.prospect_id else "none (unmatched)"
    verified = (
        f"yes, by {v.verified_by} {local_time(v.verified_at)}" if v.identity_verified else "no"
    )
    pairs = [
        ("Kind", label(RequestKind, v.kind)),
        ("Status", label(RequestStatus, v.status)),
        ("Prospect", linked),
        ("Name", v.requester_name or ""),
        ("Email", v.requester_email or ""),
        ("Phone", format_phone(v.requester_phone)),
        ("Received", day(v.received_on)),
        ("Due", f"{day(v.due_on)} ({due_text(v)})"),
        ("Identity verified", verified),
    ]
    if v.extended:
        pairs += [
            (
                "Extended",
                f"by {_plural(v.extension_months or 0, 'month')} on {local_time(v.extended_at)} "
                f"(first due {day(v.original_due_on)})",
            ),
            ("Why extended", v.extension_reason or ""),
        ]
    if v.closed:
        pairs += [("Closed", local_time(v.closed_at)), ("Outcome", v.outcome or "")]
    pairs += [
        ("Notes", v.notes or ""),
        ("Recorded", f"{local_time(v.created_at)} by {v.created_by}"),
        ("Last handled by", v.handled_by),
    ]
    out(f"Data-subject request #{v.id}")
    print_block(pairs)
    return 0


def cmd_request_edit(args: argparse.Namespace) -> int:
    changes = {
        "prospect_ref": args.prospect,
        "requester_name": args.name,
        "email": args.email,
        "phone": args.phone,
        "notes": args.notes,
    }
    given = {k: (v if v != "" else None) for k, v in changes.items() if v is not None}
    if not given and args.status is None:
        raise CliError("nothing to change: give at least one option (see --help).", EXIT_USAGE)
    options = {
        "prospect": "--prospect",
        "name": "--name",
        "email": "--email",
        "phone": "--phone",
        "notes": "--notes",
    }
    with opened(args) as ctx, _option_errors(options):
        view = requests.update_request(
            ctx,
            args.request_id,
            status=args.status,
            **{k: given.get(k, UNSET) for k in changes},
        )
    _print("Updated", view, args)
    return 0


def cmd_request_verify(args: argparse.Namespace) -> int:
    with opened(args) as ctx, _option_errors({}):
        view = requests.update_request(ctx, args.request_id, identity_verified=not args.undo)
    if args.json:
        print_json(view.to_dict())
    elif args.undo:
        out(f"Request #{view.id}: identity no longer marked as verified.")
    else:
        out(f"Request #{view.id}: identity of {display(view.requester)} verified.")
    return 0


def cmd_request_extend(args: argparse.Namespace) -> int:
    with opened(args) as ctx, _option_errors({"reason": "--reason", "months": "--months"}):
        view = requests.extend_request(ctx, args.request_id, args.reason, args.months)
    _print("Extended", view, args)
    return 0


def cmd_request_close(args: argparse.Namespace) -> int:
    options = {"outcome": "--outcome", "notes": "--notes"}
    with opened(args) as ctx, _option_errors(options):
        view = requests.close_request(
            ctx, args.request_id, args.outcome, args.notes, refused=args.refused
        )
    if args.json:
        print_json(view.to_dict())
    else:
        out(
            f"Request #{view.id} {label(RequestStatus, view.status).lower()}: {display(view.outcome)}"
        )
    return 0


def cmd_request_forget_expired(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        count = requests.forget_expired(ctx)
    if args.json:
        print_json({"forgotten": count})
    else:
        years = REQUEST_RETENTION_YEARS
        out(
            f"Forgot who asked on {count:,} request{'' if count == 1 else 's'} "
            f"closed more than {years} years ago."
            if count
            else f"No closed request is older than {years} years."
        )
    return 0


# ----------------------------------------------------------------- parser


def _request_id(text: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a request id (e.g. 12)")
    return int(value)


def register(commands: Commands) -> None:
    """Register ``crm request ...`` on ``crm``'s parser (see app.build_parser)."""
    # Managers and admins only: the service refuses anyone else.
    group = commands.group("request", "Data-subject requests and their legal deadlines.")
    add = group.command("add", cmd_request_add, "Record a data-subject request.")
    add.add_argument(
        "ref",
        metavar=_REF,
        nargs="?",
        help="the prospect's id, or the requester's email address (linked to the prospect "
        "with that address, if there is one)",
    )
    add.add_argument("--kind", required=True, metavar="KIND", help=_KINDS)
    add.add_argument(
        "--received", metavar="DATE", help=f"when it arrived: {DATE_FORMATS} (default: today)"
    )
    add.add_argument("--verified", action="store_true", help="their identity is verified")
    add.add_argument("--name", metavar="NAME", help="the requester's name (if not a prospect)")
    add.add_argument("--phone", metavar="NUMBER", help="the requester's phone number")
    add.add_argument("--notes", metavar="TEXT")
    add.epilog = (
        "The deadline is one calendar month from receipt (the same date next month, or "
        "that month's last day)."
    )

    listing = group.command("list", cmd_request_list, "List open requests, soonest due first.")
    listing.add_argument("--all", action="store_true", help="closed requests too")

    show = group.command("show", cmd_request_show, "Show one request.")
    show.add_argument("request_id", type=_request_id, metavar="ID")

    edit = group.command("edit", cmd_request_edit, "Link a prospect, correct details, notes.")
    edit.add_argument("request_id", type=_request_id, metavar="ID")
    edit.add_argument("--prospect", metavar=_REF, help="link this prospect ('' unlinks)")
    edit.add_argument("--name", metavar="NAME")
    edit.add_argument("--email", metavar="ADDRESS")
    edit.add_argument("--phone", metavar="NUMBER")
    edit.add_argument("--notes", metavar="TEXT", help="replaces the notes ('' clears them)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument(
        "--in-progress",
        dest="status",
        action="store_const",
        const=RequestStatus.IN_PROGRESS.value,
        help="work on it has started",
    )
    state.add_argument(
        "--open", dest="status", action="store_const", const=RequestStatus.OPEN.value
    )

    verify = group.command("verify", cmd_request_verify, "Record that the identity is verified.")
    verify.add_argument("request_id", type=_request_id, metavar="ID")
    verify.add_argument("--undo", action="store_true", help="it was marked verified by mistake")

    extend = group.command(
        "extend", cmd_request_extend, "Extend the deadline once, by 1 or 2 months."
    )
    extend.add_argument("request_id", type=_request_id, metavar="ID")
    extend.add_argument("--reason", required=True, metavar="TEXT", help="why it needs longer")
    extend.add_argument(
        "--months",
        type=int,
        choices=range(1, MAX_EXTENSION_MONTHS + 1),
        default=MAX_EXTENSION_MONTHS,
        help=f"default: {MAX_EXTENSION_MONTHS}",
    )
    extend.epilog = (
        "The new deadline counts from receipt: received + 1 month + the extension. Only "
        "within the first month; tell the requester why."
    )

    close = group.command("close", cmd_request_close, "Close a request with its outcome.")
    close.add_argument("request_id", type=_request_id, metavar="ID")
    close.add_argument(
        "--outcome", required=True, metavar="TEXT", help="what was done, or why refused"
    )
    close.add_argument("--notes", metavar="TEXT", help="added to the request's notes")
    close.add_argument("--refused", action="store_true", help="the request was refused")

    forget = group.command(
        "forget-expired",
        cmd_request_forget_expired,
        f"Blank who asked on requests closed over {REQUEST_RETENTION_YEARS} years ago.",
    )
    forget.epilog = (
        "A request keeps the requester's name and contact details for "
        f"{REQUEST_RETENTION_YEARS} years after it is closed, to answer a complaint about "
        "how it was handled; then only its kind, dates and outcome stay. The app does "
        "this by itself when a manager or admin opens it."
    )
