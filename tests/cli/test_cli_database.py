"""Which database the command opens, and what it says when it cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from cli_support import assert_error

from crm_desktop.cli import prospect_commands
from crm_desktop.persistence import open_database

ADA = ["prospect", "add", "--first-name=Ada", "--last-name=Lovelace", "--email=ada@example.com"]


def test_crm_database_url_is_honoured(run_crm, tmp_path, monkeypatch):
    target = tmp_path / "from-env.db"
    monkeypatch.setenv("CRM_DATABASE_URL", str(target))
    assert run_crm("init").code == 0
    assert run_crm(*ADA).code == 0
    assert target.exists()
    monkeypatch.delenv("CRM_DATABASE_URL")
    assert [
        p["email"] for p in run_crm("--db", str(target), "prospect", "list", "--json").json()
    ] == ["ada@example.com"]
    # --db wins over the environment.
    monkeypatch.setenv("CRM_DATABASE_URL", str(target))
    other = tmp_path / "other.db"
    assert_error(run_crm("--db", str(other), "prospect", "list"), 1, f"No database at {other}")


def test_without_db_or_env_the_default_file_is_used(run_crm, tmp_path):
    result = run_crm("init")
    assert result.code == 0, result
    default = tmp_path / "xdg-data" / "crm-desktop" / "crm.db"  # conftest's XDG_DATA_HOME
    assert default.exists()
    assert str(default) in result.out


def test_db_is_also_accepted_after_the_command(run_crm, db_path):
    assert run_crm("init", "--db", str(db_path)).code == 0
    assert run_crm("prospect", *ADA[1:], "--db", str(db_path)).code == 0
    listed = run_crm("prospect", "list", "--json", "--db", str(db_path))
    assert [p["email"] for p in listed.json()] == ["ada@example.com"]


def test_a_file_that_is_not_a_database(crm, db_path):
    junk = b"this is not a database\x00\xff" * 100
    db_path.write_bytes(junk)
    assert_error(crm("prospect", "list"), 1, "is not a CRM Desktop database", str(db_path))
    assert_error(crm(*ADA), 1, "is not a CRM Desktop database")
    assert db_path.read_bytes() == junk  # left untouched


def test_a_folder_is_not_a_database(run_crm, tmp_path):
    assert_error(run_crm("--db", str(tmp_path), "init"), 1, "is a folder")


def test_a_sqlite_database_of_another_program(crm, db_path):
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    assert_error(crm("init"), 1, "not a CRM Desktop database")


def _subprocess_as(args: list[str], *, prefix: Sequence[str] = (), **kwargs):
    return subprocess.run(
        [*prefix, sys.executable, "-m", "crm_desktop.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


# chmod does not stop root, so as root the command runs as "nobody" instead.
AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def test_a_read_only_database_file(run_crm):
    # A folder of our own under /tmp, so "nobody" can reach it when we are root.
    folder = Path(tempfile.mkdtemp(prefix="crm-ro-"))
    db_path = folder / "crm.db"
    try:
        os.chmod(folder, 0o755)
        open_database(db_path, create=True).dispose()
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root (chmod cannot stop root) and setpriv is missing")
            prefix = AS_NOBODY
            probe = _subprocess_as(["--version"], prefix=prefix, cwd="/")
            if probe.returncode != 0:
                pytest.skip(f"running as root and 'nobody' cannot run Python: {probe.stderr}")
        os.chmod(db_path, 0o444)
        os.chmod(folder, 0o555)
        try:
            if prefix:
                proc = _subprocess_as(["--db", str(db_path), *ADA], prefix=prefix, cwd="/")
                code, out, err = proc.returncode, proc.stdout, proc.stderr
            else:
                result = run_crm("--db", str(db_path), *ADA)
                code, out, err = result.code, result.out, result.err
        finally:
            os.chmod(folder, 0o755)
            os.chmod(db_path, 0o644)
        assert code == 1, err
        assert out == ""
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert err.startswith("crm: error: The database is read-only")
        listed = run_crm("--db", str(db_path), "prospect", "list", "--json")
        assert listed.json() == []  # nothing was saved
    finally:
        shutil.rmtree(folder)


def test_a_database_opened_read_only_by_uri(run_crm, db_path, tmp_path, monkeypatch):
    # The persistence layer treats a URI's "file:..." name as a relative path
    # when it checks the file, so keep whatever that creates inside tmp_path.
    monkeypatch.chdir(tmp_path)
    assert run_crm("--db", str(db_path), "init").code == 0
    assert run_crm("--db", str(db_path), *ADA).code == 0
    read_only = f"sqlite:///file:{db_path}?mode=ro&uri=true"
    listed = run_crm("--db", read_only, "prospect", "list", "--json")
    assert [p["email"] for p in listed.json()] == ["ada@example.com"]
    edit = run_crm("--db", read_only, "prospect", "edit", "ada@example.com", "--role=Head")
    assert_error(edit, 1, "crm: error: The database is read-only")
    shown = run_crm("--db", str(db_path), "prospect", "show", "ada@example.com", "--json")
    assert shown.json()["role"] is None


def test_an_unknown_database_driver(run_crm):
    assert_error(run_crm("--db", "nosuchdb://host/name", "init"), 1, "crm: error:")


def test_interrupt_exits_130_with_a_short_message(crm, add, monkeypatch):
    add()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(prospect_commands.prospects, "list_prospects", interrupted)
    result = crm("prospect", "list")
    assert result.code == 130
    assert result.err == "crm: interrupted; the action in progress was not saved.\n"


def test_arguments_that_are_not_utf8_are_refused(crm):
    result = crm(*ADA[:2], "--first-name=Ad\udcff", "--last-name=L", "--email=a@example.com")
    assert_error(result, 1, "--first-name is not valid text")
    assert crm("prospect", "list", "--json").json() == []


# ---------------------------------------------------- real processes


def _crm_process(db_path: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return _subprocess_as(["--db", str(db_path), *args])


def _assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, fragment: str):
    assert proc.returncode == code, proc
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert fragment in proc.stderr


def test_end_to_end_in_a_real_process(db_path):
    assert _crm_process(db_path, "init").returncode == 0
    added = _crm_process(db_path, *ADA, "--json")
    assert added.returncode == 0, added.stderr
    assert '"email": "ada@example.com"' in added.stdout

    _assert_clean_failure(_crm_process(db_path, *ADA), 1, "is already the email of Ada Lovelace")
    _assert_clean_failure(_crm_process(db_path, "prospect", "show", "42"), 1, "No prospect")
    _assert_clean_failure(
        _crm_process(db_path, "log", "1", "--kind=fax", "--summary=x"), 1, "Kind:"
    )
    _assert_clean_failure(_crm_process(db_path, "prospect", "frobnicate"), 2, "invalid choice")
    _assert_clean_failure(
        _crm_process(db_path, b"prospect", b"show", b"\xff\xfe"), 1, "not valid text"
    )

    db_path.with_name("junk.db").write_bytes(b"\x00junk" * 50)
    junk = _subprocess_as(["--db", str(db_path.with_name("junk.db")), "prospect", "list"])
    _assert_clean_failure(junk, 1, "is not a CRM Desktop database")


def test_a_closed_pipe_ends_the_listing_quietly(db_path, ctx):
    from crm_desktop.services.demo import generate_demo

    generate_demo(ctx, 1000, seed=1)  # ~250 KB of JSON: more than a pipe holds
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_desktop.cli",
            "--db",
            str(db_path),
            "prospect",
            "list",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline() == b"[\n"
    proc.stdout.close()  # like `crm prospect list --json | head -1`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert stderr == ""
