"""Writing and verifying the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, text
from sqlmodel import Session

from ..domain.audit import (
    ALTERED,
    BLANKED,
    GENESIS,
    REASON_KEY,
    REDACTING_ACTIONS,
    EntryFields,
    blank_values,
    canonical,
    chain_hasher,
    compare,
    entry_hash,
    hash_values,
    stored_object,
    value_hash,
)
from ..domain.models import AuditEntry
from ..domain.roles import Action
from ..domain.types import utcnow
from ..persistence import audit_head, audit_keys, bulk
from ..persistence.db import PG_WRITE_LOCK
from . import recovery
from .context import Context
from .results import Jsonable


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

    Writers are serialised by the caller's write transaction: ``BEGIN
    IMMEDIATE`` on SQLite, the write lock every write transaction takes first
    on PostgreSQL (see persistence.db._begin_postgresql), so the last entry
    read here is the last there is, and the chain never forks. After the
    commit, the trail's head record moves forward (see persistence.audit_head).
    """
    values = values or {}
    if session.get_bind().dialect.name == "postgresql":
        # Already held when the transaction came from Database.transaction();
        # taken (re-entrantly) for any other caller, so none can fork the chain.
        session.execute(text(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.key_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    prev = last.hash if last else GENESIS
    # Microsecond precision survives every database round trip.
    at = utcnow().replace(tzinfo=UTC)
    hashes = hash_values(values)
    if reason is not None:
        hashes[REASON_KEY] = value_hash(reason)
    # Signed with the database's key kept outside it (see persistence.audit_keys).
    signing = audit_keys.signing_key(session, last.key_id if last else None)
    key_id, key = signing if signing else (None, None)
    fields = EntryFields(at, actor, action, entity, _id(entity_id), hashes, prev, key_id)
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
        hash=entry_hash(fields, key),
        key_id=key_id,
    )
    session.add(entry)
    session.flush()
    audit_head.note_appended(session)
    return entry


@dataclass(slots=True)
class PreparedEntry:
    """An entry's stored texts, made before the write transaction (see :func:`prepare_entries`).

    Only its place in the chain (the previous hash, its own hash, the time)
    is left for :func:`record_prepared`, inside the transaction; ``entity_id``
    may be set meanwhile (the id of a row inserted in that transaction).
    """

    action: str
    entity: str
    entity_id: str | None
    reason: str | None
    values: str  # the stored JSON of the values
    value_hashes: str  # the stored JSON of their hashes
    hashes_text: str  # the same hashes as the chain covers them (canonical JSON)


# Made once: json.dumps with options makes a new encoder for every call.
_VALUES_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
_HASHES_JSON = json.JSONEncoder(sort_keys=True)


def prepare_entries(
    entries: Iterable[tuple[str, str, object, dict]], reason: str | None = None
) -> list[PreparedEntry]:
    """Entries ``(action, entity, entity_id, values)`` with their values hashed and stored
    as text, exactly as :func:`record` stores them: the slow part of writing many
    entries, which needs no lock. Hand them to :func:`record_prepared`."""
    memo: dict[str, str] = {}
    reason_hash = value_hash(reason) if reason is not None else None
    out = []
    for action, entity, entity_id, values in entries:
        hashes = hash_values(values, memo)
        if reason_hash is not None:
            hashes[REASON_KEY] = reason_hash
        out.append(
            PreparedEntry(
                action,
                entity,
                _id(entity_id),
                reason,
                _VALUES_JSON.encode(values),
                _HASHES_JSON.encode(hashes),
                canonical(hashes),
            )  # fmt: skip
        )
    return out


def record_prepared(session: Session, actor: str, entries: Sequence[PreparedEntry]) -> int:
    """Append prepared entries in one statement, chained in order, signed with one key.

    The same entries :func:`record` would write one by one. Returns how many.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.key_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    prev = last.hash if last else GENESIS
    signing = audit_keys.signing_key(session, last.key_id if last else None)
    key_id, key = signing if signing else (None, None)
    at = utcnow().replace(tzinfo=UTC)
    chain = chain_hasher(at, actor, key_id, key)
    if not entries:
        return 0
    table = AuditEntry.__table__
    names = ("at", "actor", "action", "entity", "entity_id", "reason", "values",
             "value_hashes", "prev_hash", "hash", "key_id")  # fmt: skip
    sqlite = session.get_bind().dialect.name == "sqlite"
    # The time as the driver stores it, made once (the same for every entry).
    stored_at = (
        bulk.converted(session.get_bind().dialect, table, [{"at": at}])[0][0] if sqlite else at
    )
    rows = []
    for e in entries:
        hash_ = chain(e.action, e.entity, e.entity_id, e.hashes_text, prev)
        rows.append(
            (stored_at, actor, e.action, e.entity, e.entity_id, e.reason, e.values,
             e.value_hashes, prev, hash_, key_id)
        )  # fmt: skip
        prev = hash_
    if sqlite:  # tuples as the driver takes them: no row of dicts to build and convert
        bulk.insert_converted(session, table, names, rows)
    else:
        bulk.insert_many(session, table, [dict(zip(names, r, strict=True)) for r in rows])
    for _ in rows:
        audit_head.note_appended(session)
    return len(rows)


def record_many(
    session: Session,
    actor: str,
    entries: Iterable[tuple[str, str, object, dict]],
    reason: str | None = None,
) -> int:
    """Append many entries ``(action, entity, entity_id, values)`` in one statement.

    The same entries :func:`record` would write one by one (a bulk action
    audits each person it touched), chained in order, signed with one key,
    and inserted together instead of one flush each. Returns how many.
    """
    return record_prepared(session, actor, prepare_entries(entries, reason))


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
class Verification(Jsonable):
    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None
    # The audit key (see persistence.audit_keys): the first keyed entry (None: the trail
    # is not keyed, so anyone who can write the database could recompute it),
    # how many keyed entries were checked for their links only because their
    # key is not on this computer, and those keys' fingerprints.
    keyed_from: int | None = None
    unchecked: int = 0
    missing_keys: tuple[str, ...] = ()
    # The trail's head as walked (its length is ``entries``): the last
    # entry's hash, for a person to note and compare later, and what the
    # head record kept apart from the trail could not vouch for (see
    # persistence.audit_head), if anything.
    last_hash: str | None = None
    head_note: str | None = None

    @property
    def complete(self) -> bool:
        """Nothing wrong was found and every entry's hash could be checked here."""
        return self.ok and self.unchecked == 0

    @property
    def key_report(self) -> str:
        """One or two sentences on what the key let this check cover."""
        return key_report(self.keyed_from, self.unchecked, self.missing_keys)


def key_report(keyed_from: int | None, unchecked: int, missing_keys: tuple[str, ...]) -> str:
    if keyed_from is None:
        return (
            "The trail is not keyed: anyone who can write the database could recompute "
            "its hashes. Its next entry will be keyed."
        )
    if not unchecked:
        return f"Keyed from entry {keyed_from}; every keyed entry was checked with its key."
    names = ", ".join(k[:8] for k in missing_keys)
    return (
        f"{unchecked} entries are signed with an audit key this computer does not have "
        f"(key {names}): only their links were checked, not their hashes. To check them, "
        f"{audit_keys.HOW_TO_BRING}"
    )


def verify(ctx: Context, *, expect_head: str | None = None) -> Verification:
    """Check the whole chain; name the first entry that was altered, removed or moved.

    A blanked value or reason verifies only when a later entry records the
    erasure or deletion that blanked it; anything that cannot be read (not
    JSON, the wrong shape) is an alteration. Entries removed from the end
    show against the head record kept apart from the trail; ``expect_head``
    (the start of a last hash noted earlier) must be the hash of an entry.
    """
    ctx.require(Action.VIEW_AUDIT)
    prev = GENESIS
    count = 0
    # A head file is read before the trail is (never ahead of what is read).
    head, head_unreadable = _head(ctx, None) if ctx.db.is_sqlite else (None, False)
    at_head: str | None = None
    expected_found = False
    keyed_from: int | None = None
    unchecked = 0
    missing: set[str] = set()
    with ctx.db.read() as session:
        if not ctx.db.is_sqlite:  # the server's row, before the trail
            head, head_unreadable = _head(ctx, session)
        database_id, _ = audit_keys.database_identity(session)
        keys = audit_keys.held_keys(database_id)
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
            if e.key_id is not None:
                keyed_from = keyed_from or e.id
                if e.key_id not in keys:
                    unchecked += 1
                    missing.add(e.key_id)
            elif keyed_from is not None:  # once keyed, always keyed
                problem = f"is not keyed, although entry {keyed_from} before it is"
                return Verification(False, count, e.id, problem, keyed_from)
            problem = _problem(e, redacted_until, keys)
            if problem is not None:
                return Verification(False, count, e.id, problem, keyed_from)
            prev = e.hash
            if head is not None and count == head.length:
                at_head = e.hash
            if expect_head and e.hash.startswith(expect_head.lower()):
                expected_found = True
        if keyed_from is None:
            stripped = _keys_stripped(session, database_id)
            if stripped is not None:
                return Verification(False, count, None, stripped)
    problem, note = _head_verdict(ctx, head, head_unreadable, count, at_head)
    if problem is None and expect_head and not expected_found:
        problem = (
            f"has no entry whose hash begins {expect_head}, the head you noted: entries "
            "were removed or altered since"
        )
    last = prev if count else None
    if problem is not None:
        return Verification(False, count, None, problem, keyed_from, last_hash=last)
    return Verification(
        True, count, None, None, keyed_from, unchecked, tuple(sorted(missing)), last, note
    )


@recovery.register("audit-head")
def catch_up_head(ctx: Context) -> list[str]:
    """Move a SQLite head file left behind by a killed writer up to the trail's end.

    Cheap (a small file and two indexed reads, no write lock), and silent:
    the head only catches up with entries already committed. A missing or
    disagreeing head file is left for ``verify`` to report.
    """
    audit_head.advance(ctx.db, create=False)
    return []


def _head(ctx: Context, session: Session | None) -> tuple[audit_head.Head | None, bool]:
    """The head record and whether it could not be read."""
    try:
        return audit_head.read(ctx.db, session), False
    except audit_head.HeadUnreadable:
        return None, True


def _head_verdict(
    ctx: Context, head: audit_head.Head | None, unreadable: bool, count: int, at_head: str | None
) -> tuple[str | None, str | None]:
    """(what is wrong, what cannot be vouched for) between a sound chain and its head record.

    A head file that is missing is started now, and one that is behind is
    caught up (SQLite); the server's row moves with the next entry.
    """
    if unreadable:
        return "has a head record that cannot be read: it was damaged or altered", None
    if head is None:
        if ctx.db.is_sqlite:
            audit_head.advance(ctx.db, create=True)
        return None, (
            "No head record was found, so entries removed from the end cannot be seen; "
            "one is kept from now on."
        )
    problem = audit_head.compare(head, count, at_head)
    if problem is not None:
        return problem, None
    if count > head.length and ctx.db.is_sqlite:
        audit_head.advance(ctx.db, create=False)
    if head.started_at:
        return None, (
            f"The head record was started on {audit_head.when(head.since)}, when the trail "
            f"had {head.started_at:,} entries: entries removed from the end before then "
            "cannot be seen."
        )
    return None, None


def _keys_stripped(session: Session, database_id: str | None) -> str | None:
    """Why a trail with no keyed entry must have been rewritten, if it must.

    The first keyed entry and the database's identity are written together,
    and this computer keeps the key file (naming where the database was) after
    the trail has been rewritten without it.
    """
    if database_id is not None:
        return (
            "has no keyed entry, although the database has had an audit key: the trail "
            "was rewritten without the key"
        )
    other = audit_keys.keys_elsewhere_for(audit_keys.location_of(session), None)
    if other is not None:
        return (
            "has no keyed entry, although this computer holds the audit key of a keyed "
            f"database at this same place (database {other[:8]}): the trail was rewritten "
            "without the key, or this is an older copy put back here"
        )
    return None


def _problem(e: AuditEntry, redacted_until: dict, keys: dict[str, bytes]) -> str | None:
    """What is wrong with one entry whose place in the chain is right, if anything.

    A keyed entry whose key is not in ``keys`` has its values checked
    against its value hashes, but its own hash cannot be checked here.
    """
    try:
        hashes = json.loads(e.value_hashes)
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        fields = EntryFields(
            at, e.actor, e.action, e.entity, e.entity_id, hashes, e.prev_hash, e.key_id
        )
        if (e.key_id is None or e.key_id in keys) and entry_hash(
            fields, keys.get(e.key_id or "")
        ) != e.hash:
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
class AuditView(Jsonable):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    reason: str | None
    values: dict
    # False when the stored values are not the JSON object they should be
    # (the trail was altered there): ``values`` is then empty.
    readable: bool = True


UNREADABLE = "The details stored in this entry cannot be read (run 'crm audit verify')."


stored_values = stored_object  # an entry's values, or None when not a JSON object


def entries(ctx: Context, *, entity: str | None = None, entity_id: object = None, limit: int = 500):
    """Audit entries, newest first, optionally for one record."""
    ctx.require(Action.VIEW_AUDIT)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == str(entity_id))
    with ctx.db.read() as session:
        return [_view(e) for e in session.scalars(stmt)]


