"""Which databases are created, which open read-only, and that no password is ever shown."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.errors import (
    DatabaseError,
    DatabaseMissingError,
    PasswordRequiredError,
    ReadOnlyDatabaseError,
)
from crm_desktop.persistence import mask_secrets, open_database, safe_url
from crm_desktop.persistence.db import friendly_db_error
from crm_desktop.services import Context
from crm_desktop.services import prospects as P


def test_a_missing_path_is_refused_and_nothing_is_created(tmp_path):
    typo = tmp_path / "no" / "such" / "folder" / "typo.db"
    with pytest.raises(DatabaseMissingError) as caught:
        open_database(typo)
    assert str(caught.value) == f"No database at {typo}. Create one with: crm init --db {typo}"
    assert not (tmp_path / "no").exists()


def test_an_empty_file_is_no_database_and_stays_empty(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(DatabaseMissingError, match="No database at"):
        open_database(empty)
    assert empty.stat().st_size == 0


def test_create_makes_the_folders_and_the_file(tmp_path):
    path = tmp_path / "new" / "folder" / "crm.db"
    open_database(path, create=True).dispose()
    assert path.stat().st_size > 0
    open_database(path).dispose()  # and from then on it opens without create


def test_the_default_file_is_created_on_first_start(tmp_path):
    db = open_database(None)
    try:
        assert db.path == tmp_path / "xdg-data" / "crm-desktop" / "crm.db"  # conftest's XDG
        assert db.path.exists()
    finally:
        db.dispose()


def test_a_missing_crm_database_url_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATABASE_URL", str(tmp_path / "typo.db"))
    with pytest.raises(DatabaseMissingError, match="No database at"):
        open_database(None)
    assert not (tmp_path / "typo.db").exists()


def test_a_path_with_spaces_is_quoted_in_the_suggested_command(tmp_path):
    path = tmp_path / "my crm.db"
    with pytest.raises(DatabaseMissingError) as caught:
        open_database(path)
    assert str(caught.value).endswith(f"crm init --db '{path}'")


def test_a_read_only_uri_opens_read_only_and_refuses_writes_up_front(db_path):
    open_database(db_path, create=True).dispose()
    db = open_database(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    try:
        assert db.read_only
        ctx = Context(db, "alice")
        assert P.count_prospects(ctx) == 0
        with pytest.raises(ReadOnlyDatabaseError, match="read-only"):
            P.create_prospect(ctx, ProspectInput(first_name="A", last_name="B", email="a@b.org"))
    finally:
        db.dispose()
    assert not open_database(db_path).read_only


def test_a_read_only_folder_is_read_with_immutable(tmp_path, monkeypatch):
    """A WAL database in a folder we may not write has no -wal/-shm to make: still readable."""
    from crm_desktop.persistence import db as dbmod

    path = tmp_path / "crm.db"
    writable = open_database(path, create=True)
    P.create_prospect(
        Context(writable, "a"), ProspectInput(first_name="A", last_name="B", email="a@b.org")
    )
    writable.dispose()
    assert not path.with_name("crm.db-wal").exists()
    # As root, chmod does not stop us, so say the folder is not writable.
    monkeypatch.setattr(dbmod, "_sqlite_writable", lambda p: False)
    connects: list[str] = []
    real_connect = sqlite3.connect

    def recording_connect(database, *args, **kwargs):
        connects.append(str(database))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(dbmod.sqlite3, "connect", recording_connect)
    db = open_database(path)
    try:
        assert db.read_only
        assert P.count_prospects(Context(db, "x")) == 1
        assert connects and all("mode=ro" in uri for uri in connects)
    finally:
        db.dispose()


def test_an_old_read_only_database_says_it_needs_an_upgrade(tmp_path):
    from test_db import _create_at_first_revision

    path = tmp_path / "old.db"
    _create_at_first_revision(path)
    before = path.read_bytes()
    with pytest.raises(ReadOnlyDatabaseError, match="must be upgraded.*read-only"):
        open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert path.read_bytes() == before


# ----------------------------------------------------------- passwords

SECRET = "s3cr3t-P@ss/w:rd"


def test_safe_url_masks_the_password():
    from sqlalchemy.engine import URL

    url = URL.create("postgresql+psycopg", "crm", SECRET, "db.example", 5432, "crm")
    text = url.render_as_string(hide_password=False)
    assert SECRET not in safe_url(text)
    assert safe_url(text) == "postgresql+psycopg://crm:***@db.example:5432/crm"
    assert SECRET not in mask_secrets(f"could not connect to {text}", text)
    assert mask_secrets("host=x password='a b c' user=crm") == "host=x password=*** user=crm"
    assert mask_secrets("see postgresql://crm:hunter2@h/db") == "see postgresql://crm:***@h/db"


def test_a_connection_error_never_shows_the_password():
    url = (
        f"postgresql+psycopg://crm:{SECRET.replace('/', '%2F').replace('@', '%40')}@127.0.0.1:1/crm"
    )
    with pytest.raises(DatabaseError) as caught:
        open_database(url)
    assert "hunter" not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_a_driver_message_quoting_the_password_is_masked():
    url = "postgresql+psycopg://crm:hunter2@db/crm"
    exc = OperationalError("connect", {}, Exception("bad conninfo: password=hunter2 host=db"))
    error = friendly_db_error(exc, url)
    assert "hunter2" not in str(error)
    assert "crm:***@db" in str(error)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ('FATAL:  password authentication failed for user "crm"', True),
        ("fe_sendauth: no password supplied", False),
    ],
)
def test_a_server_asking_for_a_password_is_recognised(text, refused):
    exc = OperationalError("connect", {}, Exception(text))
    error = friendly_db_error(exc, "postgresql+psycopg://crm@db/crm")
    assert isinstance(error, PasswordRequiredError)
    assert error.refused is refused


def test_a_given_password_reaches_the_engine_but_not_the_name(tmp_path, monkeypatch):
    from crm_desktop.persistence import db as dbmod

    seen = {}

    def fake_make_engine(url, *, create):
        seen["url"] = url
        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(dbmod, "_make_engine", fake_make_engine)
    with pytest.raises(DatabaseError) as caught:
        open_database("postgresql+psycopg://crm@db/crm", password="hunter2")
    assert ":hunter2@" in seen["url"]
    assert "hunter2" not in str(caught.value)
