"""Exports and backups killed (SIGKILL, in real processes) leave a record and a file that agree.

Each run is a real ``python -m crm_desktop.cli`` process (through a small
launcher that can stop it at a named step); it is killed with SIGKILL, at a
precise dangerous moment or at a random one. Then the program is started
again (a ``crm`` command, which settles unfinished work first) and:

- no record is left "writing";
- every complete record has its file, with the recorded SHA-256, and one
  audit entry; an interrupted one has neither a file nor people;
- every file in the folder is a complete record's file or one that was
  there before (unchanged unless a complete record replaced it);
- no ``.part`` temporary file is left.

On SQLite and, when CRM_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crm_desktop.cli import main
from crm_desktop.domain.models import AuditEntry, BackupRun, ExportMember, ExportRun
from crm_desktop.formats.atomic import sha256_of
from crm_desktop.services.demo import generate_demo

# Runs ``crm ARGV...``; WHERE says when it kills itself with SIGKILL (a real
# kill -9: nothing after it runs): "export:STEP"/"backup:STEP" at a named
# step of the new code, "rename:before"/"rename:after" when the file is put
# in place at OUT (any version of the program), "never" not at all.
LAUNCHER = textwrap.dedent(
    """
    import os, signal, sys
    where, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    kind, _, step = where.partition(":")
    if kind in ("export", "backup"):
        from crm_desktop.services import backups, exports
        module = exports if kind == "export" else backups
        def reached(name):
            if name == step:
                die()
        module._reached = reached
    elif kind == "mark":  # say when each step is reached (the test kills at random)
        from crm_desktop.services import backups, exports
        module = exports if step == "export" else backups
        module._reached = lambda name: print(name, flush=True)
    elif kind == "rename":
        real = {name: getattr(os, name) for name in ("replace", "rename", "link")}
        def wrap(name):
            def move(src, dst, *args, **kwargs):
                if os.fspath(dst) != out:
                    return real[name](src, dst, *args, **kwargs)
                if step == "before":
                    die()
                real[name](src, dst, *args, **kwargs)
                die()
            return move
        for name in real:
            setattr(os, name, wrap(name))
    from crm_desktop.cli import main
    print("started", flush=True)
    sys.exit(main(argv))
    """
)

SMALL = 60  # people for the precise kills
BIG = 1_000  # people for the random ones: long enough an export to land inside


def populate(ctx, people: int) -> None:
    generate_demo(ctx, people, seed=3)
    with ctx.db.transaction() as session:
        # One statement instead of a set_lawful_basis call each (the export reads these).
        session.execute(
            text("UPDATE prospect SET lawful_basis = 'legitimate-interest', li_note = 'x'")
        )


def crm_process(db, where: str, out: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, where, str(out), "--db", db.url, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def export_args(out: Path, *extra: str) -> list[str]:
    return ["export", "--channel=email", f"--out={out}", "--campaign=Kill test", *extra]


def start_again(db, capsys) -> str:
    """Any crm command, as a person would run next: it settles unfinished work first.

    The test's own connections are closed first, as a new program would find
    them: ``crm`` reads the file's header with a plain open/close, which in a
    process that has the database open already drops that process's SQLite
    locks (sqlite.org/howtocorrupt.html, 2.2).
    """
    capsys.readouterr()
    db.dispose()
    assert main(["--db", db.url, "prospect", "list", "--json"]) == 0
    return capsys.readouterr().err


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _audited(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def assert_exports_agree(ctx, folder: Path, before: dict[str, bytes]) -> Counter:
    """The invariants above for exports; returns how many records ended in each state."""
    with ctx.db.read() as session:
        runs = list(session.scalars(select(ExportRun).order_by(ExportRun.id)))
        with_people = set(session.scalars(select(ExportMember.export_id).distinct()))
        audited = Counter(int(e.entity_id) for e in _audited(session, "export.created"))
    states = Counter(r.state for r in runs)
    assert states["writing"] == 0, runs
    files = _files(folder)
    assert not [n for n in files if n.endswith(".part")], files.keys()
    recorded = set()
    for r in runs:
        path = Path(r.file_name)
        if r.state == "complete":
            assert path.is_file(), f"export #{r.id} is complete but {path} is missing"
            assert sha256_of(path) == r.sha256, f"export #{r.id}: the file is not the one recorded"
            assert audited[r.id] == 1, f"export #{r.id} has {audited[r.id]} audit entries"
            assert (r.id in with_people) == (r.included > 0)
            recorded.add(path.name)
        else:
            assert r.state == "interrupted", r.state
            assert r.sha256 == "" and r.id not in with_people and audited[r.id] == 0
    for name, content in files.items():
        assert name in recorded or before.get(name) == content, f"{name} has no record"
    return states


def assert_backups_agree(ctx, folder: Path) -> Counter:
    with ctx.db.read() as session:
        runs = list(session.scalars(select(BackupRun).order_by(BackupRun.id)))
        audited = Counter(
            json.loads(e.values)["file"] for e in _audited(session, "database.backed-up")
        )
    states = Counter(r.state for r in runs)
    assert states["writing"] == 0, runs
    files = _files(folder)
    assert not [n for n in files if n.endswith(".part")], files.keys()
    # A backup's audit head file is written once the backup is in place, never before.
    heads = {n for n in files if n.endswith(".audit-head")}
    assert {n.removesuffix(".audit-head") for n in heads} <= set(files), files.keys()
    files = {n: b for n, b in files.items() if n not in heads}
    recorded = set()
    for r in runs:
        path = Path(r.file_name)
        if r.state == "complete":
            assert path.is_file() and sha256_of(path) == r.sha256, r
            assert audited[r.file_name] == 1, f"{path.name}: {audited[r.file_name]} audit entries"
            recorded.add(path.name)
        else:
            assert r.state == "interrupted" and audited[r.file_name] == 0, r
    # A complete backup may have its audit head file beside it (see persistence.audit_head).
    recorded |= {f"{name}.audit-head" for name in recorded} & set(files)
    assert set(files) == recorded, "a backup file without its record"
    return states


def wait_for(proc: subprocess.Popen[str], step: str) -> None:
    for line in proc.stdout:
        if line.strip() == step:
            return
    pytest.fail(f"the run ended before {step}: {proc.communicate()[1]}")


def time_from_record(db, kind: str, out: Path, *argv: str) -> float:
    """Seconds from a run's record being committed to its file being in place (unkilled)."""
    proc = crm_process(db, f"mark:{kind}", out, *argv)
    wait_for(proc, "recorded")
    began = time.monotonic()
    wait_for(proc, "published")
    took = time.monotonic() - began
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return took


