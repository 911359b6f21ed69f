"""Entries removed from the end of the audit trail show against its head record.

The chain itself cannot show a shortened trail (what is left still links),
so its length and last hash are kept apart from it: a file beside a SQLite
database, a row only the schema owner may change on PostgreSQL. Each case
tampers the way someone with the database in hand would, then verifies.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
from sqlalchemy import delete, func, select, text
from sqlmodel import Session

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.persistence import audit_head, open_database
from crm_desktop.services import Context, audit, recovery
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P


@pytest.fixture
def trail(ctx):
    """A trail of a dozen entries or so."""
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record.id
    for i in range(10):
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"note {i}"))
    return pid


def _ids(ctx) -> list[int]:
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def _remove_last(ctx, n: int | None) -> None:
    """Delete the last ``n`` entries (all when None), as anyone with the database could."""
    ids = _ids(ctx)
    doomed = ids if n is None else ids[-n:]
    with ctx.db.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id.in_(doomed)))


def _side(ctx):
    return audit_head.sidecar_path(ctx.db.path)


def test_an_intact_trail_verifies_and_names_its_head(ctx, trail):
    result = audit.verify(ctx)
    with ctx.db.read() as session:
        count = session.scalar(select(func.count()).select_from(AuditEntry))
        last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    assert (result.ok, result.entries, result.last_hash, result.head_note) == (
        True,
        count,
        last,
        None,
    )
    if ctx.db.is_sqlite:
        side = _side(ctx)
        assert stat.S_IMODE(side.stat().st_mode) == 0o600
        assert json.loads(side.read_text())["length"] == count


@pytest.mark.parametrize("removed", [1, 5, None], ids=["last", "last-five", "all"])
def test_entries_removed_from_the_end_are_reported(ctx, trail, removed):
    before = audit.verify(ctx).entries
    _remove_last(ctx, removed)
    result = audit.verify(ctx)
    assert not result.ok
    if removed is None:
        # The keyed-trail check may name it first; either way it is caught.
        assert "removed from the end" in result.problem or "no keyed entry" in result.problem
    else:
        assert f"ends after {before - removed:,} entries" in result.problem
        assert "removed from the end" in result.problem


def test_a_forged_tail_after_removing_entries_is_reported(ctx, trail):
    """Entries removed and others appended in their place, hashes and all."""
    _remove_last(ctx, 2)
    # The forger appends with the app's own code (key and all), bypassing
    # Database.transaction, so nothing of ours moves a head file forward.
    with Session(ctx.db.write_engine) as session, session.begin():
        for i in range(2):
            audit.record(session, "alice", "correspondence.logged", "prospect", trail,
                         {"summary": f"forged {i}"})  # fmt: skip
    result = audit.verify(ctx)
    assert not result.ok
    assert "head record" in result.problem


def test_a_head_record_removed_is_reported_and_started_again(ctx, trail):
    if ctx.db.is_sqlite:
        _side(ctx).unlink()
    else:
        with ctx.db.transaction() as session:
            session.execute(text("DELETE FROM audit_head"))
    result = audit.verify(ctx)
    assert result.ok and "No head record was found" in result.head_note
    # Kept from now on: a later truncation shows again.
    C.log_contact(ctx, trail, ContactInput(kind="note", summary="after"))
    note = audit.verify(ctx).head_note
    assert "The head record was started on" in note and "cannot be seen" in note
    _remove_last(ctx, 1)
    assert "removed from the end" in audit.verify(ctx).problem


@pytest.mark.parametrize("edit", ["hash", "longer", "garbage"])
def test_a_head_record_altered_is_reported(ctx, trail, edit):
    if ctx.db.is_sqlite:
        side = _side(ctx)
        head = json.loads(side.read_text())
        if edit == "hash":
            head["hash"] = "f" * 64
        elif edit == "longer":
            head["length"] += 3
        side.write_text("{not json" if edit == "garbage" else json.dumps(head))
    else:
        change = {
            "hash": "hash = repeat('f', 64)",
            "longer": "length = length + 3",
            "garbage": "hash = 'x', length = 0, last_id = NULL",
        }[edit]
        with ctx.db.transaction() as session:
            session.execute(text(f"UPDATE audit_head SET {change}"))
    result = audit.verify(ctx)
    assert not result.ok
    expected = {
        "hash": "does not match its head record",
        "longer": "removed from the end",
        "garbage": "head record",
    }[edit]
    assert expected in result.problem


@pytest.mark.sqlite_only
def test_a_head_file_left_behind_is_accepted_and_caught_up(ctx, trail):
    """As after a kill between the commit and the head file's update."""
    side = _side(ctx)
    behind = side.read_text()
    for i in range(3):
        C.log_contact(ctx, trail, ContactInput(kind="note", summary=f"later {i}"))
    side.write_text(behind)
    result = audit.verify(ctx)
    assert result.ok and result.head_note is None
    assert json.loads(side.read_text())["length"] == result.entries  # caught up


