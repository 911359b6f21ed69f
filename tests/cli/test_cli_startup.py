"""``crm`` starts without loading what the command does not use.

``crm --version`` loads no database stack and no Qt; a command loads its own
group's module and no other; opening a database already at the head
revision does not load Alembic. Checked in a fresh interpreter (this test
process has everything loaded already) by printing ``sys.modules`` after
running the entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from crm_desktop import __version__
from crm_desktop.cli import app
from crm_desktop.persistence import open_database

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "PySide6", "pydantic")


def _modules_after(*argv: str, env: dict | None = None) -> tuple[int, set[str], str]:
    """Run ``crm ARGV`` through its entry point in a fresh interpreter; its exit
    status, the modules loaded by then, and what it printed."""
    code = textwrap.dedent(
        f"""
        import json, sys
        from crm_desktop.cli import main
        status = main({list(argv)!r})
        sys.stdout.flush()
        print("\\nMODULES " + json.dumps([status, sorted(sys.modules)]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    printed, _, tail = run.stdout.rpartition("\nMODULES ")
    assert tail, run.stderr
    status, modules = json.loads(tail)
    return status, set(modules), printed


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_version_loads_no_database_stack_and_no_qt():
    status, modules, printed = _modules_after("--version")
    assert status == 0
    assert printed.strip() == f"crm {__version__}"
    assert not _top(modules) & set(HEAVY), sorted(_top(modules) & set(HEAVY))
    assert not {group.name for group in app.GROUP_MODULES} & modules


def test_a_command_loads_only_its_own_group_and_no_alembic(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    status, modules, printed = _modules_after("--db", str(path), "prospect", "list", "--json")
    assert status == 0, printed
    assert json.loads(printed) == []
    loaded = {group.name for group in app.GROUP_MODULES} & modules
    assert loaded == {"crm_desktop.cli.prospect_commands"}
    assert "sqlalchemy" in _top(modules)  # it did open the database
    assert not _top(modules) & {"alembic", "PySide6"}


def test_help_still_lists_every_command():
    status, modules, printed = _modules_after("--help")
    assert status == 0
    for group in app.GROUP_MODULES:
        assert group.name in modules
        for command in group.commands:
            assert f"\n  {command} " in printed, command


def test_an_unknown_command_is_refused_naming_every_command(run_crm):
    result = run_crm("prospekt", "list")
    assert result.code == 2
    assert "invalid choice: 'prospekt'" in result.err
    assert "'retention'" in result.err and "'prospect'" in result.err


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["--version"], []),
        ([], []),
        (["--db", "x.db"], []),
        (["--db", "prospect", "log", "1"], ["prospect_commands"]),  # the value of --db
        (["--db=x.db", "--user", "sam", "export", "--preview"], ["export_commands"]),
        (["--", "sar", "1"], ["sar_commands"]),
        (["retention", "--help"], ["retention_commands"]),
        (["--help", "retention"], [g.module for g in app.GROUP_MODULES]),
        (["nothing-like-it"], [g.module for g in app.GROUP_MODULES]),
    ],
)
def test_the_groups_a_command_line_needs(argv, modules):
    assert [group.module for group in app.groups_for(argv)] == modules


def test_a_bare_crm_is_still_a_usage_error(run_crm):
    result = run_crm()
    assert result.code == 2
    assert "the following arguments are required: COMMAND" in result.err
