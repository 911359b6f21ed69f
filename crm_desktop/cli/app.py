"""The ``crm`` command: the top parser, the registry of command groups, and ``main``.

Each module in :data:`GROUP_MODULES` registers its own commands and their
handlers (``register(commands)``, see :mod:`.parser`); this module only
builds the top parser, asks each to register, parses and dispatches. A new
command group is one new module and one line here (and its heading in
:data:`COMMAND_GROUPS`, the layout of ``crm --help``).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from types import ModuleType

from .. import __version__
from ..domain.validation import ValidationError
from ..errors import Cancelled, CrmError
from . import (
    admin_commands,
    duplicate_commands,
    export_commands,
    history_commands,
    import_commands,
    marketing_commands,
    prospect_commands,
    request_commands,
    retention_commands,
    rights_commands,
    sar_commands,
    settings_commands,
    setup_commands,
)
from .commands import EXIT_ERROR, EXIT_USAGE, CliError
from .output import err, one_line
from .parser import DB_HELP, USER_HELP, Commands, Parser

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for any Unix tool whose reader left

# The registry: every command group, in the order their commands are added
# (the order argparse lists them in, e.g. in "invalid choice" errors).
GROUP_MODULES: tuple[ModuleType, ...] = (
    setup_commands,
    prospect_commands,
    import_commands,
    duplicate_commands,
    marketing_commands,
    export_commands,
    admin_commands,
    request_commands,
    sar_commands,
    settings_commands,
    history_commands,
    rights_commands,
    retention_commands,
)

# How `crm --help` groups the commands (every command is in exactly one group).
COMMAND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Getting started", ("init", "demo")),
    (
        "Prospects and correspondence",
        ("prospect", "log", "followups", "import", "imports", "duplicates", "merge"),
    ),
    (
        "Marketing permissions",
        (
            "permissions",
            "consent",
            "opt-out",
            "object",
            "basis",
            "subscriber-type",
            "personalisation",
            "assessment",
        ),
    ),
    (
        "Campaign exports and the suppression list",
        ("export", "exports", "suppress", "suppressed", "import-unsubscribes"),
    ),
    (
        "Users, settings, backups and the audit trail",
        ("user", "settings", "backup", "restore", "audit", "history"),
    ),
    ("Data-subject requests", ("request", "sar", "restrict", "unrestrict", "erase", "retention")),
)


def _grouped_commands(helps: dict[str, str]) -> str:
    """The command list of ``crm --help``, under the headings of COMMAND_GROUPS."""
    grouped = [name for _, names in COMMAND_GROUPS for name in names]
    assert sorted(grouped) == sorted(helps), "every command belongs to one group"
    width = max(map(len, helps)) + 2
    lines = []
    for title, names in COMMAND_GROUPS:
        lines += ["", f"{title}:"] + [f"  {name:<{width}}{helps[name]}" for name in names]
    lines += ["", "Run 'crm COMMAND --help' for the options of a command."]
    return "\n".join(lines[1:])


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="crm",
        usage="%(prog)s [-h] [--db PATH|URL] [--user NAME] [--version] COMMAND ...",
        description=(
            "CRM Desktop from the command line: prospects, correspondence and follow-ups,\n"
            "marketing permissions, campaign exports and the suppression list."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--db", metavar="PATH|URL", default=None, help=DB_HELP)
    parser.add_argument("--user", metavar="NAME", default=None, help=USER_HELP)
    parser.add_argument("--version", action="version", version=f"crm {__version__}")
    top = parser.add_subparsers(
        # prog: the commands' own usage lines start "crm COMMAND", not the usage above.
        prog="crm",
        dest="command",
        metavar="COMMAND",
        required=True,
        help=argparse.SUPPRESS,
    )
    commands = Commands.top(top)
    for module in GROUP_MODULES:
        module.register(commands)
    assert commands.helps is not None
    parser.epilog = _grouped_commands(commands.helps)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    # Building takes ~10 ms (argparse looks up translations); parsing leaves
    # the parser unchanged, so one serves every call of main() in a process.
    return build_parser()


def positionals(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Every positional argument below ``parser``: its dest, and its name in usage."""
    found: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                found |= positionals(command)
        elif not action.option_strings:
            found[action.dest] = str(action.metavar or action.dest)
    return found


@functools.cache
def _positionals() -> dict[str, str]:
    return positionals(_parser())


def _check_text(args: argparse.Namespace) -> None:
    """Refuse arguments that were not valid UTF-8 on the command line.

    Python hands such bytes over as lone surrogates, which no database or
    terminal can take.
    """
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any("\ud800" <= ch <= "\udfff" for ch in item):
                option = _positionals().get(name) or "--" + name.replace("_", "-")
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
    except Cancelled as exc:  # Ctrl-C, handled by the service at a safe point
        err(f"crm: interrupted; {one_line(exc)}")
        return EXIT_INTERRUPTED
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
