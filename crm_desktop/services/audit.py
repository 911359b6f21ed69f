"""Writing and verifying the audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from ..domain.audit import (
    ALTERED,
    BLANKED,
    GENESIS,
    REASON_KEY,
    REDACTING_ACTIONS,
    EntryFields,
    compare,
    entry_hash,
    hash_values,
    value_hash,
)
from ..domain.models import AuditEntry
from ..domain.roles import Action
from ..domain.types import utcnow
from .context import Context
from .views import _Jsonable


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    values: dict | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction (so it commits with the change).

    Writers are serialised by the caller's write transaction on SQLite and by
    locking the last entry on PostgreSQL, so the chain never forks.
    """
    values = values or {}
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash)
        .order_by(AuditEntry.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    prev = last.hash if last else GENESIS
    # Microsecond precision survives every database round trip.
    at = utcnow().replace(tzinfo=UTC)
    hashes = hash_values(values)
    if reason is not None:
        hashes[REASON_KEY] = value_hash(reason)
    fields = EntryFields(at, actor, action, entity, _id(entity_id), hashes, prev)
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=_id(entity_id),
        reason=reason,
        values=json.dumps(values, ensure_ascii=False, sort_keys=True, default=str),
        value_hashes=json.dumps(hashes, sort_keys=True),
        prev_hash=prev,
        hash=entry_hash(fields),
    )
    session.add(entry)
    session.flush()
    return entry


def record_change(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict,
    after: dict,
    reason: str | None = None,
) -> AuditEntry | None:
    """Record the fields that differ between ``before`` and ``after`` (old -> new).

    Nothing is written when nothing changed.
    """
    values = {
        key: {"old": before.get(key), "new": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
    if not values:
        return None
    return record(session, actor, action, entity, entity_id, values, reason)


def _id(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Verification(_Jsonable):
    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify(ctx: Context) -> Verification:
    """Check the whole chain; name the first entry that was altered, removed or moved.

    A blanked value or reason verifies only when a later entry records the
    erasure or deletion that blanked it; anything that cannot be read (not
    JSON, the wrong shape) is an alteration.
    """
    ctx.require(Action.VIEW_AUDIT)
    prev = GENESIS
    count = 0
    with ctx.db.read() as session:
        # The last redacting entry about each record: that record's entries
        # before it may be blank. Those entries are checked by the walk below
        # like every other, so one forged or altered is named there.
        redacted_until = {
            (entity, entity_id): last
            for entity, entity_id, last in session.execute(
                select(AuditEntry.entity, AuditEntry.entity_id, func.max(AuditEntry.id))
                .where(AuditEntry.action.in_(sorted(REDACTING_ACTIONS)))
                .group_by(AuditEntry.entity, AuditEntry.entity_id)
            )
        }
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(2000):
            count += 1
            if e.prev_hash != prev:
                return Verification(False, count, e.id, "does not follow the entry before it")
            problem = _problem(e, redacted_until)
            if problem is not None:
                return Verification(False, count, e.id, problem)
            prev = e.hash
    return Verification(True, count)


def _problem(e: AuditEntry, redacted_until: dict) -> str | None:
    """What is wrong with one entry whose place in the chain is right, if anything."""
    try:
        hashes = json.loads(e.value_hashes)
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        fields = EntryFields(at, e.actor, e.action, e.entity, e.entity_id, hashes, e.prev_hash)
        if entry_hash(fields) != e.hash:
            return "was altered"
    except (TypeError, ValueError, AttributeError):
        return "was altered (it cannot be read)"
    try:
        values = json.loads(e.values)
    except (TypeError, ValueError):
        return "has values that cannot be read"
    state = compare(values, e.reason, hashes)
    if state == ALTERED:
        return "has values that do not match"
    if state == BLANKED and redacted_until.get((e.entity, e.entity_id), 0) <= e.id:
        return "has values that were blanked, with no erasure or deletion recorded after it"
    return None


@dataclass(frozen=True)
class AuditView(_Jsonable):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    reason: str | None
    values: dict


def entries(ctx: Context, *, entity: str | None = None, entity_id: object = None, limit: int = 500):
    """Audit entries, newest first, optionally for one record."""
    ctx.require(Action.VIEW_AUDIT)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == str(entity_id))
    with ctx.db.read() as session:
        return [
            AuditView(
                e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.reason, json.loads(e.values)
            )  # fmt: skip
            for e in session.scalars(stmt)
        ]


def redact(session: Session, entity: str, entity_id: object) -> int:
    """Blank the stored values of one record's entries (erasure).

    The value hashes stay, so the chain still verifies; the values are gone.
    """
    count = 0
    for e in session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == entity, AuditEntry.entity_id == _id(entity_id)
        )
    ):
        values = json.loads(e.values)
        blank = {
            k: (
                {side: None for side in v}
                if isinstance(v, dict) and set(v) <= {"old", "new"}
                else None
            )
            for k, v in values.items()
        }
        if blank != values or e.reason:
            e.values = json.dumps(blank, sort_keys=True)
            e.reason = None
            count += 1
    return count
