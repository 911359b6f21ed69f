"""A large ``crm export`` stopped midway in a real process: Ctrl-C (SIGINT) or kill -9.

Either way the destination is never a partial file: it is absent, or the
previous file is left byte for byte. Ctrl-C records nothing; after kill -9
the next command marks the run "interrupted" and deletes its temporary file. The atomic
writer writes a hidden temporary file and renames it into place only after
fsync, so the test waits until that temporary file is being written before
it strikes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services.demo import generate_demo

pytestmark = pytest.mark.slow
PEOPLE = 20_000


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    """20,000 demo prospects, all with legitimate interest and a note."""
    path = tmp_path_factory.mktemp("big") / "crm.db"
    db = open_database(path, create=True)
    try:
        generate_demo(Context(db, user="test"), PEOPLE, seed=7)
        # A seam: one statement instead of 20,000 set_lawful_basis calls (about
        # a minute). The export only reads these columns; the ledger is not needed.
        with db.transaction() as session:
            session.execute(
                text(
                    "UPDATE prospect SET lawful_basis = 'legitimate-interest', "
                    "li_note = 'Demo: school outreach'"
                )
            )
    finally:
        db.dispose()
    return path


def _export_records(run_crm, db: Path) -> list[dict]:
    result = run_crm("--db", str(db), "exports", "--json")
    assert result.code == 0, result
    return result.json()


def _reset_sigint() -> None:
    # A test run started in the background may ignore SIGINT, and a child
    # inherits that; a person's terminal never does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_export(db: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_desktop.cli",
            "--db",
            str(db),
            "export",
            "--channel=email",
            f"--out={out}",
            "--campaign=Big",
            *extra,
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_reset_sigint,
    )


def _wait_for_partial_file(proc: subprocess.Popen[str], out: Path) -> Path:
    """The temporary file once it has rows in it (the export is midway)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, ("the export ended before it could be stopped", proc.stderr)
        for part in out.parent.glob(f".{out.name}.*.part"):
            try:
                if part.stat().st_size > 0:
                    return part
            except FileNotFoundError:
                continue
        time.sleep(0.005)
    proc.kill()
    pytest.fail("the export never started writing its temporary file")


def test_ctrl_c_midway_leaves_no_file_and_records_nothing(run_crm, big_db, tmp_path):
    before = _export_records(run_crm, big_db)
    out = tmp_path / "big.csv"
    proc = _start_export(big_db, out)
    part = _wait_for_partial_file(proc, out)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout == ""
    assert stderr == "crm: interrupted; Export cancelled; no file was written.\n"
    assert not out.exists()
    assert not part.exists()
    # Nothing left behind at all (the isolated configuration folder holds the
    # audit key, which the test database's first entry made).
    assert [p for p in tmp_path.iterdir() if p.name != "xdg-config"] == []
    assert _export_records(run_crm, big_db) == before


def test_kill_midway_leaves_the_previous_file_intact(run_crm, big_db, tmp_path):
    before = _export_records(run_crm, big_db)
    out = tmp_path / "big.csv"
    previous = b"Prospect ID,First name,Last name,Email\r\n1,Last,Week,lw@example.com\r\n"
    out.write_bytes(previous)
    proc = _start_export(big_db, out, "--overwrite")  # replacing it on purpose
    part = _wait_for_partial_file(proc, out)
    proc.kill()  # no chance to clean up: only the rename could ever replace the file
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == previous
    # The next command settles the run: failed (interrupted), its temporary file deleted.
    after = _export_records(run_crm, big_db)
    interrupted = after[0]
    assert after[1:] == before
    assert (interrupted["state"], interrupted["sha256"]) == ("interrupted", "")
    assert not part.exists()
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [out.name]
    assert out.read_bytes() == previous

    # The database took no harm: the same export now completes and is recorded.
    done = run_crm(
        "--db", str(big_db), "export", "--channel=email", f"--out={out}", "--overwrite", "--json"
    )  # fmt: skip
    assert done.code == 0, done
    record = done.json()
    assert record["replaced_file"] is True
    assert record["included"] + record["excluded"] == PEOPLE
    assert record["included"] > PEOPLE // 2
    assert out.read_bytes().count(b"\n") == record["included"] + 1
    assert [r["id"] for r in _export_records(run_crm, big_db)] == [
        record["id"],
        interrupted["id"],
        *(r["id"] for r in before),
    ]
