"""Checking whether a file is ours reads it only: another program's file is left as it was."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from crm_desktop.errors import NotACrmDatabaseError
from crm_desktop.persistence import open_database


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_mode(path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def foreign(tmp_path):
    """Another program's SQLite file, in the default (rollback journal) mode."""
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO foo (name) VALUES ('kept as it was')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("create", [False, True])
def test_another_programs_file_is_refused_and_left_byte_for_byte(foreign, create):
    before = digest(foreign)
    names_before = sorted(p.name for p in foreign.parent.iterdir())
    with pytest.raises(NotACrmDatabaseError, match="not a CRM Desktop database"):
        open_database(foreign, create=create)
    assert digest(foreign) == before
    assert journal_mode(foreign) == "delete"
    assert sorted(p.name for p in foreign.parent.iterdir()) == names_before  # no -wal, -shm


def test_another_alembic_programs_file_is_refused_and_left_as_it_was(foreign):
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
    conn.commit()
    conn.close()
    before = digest(foreign)
    with pytest.raises(NotACrmDatabaseError, match="not a CRM Desktop database"):
        open_database(foreign)
    assert digest(foreign) == before
    assert journal_mode(foreign) == "delete"


def test_the_cli_leaves_another_programs_file_as_it_was(foreign):
    from crm_desktop.cli import main

    before = digest(foreign)
    assert main(["--db", str(foreign), "prospect", "list"]) == 1
    assert main(["--db", str(foreign), "init"]) == 1
    assert digest(foreign) == before
    assert journal_mode(foreign) == "delete"


def test_our_own_file_still_opens_and_is_in_wal_mode(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    db = open_database(path)
    db.dispose()
    assert journal_mode(path) == "wal"
