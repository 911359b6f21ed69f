"""Backups carry the audit trail's head file: checked before a restore, put back by it."""

from __future__ import annotations

import json
import sqlite3
import stat
from datetime import date, timedelta

import pytest

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.errors import DatabaseError
from crm_desktop.persistence import audit_head, open_database
from crm_desktop.persistence import backup as B
from crm_desktop.services import Context, audit, backups
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P

pytestmark = pytest.mark.sqlite_only


def _head(path):
    return json.loads(audit_head.sidecar_path(path).read_text())


def _count(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def pid(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record.id
    for i in range(4):
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"note {i}"))
    return pid


def test_a_backup_has_the_head_of_its_copy_owner_only(ctx, pid, tmp_path):
    out = backups.back_up(ctx, tmp_path / "copy.db")
    side = audit_head.sidecar_path(out)
    assert stat.S_IMODE(side.stat().st_mode) == 0o600
    assert _head(out)["length"] == _count(out)
    assert B.check_backup(out) == B.head_revision()


@pytest.mark.parametrize("removed", [1, 3])
def test_a_backup_with_entries_removed_from_its_end_is_refused(ctx, pid, tmp_path, removed):
    out = backups.back_up(ctx, tmp_path / "copy.db")
    con = sqlite3.connect(out)
    con.execute(
        "DELETE FROM audit_entry WHERE id IN "
        f"(SELECT id FROM audit_entry ORDER BY id DESC LIMIT {removed})"
    )
    con.commit()
    con.close()
    with pytest.raises(DatabaseError, match="removed from the end"):
        B.check_backup(out)
    with pytest.raises(DatabaseError, match="removed from the end"):
        backups.restore(ctx, out)


def test_a_restore_puts_the_backups_head_back(ctx, pid, tmp_path, db_path):
    out = backups.back_up(ctx, tmp_path / "copy.db")
    noted = _head(out)
    for i in range(3):
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"after {i}"))
    assert _head(db_path)["length"] > noted["length"]
    backups.restore(ctx, out)
    assert _head(db_path) == noted
    db = open_database(db_path)
    try:
        result = audit.verify(Context(db, "alice"))
    finally:
        db.dispose()
    assert (result.ok, result.head_note) == (True, None)


def test_a_backup_without_a_head_file_restores_without_a_false_alarm(ctx, pid, tmp_path, db_path):
    out = backups.back_up(ctx, tmp_path / "copy.db")
    audit_head.sidecar_path(out).unlink()  # made before head files were kept, say
    C.log_contact(ctx, pid, ContactInput(kind="note", summary="after"))
    backups.restore(ctx, out)
    db = open_database(db_path)
    try:
        result = audit.verify(Context(db, "alice"))
    finally:
        db.dispose()
    assert result.ok and "No head record was found" in result.head_note


def test_daily_copies_carry_their_head_and_take_it_when_pruned(ctx, pid, db_path):
    start = date(2026, 3, 2)
    for day in range(9):
        backups.daily_backup(ctx, start + timedelta(days=day))
    daily = sorted((db_path.parent / "backups" / "daily").glob("*.db"))
    heads = sorted((db_path.parent / "backups" / "daily").glob("*.db.audit-head"))
    assert len(daily) == B.DAILY_KEEP
    assert [h.name for h in heads] == [d.name + ".audit-head" for d in daily]
    weekly = sorted((db_path.parent / "backups" / "weekly").glob("*.db"))
    assert weekly and all(B.check_backup(w) for w in weekly)
    assert all(_head(w)["length"] == _count(w) for w in weekly)
