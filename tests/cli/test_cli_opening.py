"""A mistyped --db, a read-only database, and database passwords on the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cli_support import assert_error

from crm_desktop.persistence import open_database

ADA = ["prospect", "add", "--first-name=Ada", "--last-name=Lovelace", "--email=ada@example.com"]


def test_a_mistyped_db_path_is_refused_in_one_line_and_nothing_is_made(run_crm, tmp_path):
    typo = tmp_path / "missing" / "folders" / "typo.db"
    result = run_crm("--db", str(typo), "prospect", "list")
    assert_error(result, 1)
    assert result.err == (
        f"crm: error: No database at {typo}. Create one with: crm init --db {typo}\n"
    )
    assert not (tmp_path / "missing").exists()
    assert_error(run_crm("--db", str(typo), *ADA), 1, "No database at")
    assert not (tmp_path / "missing").exists()


def test_a_missing_crm_database_url_is_refused(run_crm, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATABASE_URL", str(tmp_path / "typo.db"))
    assert_error(run_crm("prospect", "list"), 1, "No database at", str(tmp_path / "typo.db"))
    assert not (tmp_path / "typo.db").exists()


def test_init_creates_what_the_refusal_names(run_crm, tmp_path):
    path = tmp_path / "new folder" / "crm.db"
    refused = run_crm("--db", str(path), "prospect", "list")
    assert f"crm init --db '{path}'" in refused.err
    created = run_crm("init", "--db", str(path))
    assert created.code == 0, created
    assert "Created a new database" in created.out
    listed = run_crm("--db", str(path), "prospect", "list", "--json")
    assert listed.code == 0 and listed.json() == []


def test_a_password_in_the_url_never_reaches_the_terminal(run_crm):
    url = "postgresql+psycopg://crm:hunter2secret@127.0.0.1:1/crm"
    result = run_crm("--db", url, "prospect", "list")
    assert_error(result, 1)
    assert "hunter2secret" not in result.err
    assert "crm:***@127.0.0.1" in result.err


def test_without_a_terminal_a_password_request_says_where_to_put_it(run_crm, monkeypatch):
    from crm_desktop.errors import PasswordRequiredError
    from crm_desktop.services import session

    def asks(*args, **kwargs):
        raise PasswordRequiredError("The database server asks for a password (db).")

    monkeypatch.setattr(session, "open_database", asks)
    result = run_crm("--db", "postgresql+psycopg://crm@db/crm", "prospect", "list")
    assert_error(result, 1, "asks for a password", "~/.pgpass", "PGPASSFILE")


def test_on_a_terminal_the_password_is_asked_for_and_used(run_crm, monkeypatch):
    from crm_desktop.cli import commands
    from crm_desktop.errors import PasswordRequiredError
    from crm_desktop.services import session

    passwords: list[str | None] = []
    prompts: list[str] = []

    def server(spec, *, create, password):
        passwords.append(password)
        if password != "right one":
            raise PasswordRequiredError("refused", refused=password is not None)
        return open_database(Path(os.environ["HOME"]) / "crm.db", create=True)

    answers = iter(["wrong", "right one"])
    monkeypatch.setattr(session, "open_database", server)
    monkeypatch.setattr(commands.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(commands.getpass, "getpass", lambda p: prompts.append(p) or next(answers))
    result = run_crm("--db", "postgresql+psycopg://crm:typed@db/crm", "prospect", "list")
    assert result.code == 0, result
    assert passwords == [None, "wrong", "right one"]
    assert prompts == ["Password for postgresql+psycopg://crm:***@db/crm: "] * 2
    assert "typed" not in result.err


# ------------------------------------------------ read-only, as a real user

AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _crm_as(args: list[str], prefix) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "crm_desktop.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def test_a_read_only_folder_reads_searches_and_refuses_exports_before_writing(run_crm):
    folder = Path(tempfile.mkdtemp(prefix="crm-ro-"))
    out_dir = Path(tempfile.mkdtemp(prefix="crm-ro-out-"))
    db_path = folder / "crm.db"
    try:
        os.chmod(folder, 0o755)
        os.chmod(out_dir, 0o777)
        open_database(db_path, create=True).dispose()
        assert run_crm("--db", str(db_path), *ADA).code == 0
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root (chmod cannot stop root) and setpriv is missing")
            prefix = AS_NOBODY
            if _crm_as(["--version"], prefix).returncode != 0:
                pytest.skip("running as root and 'nobody' cannot run Python")
        os.chmod(db_path, 0o444)
        os.chmod(folder, 0o555)  # no -wal or -shm file can be made here
        try:
            listed = _crm_as(["--db", str(db_path), "prospect", "list", "--json"], prefix)
            found = _crm_as(["--db", str(db_path), "prospect", "list", "--search=lovel"], prefix)
            out = out_dir / "list.csv"
            export = _crm_as(
                ["--db", str(db_path), "export", "--channel=email", f"--out={out}"], prefix
            )
        finally:
            os.chmod(folder, 0o755)
            os.chmod(db_path, 0o644)
        assert listed.returncode == 0, listed.stderr
        assert '"email": "ada@example.com"' in listed.stdout
        assert found.returncode == 0 and "Ada Lovelace" in found.stdout, found.stderr
        assert export.returncode == 1, export
        assert export.stderr.startswith("crm: error: The database is read-only")
        assert len(export.stderr.splitlines()) == 1
        assert list(out_dir.iterdir()) == []  # refused before any file was written
    finally:
        shutil.rmtree(folder)
        shutil.rmtree(out_dir)
