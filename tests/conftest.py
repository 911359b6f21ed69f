"""Shared fixtures. Qt runs offscreen; every test gets its own database file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from crm_desktop.persistence import open_database  # noqa: E402
from crm_desktop.services import Context  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BLNS = REPO.parent / "shared" / "corpora" / "blns.txt"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads or writes the real user-data folder or settings."""
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def db(db_path):
    database = open_database(db_path)
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
