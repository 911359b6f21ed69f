"""Erasure tells the truth (issue 11, section 4).

The clean-up after an erasure (rewriting the database files) can fail after
the erasure was committed, be held back by another program's read, or be
cut short by a kill. The person is erased all the same and the result says
what is left; a clean-up is marked owed and the next start finishes it. The
reader and kill tests run real processes, on SQLite and, when
CRM_TEST_POSTGRES_URL is set, on PostgreSQL (whose files cannot be read from
here: there the mark and the messages are checked).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.persistence import open_database
from crm_desktop.persistence.db import Database
from crm_desktop.services import cleanup, recovery
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P
from crm_desktop.services import rights as R

REPO = Path(__file__).resolve().parents[2]


def _person(ctx, n: int) -> tuple[int, list[str]]:
    """A person whose details are easy to find in the files; their id and those details."""
    first, last = f"Zebedee{n:03d}", f"Quinlan{n:03d}-Farthing"
    email, phone = f"zebedee{n:03d}.quinlan@oakfield.sch.uk", f"07700 900{n:03d}"
    pid = P.create_prospect(
        ctx,
        ProspectInput(first_name=first, last_name=last, email=email, phone=phone,
                      role=f"SENCo {first}", school="Oakfield Primary"),
    ).record.id  # fmt: skip
    C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"Spoke to {first} {last}, {email}"))
    return pid, [first, last, email, phone]


GREP = textwrap.dedent(
    """
    import sys
    path, secrets = sys.argv[1], sys.argv[2:]
    count = 0
    for name in (path, path + "-wal"):
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            continue
        count += sum(raw.count(s.encode()) for s in secrets)
    print(count)
    """
)


def _matches(db: Database, secrets: list[str]) -> int:
    """How often any of ``secrets`` occurs in the database file and its log.

    Read by another process: closing a descriptor on the file in this one
    would drop the SQLite locks this process holds on it (howtocorrupt.html).
    """
    assert db.path is not None
    done = _run("-c", GREP, str(db.path), *secrets)
    assert done.returncode == 0, done
    return int(done.stdout)


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def _next_start(db: Database) -> subprocess.CompletedProcess[str]:
    """The next start of the app: a real `crm` command on the same database."""
    done = _run("-m", "crm_desktop.cli", "--db", db.url, "prospect", "list", "--limit", "1")
    assert done.returncode == 0, done
    return done


# ------------------------------------------------ secure_delete on every connection


@pytest.mark.sqlite_only
def test_every_connection_has_secure_delete_on_whatever_the_build(db_path, monkeypatch):
    """Many SQLite builds leave secure_delete off: connect as such a build would."""
    real_connect = sqlite3.connect

    def build_without_secure_delete(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", build_without_secure_delete)
    db = open_database(db_path, create=True)
    try:
        for engine in (db.engine, db.write_engine):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        raw = db.engine.raw_connection()  # what the clean-up uses
        try:
            assert raw.cursor().execute("PRAGMA secure_delete").fetchone()[0] == 1
        finally:
            raw.close()
    finally:
        db.dispose()
    # Read-only opening goes through its own connector.
    read_only = open_database(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    try:
        assert read_only.read_only
        with read_only.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        read_only.dispose()


# ------------------------------------------------ 1. a clean-up that fails after the erasure


def _fail_clean_up(monkeypatch, db: Database) -> None:
    """Make the clean-up fail with the error a full disk really gives on this backend."""
    if db.is_sqlite:

        def disk_full(cur, reader_wait_ms):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(Database, "_scrub_statements", staticmethod(disk_full))
    else:
        import psycopg.errors
        from sqlalchemy.exc import OperationalError

        def disk_full(conn):
            raise OperationalError(
                "VACUUM prospect",
                {},
                psycopg.errors.DiskFull(
                    'could not extend file "base/16384/16402": No space left on device'
                ),
            )

        monkeypatch.setattr(Database, "_vacuum_postgresql", staticmethod(disk_full))


def test_a_clean_up_that_fails_still_reports_the_erasure_and_is_finished_next_start(
    ctx, monkeypatch
):
    pid, secrets = _person(ctx, 1)
    with monkeypatch.context() as failing:
        _fail_clean_up(failing, ctx.db)
        erasure = R.erase(ctx, pid, confirm=f"{secrets[0]} {secrets[1]}")
    # The erasure stands and says so; the clean-up is reported as not finished.
    assert erasure.view.erased_at is not None and erasure.view.email is None
    assert P.get_prospect(ctx, pid).first_name == "Erased"
    done = erasure.cleanup
    assert done is not None and not done.finished and not done.reader
    assert done.problem == "the disk is full"
    assert "nothing was saved" not in done.outcome and "no trace" not in done.outcome
    assert done.outcome.startswith("the clean-up of the database files has not finished")
    assert "crm erase --finish-cleanup" in done.pending
    assert cleanup.owed_token(ctx.db) is not None  # it survives: a row in the database
    before = _matches(ctx.db, secrets) if ctx.db.is_sqlite else None
    # The next start finishes it and clears the mark.
    finished = recovery.recover(ctx)
    assert any(s.startswith("Finished the clean-up after an earlier erasure") for s in finished)
    assert cleanup.owed_token(ctx.db) is None
    assert not any("clean-up" in s for s in recovery.recover(ctx))  # nothing owed now
    if ctx.db.is_sqlite:
        assert before and _matches(ctx.db, secrets) == 0, before


def test_a_finished_clean_up_says_what_it_can_promise(ctx):
    pid, secrets = _person(ctx, 2)
    done = R.erase(ctx, pid, confirm=f"{secrets[0]} {secrets[1]}").cleanup
    assert done is not None and done.finished
    assert cleanup.owed_token(ctx.db) is None
    if ctx.db.is_sqlite:
        assert done.outcome == "no trace is left in the database files (checked)"
        assert _matches(ctx.db, secrets) == 0
    else:  # the server's own files cannot be read from here: no such promise
        assert "no trace" not in done.outcome and "vacuumed" in done.outcome
        assert "cannot be checked" in done.outcome


def test_nothing_owed_means_the_start_up_step_takes_no_lock(ctx, monkeypatch):
    """It runs before every command, even `crm prospect list`: a read, nothing else."""
    monkeypatch.setattr(Database, "transaction", lambda *a, **k: pytest.fail("took the write lock"))
    monkeypatch.setattr(Database, "scrub", lambda *a, **k: pytest.fail("cleaned for nothing"))
    assert cleanup.finish_owed(ctx) == []


# ------------------------------------------------ 2. erasure while another program reads

READER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import text
    from crm_desktop.persistence import open_database

    db = open_database(sys.argv[1])
    with db.read() as session:
        if db.dialect == "postgresql":  # a snapshot held throughout, as pg_dump holds one
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text("SELECT count(*), max(email) FROM prospect")).one()
        print("reading", flush=True)
        sys.stdin.readline()
    db.dispose()
    """
)


