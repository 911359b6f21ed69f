"""persistence.bulk.insert_many stores exactly what SQLAlchemy's insert stores."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from crm_desktop.domain.models import Prospect
from crm_desktop.persistence import bulk


def row(i: int, now: datetime) -> dict:
    return {
        "first_name": f"Zoë {i}", "last_name": "O'Brien \"x\"", "email": f"p{i}@example.org",
        "email_key": f"p{i}@example.org", "phone": None if i % 2 else "+441632960001",
        "school_id": None, "role": None, "stage": "lead", "owner": "alice", "source": "import",
        "source_detail": "Bett", "source_date": date(2026, 3, i + 1),
        "last_contact_at": now if i % 2 else None, "next_follow_up": None,
        "lawful_basis": "none", "li_assessment_id": None, "li_note": None,
        "subscriber_type_override": None, "personalisation_refused": bool(i % 2),
        "erased_at": None, "restricted_at": None, "restriction_reason": None,
        "retention_kept_at": None, "created_at": now, "updated_at": now, "version": 1,
    }  # fmt: skip


def stored(db, keys) -> list[tuple]:
    with db.read() as session:
        conn = session.connection()
        marks = ",".join("?" * len(keys))
        raw = conn.exec_driver_sql(
            f"SELECT * FROM prospect WHERE email_key IN ({marks}) ORDER BY email_key", tuple(keys)
        ).all() if db.dialect == "sqlite" else []  # fmt: skip
        orm = session.scalars(
            select(Prospect).where(Prospect.email_key.in_(keys)).order_by(Prospect.email_key)
        ).all()
        return [tuple(r)[1:] for r in raw], [p.model_dump(exclude={"id"}) for p in orm]


def insert_reference(session, now: datetime) -> None:
    """The same four rows through SQLAlchemy's own insert, their addresses "ref-"-prefixed."""
    reference = [row(i, now) for i in range(4)]
    for r in reference:
        r["email"] = r["email_key"] = "ref-" + r["email"]
    session.execute(insert(Prospect.__table__), reference)


def assert_stored_as_the_reference(db) -> list[dict]:
    """The four rows hold what the reference rows hold, read back through the ORM and, on
    SQLite, as the very text stored; the rows read back through the ORM."""
    raw, orm = stored(db, [f"p{i}@example.org" for i in range(4)])
    raw_ref, orm_ref = stored(db, [f"ref-p{i}@example.org" for i in range(4)])
    for a, b in zip(orm, orm_ref, strict=True):
        b["email"] = b["email"].removeprefix("ref-")
        b["email_key"] = b["email_key"].removeprefix("ref-")
        assert a == b
    for a, b in zip(raw, raw_ref, strict=True):
        assert [x for x in a if not str(x).startswith(("p", "ref-p"))] == [
            x for x in b if not str(x).startswith(("p", "ref-p"))
        ]
    return orm


def test_the_same_rows_as_sqlalchemys_insert(db):
    now = datetime(2026, 12, 7, 9, 30, 1, 5, tzinfo=UTC)
    with db.transaction() as session:
        bulk.insert_many(session, Prospect.__table__, [row(i, now) for i in range(4)])
        insert_reference(session, now)
    orm_bulk = assert_stored_as_the_reference(db)
    assert orm_bulk[1]["last_contact_at"] == now and orm_bulk[0]["source_date"] == date(2026, 3, 1)


def test_a_column_with_a_default_must_be_given(db):
    now = datetime.now(UTC)
    incomplete = row(0, now)
    del incomplete["version"]
    with pytest.raises(ValueError, match="version"), db.transaction() as session:
        bulk.insert_many(session, Prospect.__table__, [incomplete])


@pytest.mark.sqlite_only  # converted rows are SQLite's driver values
def test_rows_converted_before_the_transaction_store_the_same(db):
    """The import converts its rows before taking the write lock and adds the values
    known only inside it (the school, the id) at the end of each."""
    now = datetime(2026, 12, 7, 9, 30, 1, 5, tzinfo=UTC)
    table = Prospect.__table__
    rows = [{k: v for k, v in row(i, now).items() if k != "school_id"} for i in range(4)]
    made = bulk.converted(db.engine.dialect, table, rows)
    assert all(isinstance(r, tuple) for r in made)
    names = [*rows[0], "school_id", "id"]
    with db.transaction() as session:
        bulk.insert_converted(session, table, names, [(*r, None, 100 + n) for n, r in
                                                       enumerate(made)])  # fmt: skip
        insert_reference(session, now)
    assert_stored_as_the_reference(db)
    with db.read() as session:
        ids = session.scalars(
            select(Prospect.id).where(Prospect.email_key.like("p%")).order_by(Prospect.id)
        ).all()
    assert ids == [100, 101, 102, 103]
