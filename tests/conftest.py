"""Shared fixtures. Qt runs offscreen; every test gets its own database file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from crm_desktop.domain.validation import ProspectInput  # noqa: E402
from crm_desktop.persistence import open_database  # noqa: E402
from crm_desktop.services import (
    Context,  # noqa: E402
    prospects,  # noqa: E402
)

REPO = Path(__file__).resolve().parent.parent
BLNS = REPO.parent / "shared" / "corpora" / "blns.txt"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads or writes the real user-data folder or settings."""
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


# Set by .ci/run (scripts/pg-test-server): service tests then run against a
# real PostgreSQL server as well as SQLite.
POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")


def pytest_generate_tests(metafunc):
    """Run the service and persistence tests that use ``db`` on each backend.

    Tests that also want ``db_path`` look at the SQLite file itself, and
    tests marked ``sqlite_only`` check SQLite's own behaviour: they run on
    SQLite only; those marked ``postgresql_only`` run on the server only.
    """
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            # Without a server (outside CI) pytest reports it as not run.
            metafunc.parametrize("backend", ["postgresql"] if POSTGRES_URL else [])
            return
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        layer = Path(str(metafunc.definition.path)).parent.name
        if (
            POSTGRES_URL
            and layer in ("services", "persistence")
            and "db_path" not in metafunc.fixturenames
            and not sqlite_only
        ):
            backends.append("postgresql")
        metafunc.parametrize("backend", backends)


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def db(backend, tmp_path):
    if backend == "postgresql":
        _reset_postgres(POSTGRES_URL)
        database = open_database(POSTGRES_URL, create=True)
    else:
        database = open_database(tmp_path / "crm.db", create=True)
    yield database
    database.dispose()


@pytest.fixture
def ctx(db) -> Context:
    return Context(db, user="alice")


def blns_lines() -> list[str]:
    """The Big List of Naughty Strings, without its comment lines."""
    if not BLNS.exists():
        pytest.fail(f"test corpus missing: {BLNS}")
    lines = BLNS.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture
def add_prospect(ctx):
    """``add_prospect("Ada", "Lovelace", school="...")`` -> id, through the service."""

    def add(first: str, last: str, **fields) -> int:
        data = ProspectInput(first_name=first, last_name=last, **fields)
        if not data.email and not data.phone:
            data.email = f"{first}.{last}@example.sch.uk".lower()
        return prospects.create_prospect(ctx, data).record.id

    return add
