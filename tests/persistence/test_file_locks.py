"""Opening a database never drops the SQLite locks this process already holds on it.

Closing any descriptor of a file releases every POSIX lock the process holds
on that file, so reading the file ourselves (say, its header) while a
connection here has it open would let another program change it under that
connection.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_desktop.errors import NotACrmDatabaseError
from crm_desktop.persistence import open_database

PROC_LOCKS = Path("/proc/locks")


def _locks_held(path: Path) -> list[str]:
    inode = f":{path.stat().st_ino} "
    pid = f" {os.getpid()} "
    # Each line: "<ordinal>: POSIX ADVISORY READ <pid> <dev>:<inode> <start> <end>";
    # the ordinal changes as other processes lock and unlock, the rest does not.
    return sorted(
        line.split(":", 1)[1]
        for line in PROC_LOCKS.read_text().splitlines()
        if pid in line and inode in line
    )


@pytest.mark.skipif(not PROC_LOCKS.exists(), reason="needs Linux /proc/locks to see the locks")
def test_opening_the_same_database_again_keeps_this_process_locks(db_path):
    open_database(db_path, create=True).dispose()
    db = open_database(db_path)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM prospect")).all()
            held = _locks_held(db_path)
            assert held, "a WAL connection holds a shared lock on the file"
            open_database(db_path).dispose()
            assert _locks_held(db_path) == held
    finally:
        db.dispose()


def test_a_file_that_is_not_sqlite_is_refused_by_name_and_left_as_it_was(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"just some text, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(NotACrmDatabaseError, match=r"notes\.db is not a CRM Desktop database\."):
        open_database(path)
    assert path.read_bytes() == before