def _view(e: AuditEntry) -> AuditView:
    values = stored_values(e.values)
    readable = values is not None
    return AuditView(
        e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.reason, values or {}, readable
    )


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
        blank = _blank(e)
        if stored_values(e.values) != blank or e.reason:
            e.values = json.dumps(blank, sort_keys=True)
            e.reason = None
            count += 1
    return count


def redact_many(session: Session, entity: str, entity_ids: Iterable[object]) -> int:
    """:func:`redact` for many records at once (a bulk deletion), without an ORM object each."""
    ids = [_id(i) for i in entity_ids]
    table = AuditEntry.__table__
    changed = []
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(table.c.id, table.c["values"], table.c.value_hashes, table.c.reason).where(
                table.c.entity == entity, table.c.entity_id.in_(ids[start : start + 500])
            )
        )
        for entry_id, values, value_hashes, old_reason in rows:
            blank = blank_values(value_hashes, values)
            if stored_values(values) != blank or old_reason:
                changed.append({"b_id": entry_id, "b_values": json.dumps(blank, sort_keys=True)})
    if changed:
        session.execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(values=bindparam("b_values"), reason=None),
            changed,
        )
    return len(changed)


def _blank(e: AuditEntry) -> dict:
    return blank_values(e.value_hashes, e.values)