def test_erasure_while_another_process_reads_does_not_claim_no_trace(ctx):
    others = [_person(ctx, n) for n in range(10, 14)]  # some data around them
    pid, secrets = _person(ctx, 3)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, ctx.db.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert reader.stdout.readline().strip() == "reading", reader.stderr.read()
        started = time.monotonic()
        erasure = R.erase(ctx, pid, confirm=f"{secrets[0]} {secrets[1]}")
        took = time.monotonic() - started
        held = _matches(ctx.db, secrets) if ctx.db.is_sqlite else None
    finally:
        reader.stdin.write("done\n")
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0, reader.stderr.read()
    assert erasure.view.erased_at is not None  # erased all the same
    done = erasure.cleanup
    assert done is not None and not done.finished and done.reader
    assert "no trace" not in done.outcome
    assert "another program is reading the database" in done.pending
    assert cleanup.owed_token(ctx.db) is not None
    assert took < 10, f"the erasure waited {took:.1f} s for the reader"
    if ctx.db.is_sqlite:
        # What the old message hid: the reader's pages still hold the person.
        assert held, "expected the reader to hold the old pages"
    # The reader has closed, but this process still has the database open (so
    # nothing checkpoints on close): the next start finishes the clean-up.
    started_up = _next_start(ctx.db)
    assert "crm: Finished the clean-up after an earlier erasure" in started_up.stderr
    assert cleanup.owed_token(ctx.db) is None
    if ctx.db.is_sqlite:
        assert _matches(ctx.db, secrets) == 0
        assert held is not None
        print(f"reader: {held} matches while it read, 0 after the next start")
    assert all(P.get_prospect(ctx, other).email for other, _ in others)


