"""``crm prospect bulk``: one action on every prospect a filter matches, or on ids from stdin.

Registered under ``crm prospect`` by :mod:`.prospect_commands`. It says how
many prospects it will touch (and whom it must leave alone) before it acts,
asks on a terminal before a deletion or an opt-out unless ``--yes``, and
runs the action as one transaction (Ctrl-C cancels it: nothing changes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..domain.enums import ContactKind, Stage
from ..domain.validation import DATE_FORMATS, ContactInput
from ..services import bulk, import_batches, interests, prospects, schools
from ..services.context import Context
from .commands import EXIT_ERROR, EXIT_USAGE, CliError, opened
from .output import display, err, out, print_json
from .parser import Commands
from .support import cancel_on_interrupt, import_id, option_errors, progress_on_tty

ASKS = (bulk.DELETE, bulk.OPT_OUT)
MAX_STDIN_UNKNOWN = 5


def _action(args: argparse.Namespace) -> tuple[str, object]:
    chosen = [
        (name, value)
        for name, value in (
            (bulk.SET_OWNER, args.set_owner),
            (bulk.SET_STAGE, args.set_stage),
            (bulk.ADD_INTEREST, args.add_interest),
            (bulk.REMOVE_INTEREST, args.remove_interest),
            (bulk.LOG_CONTACT, args.log_contact),
            (bulk.OPT_OUT, args.opt_out),
            (bulk.DELETE, True if args.delete else None),
        )
        if value is not None
    ]
    if len(chosen) != 1:
        raise CliError(
            "give exactly one action: --set-owner, --set-stage, --add-interest, "
            "--remove-interest, --log-contact, --opt-out or --delete.",
            EXIT_USAGE,
        )
    name, value = chosen[0]
    if name == bulk.LOG_CONTACT:
        if args.summary is None:
            raise CliError("--log-contact needs --summary TEXT.", EXIT_USAGE)
        value = ContactInput(
            kind=value, summary=args.summary, subject=args.subject, follow_up_on=args.follow_up
        )
    elif args.summary is not None or args.follow_up is not None or args.subject is not None:
        raise CliError("--summary, --subject and --follow-up go with --log-contact.", EXIT_USAGE)
    if args.reason is not None and name != bulk.OPT_OUT:
        raise CliError("--reason goes with --opt-out.", EXIT_USAGE)
    return name, value


def _filtered(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, n) is not None
        for n in ("search", "school", "role", "interest", "stage", "owner", "import_id")
    )


def _query(ctx: Context, args: argparse.Namespace) -> prospects.ProspectQuery:
    school_id = interest_id = None
    if args.school is not None:
        wanted = args.school.strip().lower()
        found = [i for i, name in schools.school_names(ctx) if name.lower() == wanted]
        if not found:
            raise CliError(f"--school: no school is called '{args.school}'.")
        school_id = found[0]
    if args.interest is not None:
        wanted = args.interest.strip().lower()
        found = [i for i, name, _n in interests.list_interests(ctx) if name.lower() == wanted]
        if not found:
            raise CliError(f"--interest: '{args.interest}' is not one of our services.")
        interest_id = found[0]
    if args.import_id is not None:
        import_batches.get_batch(ctx, args.import_id)  # "No import with id N." if none
    stage = None
    if args.stage is not None:
        try:
            stage = Stage.parse(args.stage).value
        except ValueError as exc:
            raise CliError(f"--stage: {exc}") from None
    return prospects.ProspectQuery(
        search=args.search or "",
        school_id=school_id,
        role=args.role,
        interest_id=interest_id,
        stage=stage,
        owner=args.owner,
        import_id=args.import_id,
    )


def _selection(ctx: Context, args: argparse.Namespace) -> bulk.Selection:
    if not args.ids_from_stdin:
        return bulk.Selection.matching(_query(ctx, args))
    try:
        lines = sys.stdin.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read ids from standard input: {exc}") from None
    found, unknown = bulk.ids_for(ctx, lines)
    if unknown:
        named = ", ".join(display(u) for u in unknown[:MAX_STDIN_UNKNOWN])
        more = len(unknown) - MAX_STDIN_UNKNOWN
        tail = f" and {more:,} more" if more > 0 else ""
        raise CliError(
            f"{len(unknown):,} lines of standard input name no prospect ({named}{tail}); "
            "nothing was changed."
        )
    if not found:
        raise CliError("Standard input named no prospects (one id or email address a line).")
    return bulk.Selection.of(found)


def _confirm(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_bulk(args: argparse.Namespace) -> int:
    """The handler of ``crm prospect bulk`` (declared in :mod:`.prospect_commands`)."""
    if args.ids_from_stdin and _filtered(args):
        raise CliError("use either filter options or --ids-from-stdin, not both.", EXIT_USAGE)
    action, value = _action(args)
    with opened(args) as ctx:
        if action == bulk.LOG_CONTACT:
            with option_errors({"kind": "--log-contact", "summary": "--summary",
                                "subject": "--subject", "follow_up_on": "--follow-up"}):  # fmt: skip
                bulk.check_contact(value)  # type: ignore[arg-type]
        selection = _selection(ctx, args)
        preview = bulk.preview(ctx, selection, action)
        if not preview.count:
            err("No prospects match; nothing was changed.")
            if args.json:
                print_json(bulk.BulkResult(action, 0, 0).to_dict())
            return 0
        err(
            f"{preview.count:,} prospect{'s' if preview.count != 1 else ''} selected; "
            f"{preview.allowed:,} will be considered."
        )
        if preview.refused:
            err(bulk.refused_sentence(preview.refused))
        if action in ASKS and not args.yes:
            if not sys.stdin.isatty() or args.ids_from_stdin:
                what = "Deleting" if action == bulk.DELETE else "Opting out"
                raise CliError(f"{what} {preview.allowed:,} prospects: add --yes to go ahead.")
            verb = "Delete" if action == bulk.DELETE else f"Opt out of {value}"
            if not _confirm(f"{verb}: {preview.allowed:,} prospects?"):
                err("Nothing was changed.")
                return EXIT_ERROR
        options = {"owner": "--set-owner", "stage": "--set-stage", "channel": "--opt-out",
                   "reason": "--reason"}  # fmt: skip
        with (
            progress_on_tty("Working") as progress,
            cancel_on_interrupt() as should_cancel,
            option_errors(options),
        ):
            result = bulk.run(
                ctx, selection, action, value, reason=args.reason,
                progress=progress, should_cancel=should_cancel,
            )  # fmt: skip
    if args.json:
        print_json(result.to_dict())
    else:
        out(result.done_sentence())
    for sentence in result.not_done_sentences():
        err(sentence)
    return EXIT_ERROR if result.refused and not (result.changed or result.unchanged) else 0


def register_bulk(actions: Commands, handler: Callable[[argparse.Namespace], int]) -> None:
    """Add ``bulk`` to the ``crm prospect`` group ``actions``, run by ``handler``."""
    p = actions.command(
        "bulk", handler, "Change every prospect a filter matches, or ids from stdin."
    )
    who = p.add_argument_group("which prospects (default: all; filters combine)")
    who.add_argument("--search", metavar="TEXT", help="words of a name, email or school")
    who.add_argument("--school", metavar="NAME", help="at this school (its full name)")
    who.add_argument("--role", metavar="ROLE", help="with this job role")
    who.add_argument("--interest", metavar="SERVICE", help="interested in this service")
    who.add_argument("--stage", metavar="STAGE", help=", ".join(s.value for s in Stage))
    who.add_argument("--owner", metavar="USER", help="owned by this user")
    who.add_argument(
        "--import",
        dest="import_id",
        type=import_id,
        metavar="ID",
        help="created or updated by this import ('crm imports' lists them)",
    )
    who.add_argument(
        "--ids-from-stdin",
        action="store_true",
        help="instead: prospect ids (12 or #12) or email addresses, one a line",
    )
    what = p.add_argument_group("the action (exactly one)")
    what.add_argument("--set-owner", metavar="USER", help="'' leaves them without an owner")
    what.add_argument("--set-stage", metavar="STAGE")
    what.add_argument("--add-interest", metavar="SERVICE")
    what.add_argument("--remove-interest", metavar="SERVICE")
    what.add_argument("--log-contact", metavar="KIND", help=", ".join(k.value for k in ContactKind))
    what.add_argument("--opt-out", metavar="CHANNEL", help="email, sms, phone, online or all")
    what.add_argument("--delete", action="store_true", help="delete them and their history")
    extra = p.add_argument_group("details")
    extra.add_argument("--summary", metavar="TEXT", help="what happened (with --log-contact)")
    extra.add_argument("--subject", metavar="TEXT", help="with --log-contact")
    extra.add_argument("--follow-up", metavar="DATE", help=f"with --log-contact: {DATE_FORMATS}")
    extra.add_argument("--reason", metavar="TEXT", help="why (with --opt-out)")
    p.add_argument("--yes", action="store_true", help="do not ask before --delete or --opt-out")
    p.epilog = (
        "Restricted people are left unchanged (an opt-out still applies to them), erased "
        "people always; they are named, and the rest are done. One transaction: Ctrl-C "
        "changes nothing. Exit status 1 when nobody could be changed."
    )