def run_killed(db, where: str, out: Path, *argv: str) -> None:
    proc = crm_process(db, where, out, *argv)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {where}: {err}"


# --------------------------------------------------------------- exports

# (where it is killed, --overwrite, what the next start makes of it)
EXPORT_KILLS = [
    ("export:recorded", False, "interrupted"),  # recorded, no file begun
    ("export:part-created", False, "interrupted"),  # an empty temporary file
    ("export:written", False, "interrupted"),  # the whole list in the temporary file
    ("export:checked", False, "interrupted"),  # its SHA-256 committed, not in place
    ("rename:before", False, "interrupted"),
    ("rename:after", False, "complete"),  # in place (linked), record not completed
    ("export:published", False, "complete"),
    ("rename:before", True, "interrupted"),  # replacing: the old file must stay
    ("rename:after", True, "complete"),
]


@pytest.mark.parametrize(
    ("where", "overwrite", "outcome"),
    EXPORT_KILLS,
    ids=[f"{w}{'-overwrite' if o else ''}" for w, o, _ in EXPORT_KILLS],
)
def test_an_export_killed_at_a_precise_step(ctx, tmp_path, capsys, where, overwrite, outcome):
    populate(ctx, SMALL)
    folder = tmp_path / "lists"
    folder.mkdir()
    out = folder / "list.csv"
    if overwrite:
        out.write_bytes(b"last week's list\r\n")
    before = _files(folder)
    run_killed(ctx.db, where, out, *export_args(out, *(["--overwrite"] if overwrite else [])))

    told = start_again(ctx.db, capsys)
    states = assert_exports_agree(ctx, folder, before)
    assert states == Counter({outcome: 1})
    if outcome == "complete":
        assert "its record is now complete" in told
        assert out.is_file() and out.read_bytes() != b"last week's list\r\n"
        with ctx.db.read() as session:
            (entry,) = _audited(session, "export.created")
        assert entry.actor == "alice" or entry.actor  # the exporter (a one-user database)
        assert json.loads(entry.values)["recorded_on_next_start_by"]
    else:
        assert "failed (interrupted)" in told
        assert _files(folder) == before  # the old file, byte for byte, or nothing
    # Settled once: starting again finds nothing more to do.
    assert "Export #" not in start_again(ctx.db, capsys)