# ------------------------------------------------ 3. a bulk anonymise killed part-way

ANONYMISE = textwrap.dedent(
    """
    import sqlite3, sys, time
    real_connect = sqlite3.connect

    def build_without_secure_delete(*args, **kwargs):  # as many SQLite builds are
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    sqlite3.connect = build_without_secure_delete
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, retention, rights

    url, ids, stop_after = sys.argv[1], [int(i) for i in sys.argv[2].split(",")], int(sys.argv[3])
    real_erase = rights.erase
    erased = 0

    def erase(*args, **kwargs):
        global erased
        result = real_erase(*args, **kwargs)
        erased += 1
        print("erased", erased, flush=True)
        if erased == stop_after:
            time.sleep(120)  # killed here
        return result

    rights.erase = erase
    ctx = Context(open_database(url), "alice")
    print("ready", flush=True)
    retention.anonymise(ctx, ids)
    print("finished", flush=True)
    """
)

# Killed once two erasures had committed, and once at a random moment after the
# first (during an erasure, between two, or during the clean-up).
KILL_ROUNDS = [("after", 2), ("random", 0)]


def test_a_killed_bulk_anonymise_leaves_no_trace_after_the_next_start(ctx):
    people = dict(_person(ctx, n) for n in range(20, 28))
    ids = list(people)
    rng = random.Random()  # whatever moment it lands on, the same must hold
    figures = []
    for how, stop_after in KILL_ROUNDS:
        todo = [i for i in ids if P.get_prospect(ctx, i).erased_at is None][:4]
        proc = subprocess.Popen(
            [sys.executable, "-c", ANONYMISE, ctx.db.url, ",".join(map(str, todo)),
             str(stop_after or 10_000)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            if how == "after":
                for n in range(1, stop_after + 1):
                    assert proc.stdout.readline().split() == ["erased", str(n)]
            else:
                assert proc.stdout.readline().split() == ["erased", "1"]
                delay = rng.uniform(0.0, 0.6)
                how = f"random +{delay:.2f}s"
                time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        erased = [i for i in todo if P.get_prospect(ctx, i).erased_at is not None]
        if stop_after:
            assert len(erased) == stop_after  # committed batches stand; nothing half-done
        for i in set(todo) - set(erased):
            assert P.get_prospect(ctx, i).first_name.startswith("Zebedee")
        secrets = [s for i in erased for s in people[i][2:]]  # their emails and phones
        owed = cleanup.owed_token(ctx.db)  # marked before the bulk began
        before = _matches(ctx.db, secrets) if ctx.db.is_sqlite and secrets else 0
        # Either a clean-up is owed, or it finished before the kill and left nothing.
        assert owed is not None or before == 0, (how, before)
        if stop_after:
            assert owed is not None
        _next_start(ctx.db)
        assert cleanup.owed_token(ctx.db) is None
        after = _matches(ctx.db, secrets) if ctx.db.is_sqlite and secrets else 0
        figures.append((how, len(erased), before, after))
        assert after == 0, figures
    print("kills (how, erased, matches before, after next start):", json.dumps(figures))


WRITER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # another program in the middle of a write
    print("writing", flush=True)
    sys.stdin.readline()
    conn.execute("ROLLBACK")
    """
)


@pytest.mark.sqlite_only
def test_the_start_up_step_leaves_the_clean_up_for_later_when_another_program_writes(ctx):
    pid, secrets = _person(ctx, 4)
    R.erase(ctx, pid, confirm=f"{secrets[0]} {secrets[1]}", scrub=False)
    assert cleanup.owed_token(ctx.db) is not None
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ctx.db.path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "writing"
        started = time.monotonic()
        assert cleanup.finish_owed(ctx) == []  # nothing finished, nothing raised
        assert time.monotonic() - started < 3  # a command is not kept waiting
        assert cleanup.owed_token(ctx.db) is not None  # left for the next start
    finally:
        writer.stdin.write("done\n")
        writer.stdin.close()
        writer.wait(timeout=30)
    assert cleanup.finish_owed(ctx) == [
        "Finished the clean-up after an earlier erasure: no trace is left in the database "
        "files (checked)."
    ]
    assert cleanup.owed_token(ctx.db) is None
