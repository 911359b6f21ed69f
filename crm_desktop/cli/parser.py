"""How ``crm``'s commands are declared: the parser class and the registration object.

Each command-group module has a ``register(commands)`` function that adds
its commands to a :class:`Commands` (``commands.command(...)`` for a command,
``commands.group(...)`` for one with sub-commands) and names the handler of
each. ``app.build_parser`` makes the top parser, hands each group module in
its registry the same :class:`Commands`, and lists what they registered in
``crm --help``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .commands import EXIT_USAGE

Handler = Callable[[argparse.Namespace], int]

DB_HELP = "database file or SQLAlchemy URL (default: $CRM_DATABASE_URL, else your data folder)"
USER_HELP = (
    "sign in as NAME (default: $CRM_USER); the password comes from $CRM_PASSWORD or a "
    "prompt. Needed once a database has more than one user."
)
JSON_HELP = "print one JSON document"


class _KeepDashes(list):
    """An option's own value list in which a value of ``--`` is kept."""

    def remove(self, value: object) -> None:
        if value != "--":
            super().remove(value)


_NEEDS_A_VALUE = re.compile(r"argument (\S+): expected one argument")


class Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit status 2).

    A value may begin with '-' when given as ``--option=-value``; given as
    ``--option -value`` it reads as another option, and the error says how.
    Every sub-command's parser is one of these too (argparse makes a
    sub-parser of its parent's class).
    """

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._typed = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse before Python 3.13 drops a "--" even when it is an option's
        # own value (--first-name=--), leaving an empty list where text
        # belongs. An option's values hold "--" only when typed after "=".
        if action.option_strings and "--" in arg_strings:
            arg_strings = _KeepDashes(arg_strings)
        return super()._get_values(action, arg_strings)

    def _dash_hint(self, message: str) -> str:
        match = _NEEDS_A_VALUE.fullmatch(message)
        if not match:
            return ""
        options = match.group(1).split("/")
        typed = getattr(self, "_typed", [])
        for given, after in zip(typed, typed[1:], strict=False):
            if given in options and after.startswith("-"):
                if after.split("=", 1)[0] in self._option_string_actions:
                    return ""  # another option: the value was left out
                return f" (a value that begins with '-' is given as {given}={after})"
        return ""

    def error(self, message: str) -> NoReturn:
        message += self._dash_hint(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _shared_options(*, json_default: Any) -> argparse.ArgumentParser:
    """--db, --user and --json, which every command also takes after its name.

    SUPPRESS as the default of --db and --user keeps a value given before the
    command (``crm --db X prospect list``).
    """
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS, help=DB_HELP)
    shared.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=USER_HELP)
    if json_default is argparse.SUPPRESS:
        shared.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help=JSON_HELP
        )
    else:
        shared.add_argument("--json", action="store_true", help=JSON_HELP)
    return shared


class Commands:
    """The commands of one level of ``crm``: the top level, or a group's sub-commands.

    Made by :meth:`top`; ``helps`` (top level only) collects each command's
    one-line help for ``crm --help``.
    """

    def __init__(
        self,
        actions: Any,  # argparse's _SubParsersAction, which has no public name
        shared: tuple[argparse.ArgumentParser, argparse.ArgumentParser],
        *,
        nested: bool = False,
        helps: dict[str, str] | None = None,
    ) -> None:
        self._actions = actions
        self._shared = shared
        # A command's options: --json is False unless given; for a command's
        # own sub-command (`crm exports show`) --json given before the
        # sub-command (`crm exports --json show 1`) must not be reset.
        self._options = shared[1] if nested else shared[0]
        self.helps = helps

    @classmethod
    def top(cls, actions: Any) -> Commands:
        """The top level, on ``crm``'s sub-parsers ``actions``."""
        shared = (
            _shared_options(json_default=False),
            _shared_options(json_default=argparse.SUPPRESS),
        )
        return cls(actions, shared, helps={})

    def _note(self, name: str, text: str) -> None:
        if self.helps is not None:
            self.helps[name] = text

    def command(self, name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        """Add the command NAME run by ``handler``; its parser, for its own arguments.

        ``text`` is both its line in the parent's help and its description.
        """
        parser = self._actions.add_parser(
            name, help=text, description=text, parents=[self._options], allow_abbrev=False
        )
        parser.set_defaults(func=handler)
        self._note(name, text)
        return parser

    def group(
        self, name: str, text: str, *, description: str | None = None, dest: str = "action"
    ) -> Commands:
        """Add NAME, which only holds sub-commands (one is required); those sub-commands.

        Which one was given is stored as ``dest``.
        """
        parser = self._actions.add_parser(
            name, help=text, description=description or text, allow_abbrev=False
        )
        self._note(name, text)
        actions = parser.add_subparsers(dest=dest, metavar="ACTION", required=True)
        return Commands(actions, self._shared)

    def optional_actions(self, parser: argparse.ArgumentParser) -> Commands:
        """Sub-commands of a command that also runs by itself (``crm exports [show ID]``)."""
        actions = parser.add_subparsers(dest="action", metavar="ACTION")
        return Commands(actions, self._shared, nested=True)
