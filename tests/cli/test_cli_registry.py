"""The command registry: every group module registers its commands, each with a handler.

``app.build_parser`` asks each module of ``app.GROUP_MODULES`` to register
its commands; these tests walk the whole parser tree that results.
"""

from __future__ import annotations

import argparse
import ast
import pkgutil
from pathlib import Path

import pytest

import crm_desktop.cli
from crm_desktop.cli import app
from crm_desktop.cli.parser import Commands, Parser

CLI_DIR = Path(crm_desktop.cli.__file__).parent
GROUP_MODULE_NAMES = {group.name for group in app.GROUP_MODULES}


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(found) <= 1, parser.prog
    return found[0] if found else None


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser, its line in its parent's help) for every parser below ``parser``."""
    sub = _subcommands(parser)
    if sub is None:
        return
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    for name, child in sub.choices.items():
        yield (*path, name), child, helps.get(name)
        yield from walk(child, (*path, name))


def problems(parser: argparse.ArgumentParser) -> list[str]:
    """What is wrong with the commands below ``parser``: one sentence each."""
    found = []
    for path, child, help_text in walk(parser):
        where = "crm " + " ".join(path)
        if not (help_text and help_text.strip()):
            found.append(f"{where}: no help text")
        if not (child.description and child.description.strip()):
            found.append(f"{where}: no description")
        sub = _subcommands(child)
        handler = child._defaults.get("func")
        if sub is not None and sub.required:
            if handler is not None:
                found.append(f"{where}: a handler that can never run (a sub-command is required)")
            continue
        if not callable(handler):
            found.append(f"{where}: no handler")
        elif handler.__module__ not in GROUP_MODULE_NAMES:
            found.append(f"{where}: handler {handler.__qualname__} is not in a group module")
    return found


def test_every_command_has_a_handler_and_help_text():
    parser = app.build_parser()
    assert problems(parser) == []
    leaves = [path for path, child, _ in walk(parser) if _subcommands(child) is None]
    assert len(leaves) > 50  # the walk reaches every level (e.g. `crm audit key export`)
    assert ("audit", "key", "export") in leaves and ("exports", "show") in leaves


def test_every_command_runs_its_own_handler():
    """Parsing each command picks the handler registered for it, not a neighbour's."""
    parser = app.build_parser()
    handlers = {}
    for path, child, _ in walk(parser):
        if "func" in child._defaults:
            handlers[path] = child._defaults["func"]
    assert len(set(handlers.values())) == len(handlers)  # one handler per command
    args = parser.parse_args(["exports", "show", "3"])
    assert args.func is handlers[("exports", "show")]
    args = parser.parse_args(["exports"])
    assert args.func is handlers[("exports",)]


def _broken_parser() -> argparse.ArgumentParser:
    """A parser with a group module that registered commands the wrong ways."""
    parser = Parser(prog="crm")
    commands = Commands.top(parser.add_subparsers(dest="command", required=True))
    app.GROUP_MODULES[0].register(commands)  # a correct one beside the broken ones
    group = commands.group("broken", "A group whose module forgot things.")
    group._actions.add_parser("forgot", help="A command without a handler.", description="x")
    group.command("silent", app.main, "")  # a handler, but no help text
    mute = commands.command("mute", lambda args: 0, "A lambda written in the wrong place.")
    mute.description = None
    return parser


def test_the_check_finds_a_group_that_forgot_a_handler():
    found = problems(_broken_parser())
    assert "crm broken forgot: no handler" in found
    assert "crm broken silent: no help text" in found
    assert "crm broken silent: handler main is not in a group module" in found
    assert "crm mute: no description" in found
    assert "crm mute: handler _broken_parser.<locals>.<lambda> is not in a group module" in found
    assert not [line for line in found if line.startswith(("crm init", "crm demo"))]


def test_every_group_module_is_in_the_registry():
    """A *_commands module not listed in app.GROUP_MODULES would never be reachable."""
    on_disk = {
        f"crm_desktop.cli.{info.name}"
        for info in pkgutil.iter_modules([str(CLI_DIR)])
        if info.name.endswith("_commands")
    }
    assert on_disk == GROUP_MODULE_NAMES
    assert len(app.GROUP_MODULES) == len(GROUP_MODULE_NAMES)  # none listed twice


@pytest.mark.parametrize("group", app.GROUP_MODULES, ids=lambda group: group.module)
def test_each_group_module_registers_its_own_commands(group):
    """...and exactly the commands the registry lists for it (how a command finds its module)."""
    parser = Parser(prog="crm")
    commands = Commands.top(parser.add_subparsers(dest="command", required=True))
    group.register(commands)
    assert tuple(commands.helps or ()) == group.commands
    assert problems(parser) == []
    for path, child, _ in walk(parser):
        handler = child._defaults.get("func")
        if handler is not None:
            assert handler.__module__ == group.name, (path, handler)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, as absolute names."""
    names = set()
    package = "crm_desktop.cli"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_imports_stay_inside_the_cli_layer():
    """No module below app imports it (no cycles); nothing imports the GUI or Qt."""
    for path in sorted(CLI_DIR.glob("*.py")):
        imported = _imports(path)
        if path.stem not in ("app", "__init__", "__main__"):
            assert "crm_desktop.cli.app" not in imported, path.name
            # group modules meet only in app; they share commands, parser, support, output
            others = GROUP_MODULE_NAMES - {f"crm_desktop.cli.{path.stem}"}
            assert not imported & others, path.name
        assert not [n for n in imported if n.startswith(("crm_desktop.ui", "PySide6"))], path.name


def test_imports_helper_sees_relative_and_lazy_imports():
    """The check above would pass vacuously if the helper missed these forms."""
    imported = _imports(CLI_DIR / "sar_commands.py")
    assert "crm_desktop.cli.commands" in imported  # from .commands import ...
    assert "crm_desktop.reports.sar_pdf" in imported  # imported inside a function
    assert "crm_desktop.services.sar" in imported  # from ..services import sar


def test_each_positional_has_one_name_everywhere():
    """The not-UTF-8 refusal names a positional by its dest; one dest, one name."""
    names: dict[str, set[str]] = {}
    for _, child, _ in walk(app.build_parser()):
        for action in child._actions:
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
                names.setdefault(action.dest, set()).add(str(action.metavar or action.dest))
    assert {dest: len(shown) for dest, shown in names.items()} == dict.fromkeys(names, 1)
    assert app.positionals(app.build_parser()) == {d: s.pop() for d, s in names.items()}


def test_the_not_utf8_refusal_names_positionals_as_usage_shows_them(run_crm, db_path):
    """Found from the registered parsers, so a new group's positionals are named too.

    Before the registry, a fixed list in app.py left out `retention keep`'s
    people (reported as '--refs') and `retention months`' N ('--months').
    """
    from cli_support import assert_error

    bad = "a\udcff@example.com"
    assert_error(run_crm("--db", str(db_path), "retention", "keep", bad, "--reason=x"), 1,
                 "crm: error: EMAIL|ID is not valid text")  # fmt: skip
    assert_error(run_crm("--db", str(db_path), "retention", "months", "\udcff"), 1,
                 "crm: error: N is not valid text")  # fmt: skip
    assert_error(run_crm("--db", str(db_path), "prospect", "list", "--search", bad), 1,
                 "crm: error: --search is not valid text")  # fmt: skip
