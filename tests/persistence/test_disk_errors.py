"""A full or failing disk is named as such, never as a bare "disk I/O error"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections import namedtuple

import pytest
from sqlalchemy.exc import OperationalError

from crm_desktop.persistence import db as D
from crm_desktop.persistence import open_database

SQLITE_IOERR_WRITE = 778
SQLITE_IOERR_SHMSIZE = 4874
Usage = namedtuple("Usage", "total used free")


def driver_error(text: str, code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code
    return exc


@pytest.mark.parametrize("code", [SQLITE_IOERR_WRITE, SQLITE_IOERR_SHMSIZE, 10])
def test_an_io_error_says_the_disk_may_be_full_or_failing(tmp_path, code):
    error = D.friendly_db_error(driver_error("disk I/O error", code), str(tmp_path / "crm.db"))
    message = str(error)
    assert message.startswith("The disk may be full or failing")
    assert "nothing was saved" in message
    assert "Free some space" in message
    assert "disk I/O error" not in message


def test_an_io_error_on_a_disk_with_no_room_left_is_the_disk_full_message(tmp_path, monkeypatch):
    monkeypatch.setattr(D.shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 4096, 4096))
    wrapped = OperationalError("INSERT ...", {}, driver_error("disk I/O error", SQLITE_IOERR_WRITE))
    assert str(D.friendly_db_error(wrapped, str(tmp_path / "crm.db"))) == D.DISK_FULL_MESSAGE


def test_an_io_error_with_room_on_the_disk_is_not_called_full(tmp_path, monkeypatch):
    monkeypatch.setattr(D.shutil, "disk_usage", lambda path: Usage(10**9, 10**8, 9 * 10**8))
    error = D.friendly_db_error(driver_error("disk I/O error", SQLITE_IOERR_WRITE), str(tmp_path))
    assert str(error).startswith("The disk may be full or failing")


@pytest.mark.parametrize(
    ("text", "code"),
    [("database or disk is full", 13), ("some other wording", 13), ("No space left on device", 0)],
)
def test_a_full_disk_is_the_disk_full_message(text, code):
    assert str(D.friendly_db_error(driver_error(text, code))) == D.DISK_FULL_MESSAGE


SCRIPT = textwrap.dedent(
    """
    import json, resource, signal, sys
    from crm_desktop.cli import main

    db, limit = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    added = 0
    for i in range(500):
        code = main(["--db", db, "prospect", "add", "--first-name=Ada", f"--last-name=L{i}",
                     f"--email=ada{i}@example.com", "--role=" + "r" * 200])
        if code:
            break
        added += 1
    print(json.dumps({"added": added, "code": code}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_write_the_disk_refuses_is_reported_plainly_and_nothing_is_half_saved(tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    limit = path.stat().st_size + 96 * 1024
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in run.stderr, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["code"] == 1, run
    errors = [line for line in run.stderr.splitlines() if line.startswith("crm: error:")]
    assert len(errors) == 1, run.stderr
    assert "The disk may be full or failing" in errors[0] or "The disk is full" in errors[0]
    assert "nothing was saved" in errors[0]
    assert "disk I/O error" not in run.stderr
    # Every prospect reported as added is there, and the refused one is not.
    listed = subprocess.run(
        [sys.executable, "-m", "crm_desktop.cli", "--db", str(path), "prospect", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed
    emails = {row["email"] for row in json.loads(listed.stdout)}
    assert emails == {f"ada{i}@example.com" for i in range(result["added"])}
