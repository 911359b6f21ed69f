"""Folders the app makes (data folder, backups) are owner-only whatever the umask."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from datetime import date

import pytest

from crm_desktop.persistence import backup as B
from crm_desktop.persistence import open_database
from crm_desktop.persistence.folders import make_private_folder
from crm_desktop.services import Context
from crm_desktop.services import backups as backup_service

pytestmark = pytest.mark.skipif(os.name != "posix", reason="folder modes are POSIX")


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o000, 0o002], ids=oct)
def test_the_data_folder_and_its_missing_parents_are_owner_only(tmp_path, mask):
    path = tmp_path / "home" / "data" / "crm.db"
    with umask(mask):
        open_database(path, create=True).dispose()
    assert mode(tmp_path / "home") == 0o700
    assert mode(tmp_path / "home" / "data") == 0o700
    assert mode(path) == 0o600


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=oct)
def test_automatic_backup_folders_are_owner_only(tmp_path, mask):
    db = open_database(tmp_path / "crm.db", create=True)
    try:
        with umask(mask):
            made = backup_service.daily_backup(Context(db, "alice"), today=date(2026, 3, 4))
    finally:
        db.dispose()
    assert len(made.made) == 2
    backups = tmp_path / "backups"
    for folder in (backups, backups / "daily", backups / "weekly"):
        assert mode(folder) == 0o700, folder


def test_a_backup_to_a_missing_folder_makes_it_owner_only(tmp_path):
    db = open_database(tmp_path / "crm.db", create=True)
    try:
        with umask(0o022):
            dest = B.backup_database(db, tmp_path / "copies" / "march" / "crm-copy.db")
    finally:
        db.dispose()
    assert mode(tmp_path / "copies") == 0o700
    assert mode(tmp_path / "copies" / "march") == 0o700
    assert mode(dest) == 0o600


def test_a_folder_that_already_exists_is_left_as_it_is(tmp_path):
    mine = tmp_path / "Documents"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    with umask(0o022):
        make_private_folder(mine / "crm")
    assert mode(mine) == 0o755
    assert mode(mine / "crm") == 0o700
