"""The ``crm`` command: the top parser, the registry of command groups, and ``main``.

Each module in :data:`GROUP_MODULES` registers its own commands and their
handlers (``register(commands)``, see :mod:`.parser`); this module only
builds the top parser, asks each to register, parses and dispatches. A new
command group is one new module and one line here (and its heading in
:data:`COMMAND_GROUPS`, the layout of ``crm --help``).

Group modules are imported only when needed: a command imports its own
group's module alone (found by the command's name in :data:`GROUP_MODULES`),
and ``crm --version`` none, so neither pays for the database stack of the
other groups (or any, for ``--version``). ``crm --help`` and an unknown
command import them all, to list every command.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import NamedTuple

from .. import __version__
from ..errors import Cancelled, CrmError
from .commands import EXIT_ERROR, EXIT_USAGE, CliError
from .output import err, one_line
from .parser import DB_HELP, USER_HELP, Commands, Parser

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for any Unix tool whose reader left


class Group(NamedTuple):
    """A command group: its module in this package, and the commands it registers."""

    module: str
    commands: tuple[str, ...]

    @property
    def name(self) -> str:
        """The module's full name."""
        return f"{__package__}.{self.module}"

    def register(self, commands: Commands) -> None:
        """Import the module (only now) and let it register its commands."""
        importlib.import_module(self.name).register(commands)


# The registry: every command group and the commands it registers, in the order
# they are added (the order argparse lists them in, e.g. in "invalid choice"
# errors). tests/cli/test_cli_registry.py checks each module registers exactly these.
GROUP_MODULES: tuple[Group, ...] = (
    Group("setup_commands", ("init", "demo")),
    Group("prospect_commands", ("prospect", "log", "followups")),
    Group("import_commands", ("imports", "import")),
    Group("duplicate_commands", ("duplicates", "merge")),
    Group(
        "marketing_commands",
        (
            "consent",
            "opt-out",
            "object",
            "basis",
            "subscriber-type",
            "personalisation",
            "permissions",
            "assessment",
        ),
    ),
    Group(
        "export_commands", ("export", "exports", "suppress", "suppressed", "import-unsubscribes")
    ),
    Group("admin_commands", ("user", "backup", "restore", "audit")),
    Group("request_commands", ("request",)),
    Group("sar_commands", ("sar",)),
    Group("settings_commands", ("settings",)),
    Group("history_commands", ("history",)),
    Group("rights_commands", ("restrict", "unrestrict", "erase")),
    Group("retention_commands", ("retention",)),
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


def build_parser(groups: Iterable[Group] | None = None) -> argparse.ArgumentParser:
    """``crm``'s parser with the commands of ``groups`` (default: every group).

    Only a parser with every group has the command list of ``crm --help``.
    """
    groups = GROUP_MODULES if groups is None else tuple(groups)
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
    for group in groups:
        group.register(commands)
    assert commands.helps is not None
    if groups == GROUP_MODULES:
        parser.epilog = _grouped_commands(commands.helps)
    return parser


def groups_for(argv: Sequence[str]) -> tuple[Group, ...]:
    """The groups whose commands ``argv`` needs parsed.

    The command is the first word that is not a top-level option (or the
    value of --db or --user). Its own group only; none when there is no
    command (``crm --version``, or ``crm`` alone: a usage error); every
    group for ``--help`` before the command, or a command no group
    registers (argparse's "invalid choice" error lists them all).
    """
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return GROUP_MODULES
        if word in ("--db", "--user"):
            next(words, None)
        elif word == "--" or not word.startswith("-"):
            command = next(words, None) if word == "--" else word
            found = tuple(g for g in GROUP_MODULES if command in g.commands)
            return found or GROUP_MODULES
    return ()


@functools.cache
def _parser(groups: tuple[Group, ...] = GROUP_MODULES) -> argparse.ArgumentParser:
    # Building takes ~10 ms (argparse looks up translations); parsing leaves
    # the parser unchanged, so one serves every call of main() in a process.
    return build_parser(groups)


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


def _check_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse arguments that were not valid UTF-8 on the command line.

    Python hands such bytes over as lone surrogates, which no database or
    terminal can take.
    """
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any("\ud800" <= ch <= "\udfff" for ch in item):
                option = positionals(parser).get(name) or "--" + name.replace("_", "-")
                raise CliError(f"{option} is not valid text (it has bytes that are not UTF-8).")


def _is_validation_error(exc: BaseException) -> bool:
    """A refusal of bad input by the domain's validation (one line, exit status 1).

    Looked up rather than imported: only a command that loaded the
    validation module can raise its error, and importing it here would
    load the domain models (and SQLModel) for ``crm --version``.
    """
    validation = sys.modules.get("crm_desktop.domain.validation")
    return validation is not None and isinstance(exc, validation.ValidationError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``crm`` command and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(groups_for(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        _check_text(parser, args)
        return args.func(args)
    except CliError as exc:
        err(f"crm: error: {one_line(exc)}")
        return exc.code
    except Cancelled as exc:  # Ctrl-C, handled by the service at a safe point
        err(f"crm: interrupted; {one_line(exc)}")
        return EXIT_INTERRUPTED
    except CrmError as exc:
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
    except Exception as exc:
        if not _is_validation_error(exc):
            raise
        err(f"crm: error: {one_line(exc)}")
        return EXIT_ERROR
