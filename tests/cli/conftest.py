"""Fixtures for running the ``crm`` command in-process against a temp database."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Result

from crm_desktop.cli import main
from crm_desktop.persistence import open_database


@pytest.fixture
def run_crm(capsys):
    """Run ``crm ARGS...`` in-process; returns a :class:`cli_support.Result`."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def crm(run_crm, db_path: Path):
    """Run ``crm --db <this test's database> ARGS...``.

    The database is created (as ``crm init`` would) before the first command
    other than ``init``, since ``crm`` refuses a database that is not there;
    a file the test put there itself is left as it is.
    """

    def run(*args: str) -> Result:
        if not db_path.exists() and "init" not in args[:1]:
            open_database(db_path, create=True).dispose()
        return run_crm("--db", str(db_path), *args)

    return run


@pytest.fixture
def add(crm):
    """Add a prospect through the CLI; returns its JSON record."""

    def _add(first: str = "Ada", last: str = "Lovelace", *options: str, **named: str) -> dict:
        argv = ["prospect", "add", f"--first-name={first}", f"--last-name={last}", *options]
        if "email" not in named and not any(o.startswith(("--email", "--phone")) for o in options):
            named["email"] = f"{first}.{last}@example.com".lower()
        argv += [f"--{key.replace('_', '-')}={value}" for key, value in named.items()]
        result = crm(*argv, "--json")
        assert result.code == 0, result
        return result.json()

    return _add
