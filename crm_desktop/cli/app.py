"""The ``crm`` argument parser and its entry point."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, NoReturn

from .. import __version__
from ..domain.enums import ContactKind, DataSource, Stage
from ..domain.validation import ValidationError
from ..errors import CrmError
from . import commands
from .commands import EXIT_ERROR, EXIT_USAGE, CliError
from .output import err, one_line

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for any Unix tool whose reader left


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


_REF_HELP = "the prospect's id (12 or #12) or email address"
_DB_HELP = "database file or SQLAlchemy URL (default: $CRM_DATABASE_URL, else your data folder)"


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
    p.add_argument("--source-date", metavar="DATE", help="YYYY-MM-DD or DD/MM/YYYY")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crm",
        description="CRM Desktop from the command line: prospects, correspondence, follow-ups.",
        allow_abbrev=False,
    )
    parser.add_argument("--db", metavar="PATH|URL", default=None, help=_DB_HELP)
    parser.add_argument("--version", action="version", version=f"crm {__version__}")
    # --db is also accepted after the command; SUPPRESS keeps one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS, help=_DB_HELP)
    common.add_argument("--json", action="store_true", help="print one JSON document")

    def command(
        group: Any, name: str, func: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        p = group.add_parser(
            name, help=text, description=text, parents=[common], allow_abbrev=False
        )
        p.set_defaults(func=func)
        return p

    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command(top, "init", commands.cmd_init, "Create the database, or upgrade it, and say where.")
    demo = command(top, "demo", commands.cmd_demo, "Fill the database with made-up demo data.")
    demo.add_argument("--prospects", type=_whole, required=True, metavar="N")
    demo.add_argument("--seed", type=_whole, metavar="S", help="the same seed makes the same data")

    prospect = top.add_parser(
        "prospect", help="Add, edit, delete, list and show prospects.", allow_abbrev=False
    )
    actions = prospect.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = command(actions, "add", commands.cmd_prospect_add, "Add a prospect.")
    _add_prospect_options(add, adding=True)
    edit = command(actions, "edit", commands.cmd_prospect_edit, "Change a prospect.")
    edit.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    _add_prospect_options(edit, adding=False)
    edit.epilog = "Only the options given change; an empty value ('') clears an optional field."
    delete = command(
        actions, "delete", commands.cmd_prospect_delete, "Delete a prospect and their history."
    )
    delete.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    listing = command(actions, "list", commands.cmd_prospect_list, "List prospects by name.")
    listing.add_argument("--search", metavar="TEXT", help="words of a name, email or school")
    listing.add_argument("--limit", type=_positive, metavar="N", help="at most N (default: all)")
    show = command(
        actions, "show", commands.cmd_prospect_show, "Show a prospect and their history."
    )
    show.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)

    log = command(top, "log", commands.cmd_log, "Log a contact with a prospect.")
    log.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    log.add_argument("--kind", required=True, help=", ".join(k.value for k in ContactKind))
    log.add_argument("--summary", required=True, metavar="TEXT", help="'-' reads standard input")
    log.add_argument("--subject", metavar="TEXT")
    log.add_argument(
        "--at", metavar="ISO", help="when it happened, e.g. 2026-03-01T14:30 (default: now)"
    )
    log.add_argument("--follow-up", metavar="DATE", help="when to follow up (YYYY-MM-DD)")

    followups = command(
        top, "followups", commands.cmd_followups, "List open follow-ups, overdue first."
    )
    followups.add_argument("--mine", action="store_true", help="only the ones you logged")
    followups.add_argument("--limit", type=_positive, metavar="N", help="at most N")
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    # Building takes ~10 ms (argparse looks up translations); parsing leaves
    # the parser unchanged, so one serves every call of main() in a process.
    return build_parser()


def _check_text(args: argparse.Namespace) -> None:
    """Refuse arguments that were not valid UTF-8 on the command line.

    Python hands such bytes over as lone surrogates, which no database or
    terminal can take.
    """
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any("\ud800" <= ch <= "\udfff" for ch in item):
                option = "EMAIL|ID" if name == "ref" else "--" + name.replace("_", "-")
                raise CliError(f"{option} is not valid text (it has bytes that are not UTF-8).")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``crm`` command and return its exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        _check_text(args)
        return args.func(args)
    except CliError as exc:
        err(f"crm: error: {one_line(exc)}")
        return exc.code
    except (CrmError, ValidationError) as exc:
        err(f"crm: error: {one_line(exc)}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err("crm: interrupted; the action in progress was not saved.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`crm prospect list | head`): stop quietly, and
        # keep Python's flush at exit from failing on the closed pipe again.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
