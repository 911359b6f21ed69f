"""``crm erase`` says what happened when the clean-up after it cannot finish (issue 11, 4)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_support import assert_error

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.persistence import open_database
from crm_desktop.persistence.db import Database
from crm_desktop.services import Context, cleanup
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P

REPO = Path(__file__).resolve().parents[2]
EMAIL = "zebedee.quinlan@oakfield.sch.uk"
SECRETS = ["Zebedee", "Quinlan-Farthing", EMAIL, "900777"]


def _fill(path: Path, others: int = 0) -> None:
    """Zebedee, and ``others`` people with long notes (a database of some size)."""
    db = open_database(path, create=True)
    ctx = Context(db, "alice")
    pid = P.create_prospect(
        ctx,
        ProspectInput(first_name="Zebedee", last_name="Quinlan-Farthing", email=EMAIL,
                      phone="07700 900777", role="SENCo"),
    ).record.id  # fmt: skip
    C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"Spoke to Zebedee, {EMAIL}"))
    for i in range(others):
        other = P.create_prospect(
            ctx, ProspectInput(first_name=f"P{i}", last_name="Other", email=f"p{i}@x.org")
        ).record.id
        C.log_contact(ctx, other, ContactInput(kind="note", summary="notes " * 800))
    db.dispose()


def _matches(path: Path) -> int:
    """Occurrences of Zebedee's details in the file and its log (read by this process:
    only while no connection of this process has the database open)."""
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.read_bytes().count(s.encode()) for f in files if f.exists() for s in SECRETS)


def _crm(path: Path, *args: str, script: str | None = None, limit: int = 0):
    argv = ["-c", script, str(limit)] if script else ["-m", "crm_desktop.cli"]
    return subprocess.run(
        [sys.executable, *argv, "--db", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


# `crm` with the files it may write capped at a size, as on a nearly full disk.
CAPPED = textwrap.dedent(
    """
    import resource, signal, sys
    from crm_desktop.cli import main

    limit = int(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_on_a_nearly_full_disk_erase_says_erased_and_that_the_clean_up_is_pending(db_path):
    _fill(db_path, others=60)
    # Room for the erasure (a few dozen pages), not for rewriting the whole file.
    assert db_path.stat().st_size > 800_000
    erased = _crm(db_path, "erase", EMAIL, "--yes", script=CAPPED, limit=300_000)
    assert erased.returncode == 0, erased
    assert "Traceback" not in erased.stderr
    assert erased.stdout.startswith(
        "Erased Zebedee Quinlan-Farthing (prospect #1): anonymised and addresses suppressed."
    ), erased
    assert "nothing was saved" not in erased.stdout + erased.stderr
    assert "no trace" not in erased.stdout + erased.stderr
    warning = erased.stderr.strip().splitlines()[-1]
    assert warning.startswith(
        "crm: warning: The clean-up of the database files has not finished: the disk"
    ), erased.stderr
    assert "crm erase --finish-cleanup" in warning
    before = _matches(db_path)  # the old pages are still in the file and its log
    # The erasure was committed, and the clean-up is owed (a row: it survives). Its
    # next start finishes it first (with room on the disk again).
    shown = _crm(db_path, "prospect", "show", "1", "--json")
    assert shown.returncode == 0, shown
    assert '"first_name": "Erased"' in shown.stdout
    assert (
        "crm: Finished the clean-up after an earlier erasure: no trace is left in the "
        "database files (checked)." in shown.stderr
    ), shown.stderr
    assert before > 0 and _matches(db_path) == 0, before
    db = open_database(db_path)
    assert cleanup.owed_token(db) is None
    db.dispose()


def _fail_vacuum(monkeypatch) -> None:
    def disk_full(cur, reader_wait_ms):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Database, "_scrub_statements", staticmethod(disk_full))


def test_finish_cleanup_finishes_what_an_erasure_left(crm, db_path, monkeypatch):
    _fill(db_path)
    done = crm("erase", "--finish-cleanup")
    assert done.code == 0, done
    assert done.out == "No clean-up is owed: every erasure's clean-up has finished.\n"
    with monkeypatch.context() as failing:
        _fail_vacuum(failing)
        erased = crm("erase", EMAIL, "--yes", "--json")
        assert erased.code == 0, erased
        body = erased.json()
        assert body["first_name"] == "Erased" and body["email"] is None
        assert body["cleanup"]["finished"] is False and not body["cleanup"]["checked"]
        assert body["cleanup"]["message"].startswith(
            "the clean-up of the database files has not finished: the disk is full"
        )
        # Still failing: the command says so and exits 1 (the start-up step said nothing).
        assert_error(crm("erase", "--finish-cleanup"), 1, "has not finished: the disk is full")
    finished = crm("erase", "--finish-cleanup")
    assert finished.code == 0, finished
    # Opening the database already finished it (as any command would), and says so.
    assert "crm: Finished the clean-up after an earlier erasure" in finished.err
    assert finished.out == "No clean-up is owed: every erasure's clean-up has finished.\n"


def test_erase_needs_a_person_unless_finishing_the_clean_up(crm):
    assert_error(crm("erase", "--yes"), 2, "Name the person to erase")
    assert_error(crm("erase", "1", "--finish-cleanup"), 1, "erases nobody")