@pytest.mark.sqlite_only
def test_a_head_file_behind_still_catches_its_own_entry_removed(ctx, trail):
    side = _side(ctx)
    behind = side.read_text()
    C.log_contact(ctx, trail, ContactInput(kind="note", summary="later"))
    side.write_text(behind)
    _remove_last(ctx, 2)  # the new entry and the one the head file names
    assert "removed from the end" in audit.verify(ctx).problem


@pytest.mark.sqlite_only
def test_a_database_copied_without_its_head_file_is_not_called_tampered(ctx, trail, tmp_path):
    ctx.db.dispose()
    laptop = tmp_path / "new-laptop"
    laptop.mkdir()
    shutil.copy(ctx.db.path, laptop / "crm.db")
    db = open_database(laptop / "crm.db")
    try:
        first = audit.verify(Context(db, "alice"))
        assert first.ok and "No head record was found" in first.head_note
        assert (laptop / "crm.db.audit-head").exists()
        again = audit.verify(Context(db, "alice"))
        assert again.ok and "started on" in again.head_note
    finally:
        db.dispose()


@pytest.mark.sqlite_only
def test_the_head_file_is_never_written_over_a_trail_that_disagrees(ctx, trail):
    """A writer finding the head disagreeing leaves it: it is the evidence."""
    _remove_last(ctx, 3)
    evidence = _side(ctx).read_text()
    C.log_contact(ctx, trail, ContactInput(kind="note", summary="after the removal"))
    assert _side(ctx).read_text() == evidence
    assert not audit.verify(ctx).ok


@pytest.mark.postgresql_only
def test_postgresql_a_login_that_may_only_append_moves_the_head_but_cannot_change_it(ctx):
    """What the server guarantees once people have logins that are not the schema owner.

    (SQLite keeps its head in a file beside the database instead.)
    """
    clerk = f"crm_test_clerk_{os.getpid()}"
    with ctx.db.engine.connect() as conn:  # rolled back at the end, role and all
        conn.exec_driver_sql(f"CREATE ROLE {clerk} NOLOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {clerk}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON audit_entry TO {clerk}")
        conn.exec_driver_sql(f"GRANT USAGE ON SEQUENCE audit_entry_id_seq TO {clerk}")
        conn.exec_driver_sql(f"SET LOCAL ROLE {clerk}")
        before = conn.exec_driver_sql("SELECT length FROM audit_head").scalar_one()
        conn.exec_driver_sql(
            "INSERT INTO audit_entry (at, actor, action, entity, values, value_hashes, "
            "prev_hash, hash) VALUES (now(), 'clerk', 'test', 'test', '{}', '{}', "
            "repeat('0', 64), repeat('c', 64))"
        )
        assert conn.exec_driver_sql("SELECT length, hash FROM audit_head").one() == (
            before + 1,
            "c" * 64,
        )
        for change in ("UPDATE audit_head SET length = 0", "DELETE FROM audit_head"):
            conn.exec_driver_sql("SAVEPOINT s")
            with pytest.raises(Exception, match="permission denied"):
                conn.exec_driver_sql(change)
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT s")
        conn.rollback()


@pytest.mark.sqlite_only
def test_the_next_start_catches_up_a_head_file_left_behind_and_says_nothing(ctx, trail):
    side = _side(ctx)
    behind = side.read_text()
    C.log_contact(ctx, trail, ContactInput(kind="note", summary="later"))
    side.write_text(behind)
    assert not [s for s in recovery.recover(ctx) if "head" in s]
    assert json.loads(side.read_text())["length"] == audit.verify(ctx).entries
    # A missing head file is left for verify to report, not started silently.
    side.unlink()
    recovery.recover(ctx)
    assert not side.exists()
