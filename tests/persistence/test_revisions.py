"""Opening a database at the head revision does not import Alembic.

The revisions this version knows, and its head, are read from the migration
files' ``revision``/``down_revision`` lines; these tests hold that reading
equal to Alembic's own answer (so a new migration is picked up, or the
reading refuses and Alembic is asked), and check in a fresh interpreter that
an at-head database opens without Alembic while an older one still
migrates.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from crm_desktop.persistence import db as D
from crm_desktop.persistence import open_database


def _alembic_chain() -> tuple[str, ...]:
    script = ScriptDirectory.from_config(D._alembic_config())
    return tuple(reversed([rev.revision for rev in script.walk_revisions()]))


def test_revisions_read_from_the_files_are_alembics():
    chain = D.read_revision_chain(D.MIGRATIONS_DIR / "versions")
    assert chain is not None, "a migration file's revision lines could not be read"
    assert chain == _alembic_chain()
    assert D.head_revision() == ScriptDirectory.from_config(D._alembic_config()).get_current_head()
    assert D.known_revisions() == frozenset(chain)


def _write(folder: Path, name: str, revision: str, down: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(
        f'"""A migration."""\n\nrevision{revision}\ndown_revision{down}\n\n\ndef upgrade():\n'
        "    pass\n",
        encoding="utf-8",
    )


def test_reading_follows_the_chain_not_the_file_names(tmp_path):
    _write(tmp_path, "b.py", ' = "x2"', ' = "x1"')
    _write(tmp_path, "a.py", ": str = 'x3'", ": str | None = 'x2'")  # annotated, single quotes
    _write(tmp_path, "c.py", ' = "x1"', " = None")
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    assert D.read_revision_chain(tmp_path) == ("x1", "x2", "x3")


@pytest.mark.parametrize(
    "files",
    [
        [],  # no migrations at all
        [("a.py", ' = "x1"', " = None"), ("b.py", ' = "x2"', ' = "x1"'),
         ("c.py", ' = "x3"', ' = "x1"')],  # a branch
        [("a.py", ' = "x1"', " = None"), ("b.py", ' = "x3"', ' = ("x1", "x2")')],  # a merge
        [("a.py", ' = "x1"', " = None"), ("b.py", ' = "x3"', ' = "x2"')],  # a gap
        [("a.py", " = make_id()", " = None")],  # not a plain string
        [("a.py", ' = "x1"', " = None"), ("b.py", ' = "x1"', ' = "x1"')],  # the same id twice
    ],
)  # fmt: skip
def test_reading_refuses_what_it_cannot_trust(tmp_path, files):
    for name, revision, down in files:
        _write(tmp_path, name, revision, down)
    assert D.read_revision_chain(tmp_path) is None


def _open_in_fresh_python(path: Path) -> dict:
    code = textwrap.dedent(
        f"""
        import json, sys
        from crm_desktop.persistence import open_database
        db = open_database({str(path)!r})
        with db.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        db.dispose()
        print(json.dumps({{"alembic": "alembic" in sys.modules, "stored": stored}}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_database_at_head_opens_without_importing_alembic(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    assert _open_in_fresh_python(path) == {"alembic": False, "stored": D.head_revision()}


def test_an_older_database_still_migrates(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # as the version before made it: one step down
        command.downgrade(D._alembic_config(connection), _alembic_chain()[-2])
    engine.dispose()
    assert _open_in_fresh_python(path) == {"alembic": True, "stored": D.head_revision()}
