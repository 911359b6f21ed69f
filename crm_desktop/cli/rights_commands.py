"""``crm restrict``, ``crm unrestrict`` and ``crm erase``."""

from __future__ import annotations

import argparse

from ..services import cleanup, prospects, rights
from .commands import EXIT_USAGE, CliError, opened
from .output import out, print_json, warn
from .parser import Commands
from .support import request_id

_REQUEST_HELP = "the data-subject request this answers (recorded on it)"


def _print(message: str, view, args: argparse.Namespace) -> int:
    if args.json:
        print_json(view.to_dict())
    else:
        out(message)
    return 0


def cmd_restrict(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        view = rights.restrict(ctx, person.id, args.reason, request_id=args.request)
    return _print(
        f"Restricted {person.full_name} (#{person.id}): kept, but left out of every export "
        "and not changeable until the restriction is lifted."
        + (f" Recorded on request #{args.request}." if args.request else ""),
        view,
        args,
    )


def cmd_unrestrict(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        view = rights.unrestrict(ctx, person.id, args.reason)
    return _print(f"Lifted the restriction on {person.full_name} (#{person.id}).", view, args)


def cmd_erase(args: argparse.Namespace) -> int:
    if args.finish_cleanup:
        if args.ref is not None:
            raise CliError("--finish-cleanup erases nobody: give it without a person.")
        return _finish_cleanup(args)
    if args.ref is None:
        raise CliError("Name the person to erase (EMAIL or ID).", code=EXIT_USAGE)
    if not args.yes:
        raise CliError("Erasure cannot be undone: add --yes to go ahead.")
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        # --yes is the confirmation here; the GUI asks for the name to be typed.
        erasure = rights.erase(ctx, person.id, confirm=person.full_name, request_id=args.request)
    done = erasure.cleanup
    assert done is not None  # erase() cleans up unless told not to
    recorded = f" Recorded on request #{args.request}." if args.request else ""
    erased = f"Erased {person.full_name} (prospect #{person.id}): anonymised"
    if args.json:
        print_json(erasure.to_dict())
    elif done.finished:
        out(f"{erased}, addresses suppressed; {done.outcome}.{recorded}")
    else:
        out(f"{erased} and addresses suppressed.{recorded}")
    if not done.finished:
        warn([f"The clean-up of the database files has not finished: {done.pending}."])
    return 0


def _finish_cleanup(args: argparse.Namespace) -> int:
    """Finish the clean-up an earlier erasure left (opening may already have done it)."""
    with opened(args) as ctx:
        done = None if cleanup.owed_token(ctx.db) is None else cleanup.run(ctx.db)
    if args.json:
        print_json({"owed": done is not None, "cleanup": done and done.to_dict()})
    if done is None:
        if not args.json:
            out("No clean-up is owed: every erasure's clean-up has finished.")
        return 0
    if not done.finished:
        raise CliError(f"The clean-up has not finished: {done.pending}.")
    if not args.json:
        out(f"Finished the clean-up after erasure: {done.outcome}.")
    return 0


def register(commands: Commands) -> None:
    restrict = commands.command("restrict", cmd_restrict, "Restrict processing of a person's data.")
    restrict.add_argument("ref", metavar="EMAIL|ID")
    restrict.add_argument("--reason", required=True, metavar="TEXT")
    restrict.add_argument("--request", type=request_id, metavar="ID", help=_REQUEST_HELP)
    unrestrict = commands.command("unrestrict", cmd_unrestrict, "Lift a restriction.")
    unrestrict.add_argument("ref", metavar="EMAIL|ID")
    unrestrict.add_argument("--reason", required=True, metavar="TEXT")
    erase = commands.command("erase", cmd_erase, "Erase (anonymise) a person. Cannot be undone.")
    erase.add_argument("ref", metavar="EMAIL|ID", nargs="?")
    erase.description = (
        "Erase (anonymise) a person for good: the record stays as a tombstone so counts "
        "add up, their addresses go on the suppression list so they are not contacted "
        "again even if added back, and their details are blanked in the record, their "
        "correspondence, the consent ledger and the audit trail (which still verifies). "
        "To remove a record without suppressing the addresses, use 'crm prospect delete'. "
        "Afterwards the database files are rewritten and checked so that no copy of the "
        "old details is left in them; if that cannot finish (a full disk, another program "
        "still reading), the person is erased all the same, you are told, and the clean-up "
        "is finished at the next start or with 'crm erase --finish-cleanup'. On PostgreSQL "
        "the tables are vacuumed; the server's own files and backups cannot be checked."
    )
    erase.add_argument("--yes", action="store_true", help="yes, erase them for good")
    erase.add_argument("--request", type=request_id, metavar="ID", help=_REQUEST_HELP)
    erase.add_argument(
        "--finish-cleanup",
        action="store_true",
        help="finish the clean-up of the database files an earlier erasure left unfinished",
    )