def test_an_export_killed_at_random_moments(ctx, tmp_path, capsys):
    """Rounds of one export killed after a random delay; reports what each left."""
    populate(ctx, BIG)
    folder = tmp_path / "lists"
    folder.mkdir()
    # How long a whole run takes from the launcher's start (unkilled).
    out = folder / "calibrate.csv"
    took = time_from_record(ctx.db, "export", out, *export_args(out))
    rng = random.Random(11)
    outcomes = Counter()
    for round_ in range(4):
        out = folder / f"list-{round_}.csv"
        before = _files(folder)
        proc = crm_process(ctx.db, "mark:export", out, *export_args(out))
        wait_for(proc, "recorded")
        time.sleep(rng.uniform(0, took * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        outcomes["finished first" if proc.returncode == 0 else "killed"] += 1
        start_again(ctx.db, capsys)
        with ctx.db.read() as session:
            last = session.scalar(select(ExportRun).where(ExportRun.file_name == str(out)))
        outcomes[f"record {last.state}" if last else "no record"] += 1
        assert_exports_agree(ctx, folder, before)
    print(f"\nrandom export kills ({ctx.db.dialect}, {took:.1f} s a run): {dict(outcomes)}")
    assert outcomes["killed"] >= 1


# --------------------------------------------------------------- backups


@pytest.fixture
def can_back_up(ctx):
    if not ctx.db.is_sqlite and not _has_pg_dump():
        pytest.fail("pg_dump should be installed beside the PostgreSQL test server")


def _has_pg_dump() -> bool:
    import shutil

    return shutil.which("pg_dump") is not None


BACKUP_KILLS = [
    ("backup:recorded", "interrupted"),
    ("backup:copied", "interrupted"),  # checked copy and its SHA-256, not in place
    ("rename:before", "interrupted"),
    ("rename:after", "complete"),  # in place, no audit entry yet
    ("backup:published", "complete"),
]


@pytest.mark.parametrize(("where", "outcome"), BACKUP_KILLS, ids=[w for w, _ in BACKUP_KILLS])
def test_a_backup_killed_at_a_precise_step(ctx, tmp_path, capsys, can_back_up, where, outcome):
    populate(ctx, 5)
    folder = tmp_path / "copies"
    folder.mkdir()
    out = folder / "crm-backup.db"
    run_killed(ctx.db, where, out, "backup", f"--out={out}")

    told = start_again(ctx.db, capsys)
    assert assert_backups_agree(ctx, folder) == Counter({outcome: 1})
    if outcome == "complete":
        assert "is now recorded in the audit trail" in told
    else:
        assert "was stopped before it was finished" in told
        assert not out.exists()
    assert "backup" not in start_again(ctx.db, capsys).lower()


def test_a_backup_killed_at_random_moments(ctx, tmp_path, capsys, can_back_up):
    populate(ctx, 300)
    folder = tmp_path / "copies"
    folder.mkdir()
    out = folder / "calibrate.db"
    took = time_from_record(ctx.db, "backup", out, "backup", f"--out={out}")
    rng = random.Random(5)
    outcomes = Counter()
    for round_ in range(3):
        out = folder / f"copy-{round_}.db"
        proc = crm_process(ctx.db, "mark:backup", out, "backup", f"--out={out}")
        wait_for(proc, "recorded")
        time.sleep(rng.uniform(0, took * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        outcomes["finished first" if proc.returncode == 0 else "killed"] += 1
        start_again(ctx.db, capsys)
        with ctx.db.read() as session:
            last = session.scalar(select(BackupRun).where(BackupRun.file_name == str(out)))
        outcomes[f"record {last.state}" if last else "no record"] += 1
        assert_backups_agree(ctx, folder)
    print(f"\nrandom backup kills ({ctx.db.dialect}, {took:.1f} s a run): {dict(outcomes)}")


DAILY = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, backups
    step = sys.argv[2]
    def reached(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)
    backups._reached = reached
    backups.daily_backup(Context(open_database(sys.argv[1]), "alice"), date(2026, 3, 4))
    """
)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("step", "outcome"), [("copied", "interrupted"), ("published", "complete")]
)
def test_the_daily_backup_killed(ctx, capsys, step, outcome):
    populate(ctx, 5)
    proc = subprocess.run(
        [sys.executable, "-c", DAILY, ctx.db.url, step], capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    start_again(ctx.db, capsys)
    daily = ctx.db.path.parent / "backups" / "daily"
    assert assert_backups_agree(ctx, daily) == Counter({outcome: 1})
    with ctx.db.read() as session:
        entries = _audited(session, "database.backed-up")
    assert [json.loads(e.values).get("automatic") for e in entries] == (
        ["daily"] if outcome == "complete" else []
    )
    assert not os.listdir(daily) if outcome == "interrupted" else True
