"""``crm restrict``, ``crm unrestrict`` and ``crm erase``."""

from __future__ import annotations

import argparse

from ..services import prospects, rights
from .commands import CliError, opened
from .output import out, print_json
from .sar_commands import request_id_type

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
    if not args.yes:
        raise CliError("Erasure cannot be undone: add --yes to go ahead.")
    with opened(args) as ctx:
        person = prospects.find_prospect(ctx, args.ref)
        # --yes is the confirmation here; the GUI asks for the name to be typed.
        view = rights.erase(ctx, person.id, confirm=person.full_name, request_id=args.request)
    return _print(
        f"Erased {person.full_name} (prospect #{person.id}): anonymised, addresses "
        "suppressed, no trace left in the database files."
        + (f" Recorded on request #{args.request}." if args.request else ""),
        view,
        args,
    )


def add_parsers(top, command) -> None:
    restrict = command(top, "restrict", cmd_restrict, "Restrict processing of a person's data.")
    restrict.add_argument("ref", metavar="EMAIL|ID")
    restrict.add_argument("--reason", required=True, metavar="TEXT")
    restrict.add_argument("--request", type=request_id_type, metavar="ID", help=_REQUEST_HELP)
    unrestrict = command(top, "unrestrict", cmd_unrestrict, "Lift a restriction.")
    unrestrict.add_argument("ref", metavar="EMAIL|ID")
    unrestrict.add_argument("--reason", required=True, metavar="TEXT")
    erase = command(top, "erase", cmd_erase, "Erase (anonymise) a person. Cannot be undone.")
    erase.add_argument("ref", metavar="EMAIL|ID")
    erase.description = (
        "Erase (anonymise) a person for good: the record stays as a tombstone so counts "
        "add up, their addresses go on the suppression list so they are not contacted "
        "again even if added back, and their details are blanked in the record, their "
        "correspondence, the consent ledger and the audit trail (which still verifies). "
        "To remove a record without suppressing the addresses, use 'crm prospect delete'."
    )
    erase.add_argument("--yes", action="store_true", help="yes, erase them for good")
    erase.add_argument("--request", type=request_id_type, metavar="ID", help=_REQUEST_HELP)
