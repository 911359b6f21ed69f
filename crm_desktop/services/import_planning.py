"""Importing contacts, phase 2: planning what each person of the file does.

The rows of one person (the same normalised email) are a :class:`RowGroup`;
what the database holds for them is read in one read-only pass
(:func:`snapshot`: the prospects their addresses belong to, the suppression
list) and each group gets its :class:`Plan`: created, updated, unchanged,
opted out, skipped or rejected, by the duplicate policy and the strictest
marketing state. :func:`recheck` plans again, inside the write transaction,
the groups something changed under since the read pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session

from ..domain.eligibility import channels_suppressed_by
from ..domain.enums import Channel, LawfulBasis, Stage
from ..domain.models import (
    AuditEntry,
    ChannelPermission,
    ContactPoint,
    Interest,
    Prospect,
    ProspectInterest,
    School,
    Suppression,
)
from ..domain.suppression import canonical_address, digest
from . import suppression
from .import_reading import CleanOptions, StagedRow

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
CHUNK = 500  # values per IN (...) list, well inside every SQLite's limit
# The prospect fields a duplicate policy decides (the email address is the match itself).
_FIELDS = ("first_name", "last_name", "phone", "school", "role", "stage", "owner")
NOT_IMPORTED = ("skip", "reject")  # plan outcomes whose rows go to the rejects file


@dataclass
class RowGroup:
    """The rows of the file that are one person (the same email; or one row without)."""

    rows: list[StagedRow]

    @property
    def key(self) -> str | None:
        return self.rows[0].key

    @property
    def email(self) -> str | None:
        return self.rows[0].email


# ------------------------------------------------------------- the database


@dataclass
class ExistingProspect:
    id: int
    version: int
    values: dict  # _FIELDS as stored ("school" is its name)
    email: str | None
    school_id: int | None
    erased: bool
    restricted: bool
    basis: str
    li_note: str | None
    li_assessment_id: int | None
    source: str | None
    source_detail: str | None
    source_date: date | None
    perms: set[str] = field(default_factory=set)  # channels that have a permission row
    opted: set[str] = field(default_factory=set)
    consented: set[str] = field(default_factory=set)
    extras: set[tuple[str, str]] = field(default_factory=set)  # (kind, value_key)
    max_position: int = -1
    interests: set[str] = field(default_factory=set)  # name keys


def chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_existing(session: Session, *, keys=(), ids=()) -> dict[int, ExistingProspect]:
    """Prospects by email key and/or id, with what planning needs of each."""
    found: dict[int, ExistingProspect] = {}
    columns = (
        Prospect.id, Prospect.version, Prospect.first_name, Prospect.last_name, Prospect.email,
        Prospect.phone, School.name, Prospect.role, Prospect.stage, Prospect.owner,
        Prospect.erased_at, Prospect.restricted_at, Prospect.lawful_basis, Prospect.li_note,
        Prospect.li_assessment_id, Prospect.source, Prospect.source_detail, Prospect.source_date,
        Prospect.school_id,
    )  # fmt: skip
    base = select(*columns).outerjoin(School, School.id == Prospect.school_id)
    # Each once, in the order given: sorting 100,000 addresses is one C call that
    # held the interpreter lock (and the window) for a tenth of a second.
    wheres = [Prospect.email_key.in_(c) for c in chunks(list(dict.fromkeys(keys)))]
    wheres += [Prospect.id.in_(c) for c in chunks(list(dict.fromkeys(ids)))]
    for where in wheres:
        for r in session.execute(base.where(where)):
            values = dict(zip(_FIELDS, (r[2], r[3], r[5], r[6], r[7], r[8], r[9]), strict=True))
            found[r[0]] = ExistingProspect(
                id=r[0], version=r[1], values=values, email=r[4], erased=r[10] is not None,
                restricted=r[11] is not None, basis=r[12], li_note=r[13], li_assessment_id=r[14],
                source=r[15], source_detail=r[16], source_date=r[17], school_id=r[18],
            )  # fmt: skip
    pids = sorted(found)
    for chunk in chunks(pids):
        for pid, channel, consent, opted_at in session.execute(
            select(
                ChannelPermission.prospect_id, ChannelPermission.channel,
                ChannelPermission.consent, ChannelPermission.opted_out_at,
            ).where(ChannelPermission.prospect_id.in_(chunk))
        ):  # fmt: skip
            e = found[pid]
            e.perms.add(channel)
            if opted_at is not None:
                e.opted.add(channel)
            if consent:
                e.consented.add(channel)
        for pid, kind, key, position in session.execute(
            select(
                ContactPoint.prospect_id, ContactPoint.kind, ContactPoint.value_key,
                ContactPoint.position,
            ).where(ContactPoint.prospect_id.in_(chunk))
        ):  # fmt: skip
            found[pid].extras.add((kind, key))
            found[pid].max_position = max(found[pid].max_position, position)
        for pid, key in session.execute(
            select(ProspectInterest.prospect_id, Interest.name_key)
            .join(Interest, Interest.id == ProspectInterest.interest_id)
            .where(ProspectInterest.prospect_id.in_(chunk))
        ):
            found[pid].interests.add(key)
    return found


@dataclass
class Snapshot:
    """What the read pass (or the write transaction's re-check) saw."""

    by_key: dict[str, ExistingProspect]
    suppressed: dict[str, frozenset[str]]  # digest -> channels
    hasher: Callable[[str], str | None]
    marks: tuple[int, int, int]  # the newest audit entry, prospect, suppression entry


def _marks(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.max(AuditEntry.id))) or 0,
        session.scalar(select(func.max(Prospect.id))) or 0,
        session.scalar(select(func.max(Suppression.id))) or 0,
    )


def _digester(session: Session) -> Callable[[str], str | None]:
    key = suppression.hmac_key(session)
    cache: dict[str, str | None] = {}

    def of(address: str) -> str | None:
        if address not in cache:
            if _E164.fullmatch(address):
                # Every phone number hashed here is already E.164 (phone_e164's
                # form, or as stored), which canonical_address gives back as it
                # is, after parsing it again: the slowest part of planning.
                cache[address] = digest(key, address)
                return cache[address]
            try:
                cache[address] = digest(key, canonical_address(address))
            except ValueError:
                cache[address] = None
        return cache[address]

    return of


def snapshot(session: Session, keys: Iterable[str]) -> Snapshot:
    marks = _marks(session)
    existing = load_existing(session, keys=list(keys))
    by_key = {e.email.lower(): e for e in existing.values() if e.email}
    return Snapshot(by_key, suppression.all_suppressed(session), _digester(session), marks)


# ----------------------------------------------------------------- planning


@dataclass
class Plan:
    """What one group does to the database."""

    group: RowGroup
    outcome: str  # created | updated | unchanged | opted-out | skip
    reason: str | None = None
    existing: ExistingProspect | None = None
    values: dict = field(default_factory=dict)  # final _FIELDS
    changed: dict = field(default_factory=dict)  # field -> (old, new), updates only
    extras: list[tuple[str, str, str]] = field(default_factory=list)  # new (kind, value, key)
    interests: list[str] = field(default_factory=list)  # to add (names)
    notes: list[str] = field(default_factory=list)
    opt_out: list[Channel] = field(default_factory=list)  # channels to opt out now
    consent: list[Channel] = field(default_factory=list)  # channels to record consent on
    basis: bool = False  # set the batch's basis
    opted_any: bool = False  # opted out of something after this
    all_opted: bool = False  # of every channel after this
    perms: set[str] = field(default_factory=set)  # channels with a permission row
    prospect_id: int | None = None

    def school_changed(self) -> bool:
        e = self.existing
        return e is None or not _same("school", e.values.get("school"), self.values.get("school"))


def _merge(current: dict, incoming: dict, policy: str) -> dict:
    out = dict(current)
    for name in _FIELDS:
        new = incoming.get(name)
        if new is None:
            continue
        old = current.get(name)
        if policy == "overwrite" or (policy == "fill" and old in (None, "")):
            out[name] = new
    return out


def _same(name: str, a, b) -> bool:
    if name == "school":
        return (a or "").lower() == (b or "").lower()
    return a == b


_ALL_CHANNELS = frozenset(c.value for c in Channel)


def plan_group(group: RowGroup, snap: Snapshot, opts: CleanOptions, user: str) -> Plan:
    existing = snap.by_key.get(group.key) if group.key else None
    rows = group.rows
    if existing is not None and (existing.erased or existing.restricted):
        why = "erased" if existing.erased else "restricted (processing is restricted)"
        return Plan(
            group, "skip", f"Skipped: the email belongs to a prospect who is {why}, "
            "who may not be updated by an import", existing,
        )  # fmt: skip
    policy = opts.on_duplicate
    if existing is None:
        values = dict(rows[0].values)
        for row in rows[1:]:
            # Rows of one file fill each other's blanks at least.
            values = _merge(values, row.values, "fill" if policy == "keep" else policy)
        if not values["first_name"] or not values["last_name"]:
            reason = next((r.missing for r in rows if r.missing), None) or "A name is required"
            return Plan(group, "reject", reason)
        values["stage"] = values["stage"] or Stage.LEAD.value
        values["owner"] = values["owner"] or user
        plan = Plan(group, "created", values=values)
        known_extras: set[tuple[str, str]] = set()
        known_interests: set[str] = set()
        primary = {(k, v.lower()) for k, v in (("email", group.email), ("phone", values["phone"]))
                   if v}  # fmt: skip
        opted: set[str] = set()
        perms: set[str] = set()
    else:
        values = dict(existing.values)
        for row in rows:
            values = _merge(values, row.values, policy)
        plan = Plan(group, "updated", existing=existing, values=values)
        plan.changed = {
            n: (existing.values.get(n), values.get(n))
            for n in _FIELDS
            if not _same(n, existing.values.get(n), values.get(n))
        }
        known_extras = set(existing.extras)
        known_interests = set(existing.interests)
        primary = {(k, v.lower()) for k, v in (("email", existing.email), ("phone", values["phone"]))
                   if v}  # fmt: skip
        # A phone number replaced by "overwrite" is kept among the extra ones.
        old_phone = existing.values.get("phone")
        if old_phone and old_phone != values["phone"] and ("phone", old_phone) not in known_extras:
            plan.extras.append(("phone", old_phone, old_phone))
            known_extras.add(("phone", old_phone))
        opted, perms = set(existing.opted), set(existing.perms)
    # Every address of every row of the group: the primary ones and the rest.
    candidates: list[tuple[str, str]] = []
    for row in rows:
        if row.email:
            candidates.append(("email", row.email))
        candidates += [("email", e) for e in row.emails]
        if row.values["phone"]:
            candidates.append(("phone", row.values["phone"]))
        candidates += [("phone", p) for p in row.phones]
    for kind, value in candidates:
        key = value.lower()
        if (kind, key) in primary or (kind, key) in known_extras:
            continue
        known_extras.add((kind, key))
        plan.extras.append((kind, value, key))
    for row in rows:
        for name in row.interests:
            if name.lower() not in known_interests:
                known_interests.add(name.lower())
                plan.interests.append(name)
        if row.note:
            plan.notes.append(row.note)
    # The suppression list: every address the person will have.
    addresses = [(k, v) for k, v in primary] + [(k, key) for k, _, key in plan.extras]
    if existing is not None:
        addresses += sorted(existing.extras)
    suppressed: set[Channel] = set()
    # Each address is hashed to look it up; with nothing on the list there is
    # nothing to find, and no hashing to do.
    for kind, value in addresses if snap.suppressed else ():
        d = snap.hasher(value)
        marks = snap.suppressed.get(d) if d else None
        if marks:
            suppressed.update(channels_suppressed_by(kind, marks))
    if suppressed and opts.on_suppressed == "skip":
        return Plan(
            group, "skip", "Skipped: the address is on the suppression list (the import was "
            "told to skip such rows)", existing,
        )  # fmt: skip
    if suppressed:
        plan.opt_out = [c for c in Channel if c in suppressed and c.value not in opted]
    after = opted | {c.value for c in plan.opt_out}
    plan.opted_any = bool(after)
    plan.all_opted = after >= _ALL_CHANNELS
    marketing = existing is None or policy != "keep"
    if opts.basis is LawfulBasis.CONSENT and marketing:
        consented = existing.consented if existing else set()
        plan.consent = [
            c for c in opts.channels if c.value not in after and c.value not in consented
        ]
    if opts.basis is not LawfulBasis.NONE and marketing:
        if existing is None:
            plan.basis = True
        elif existing.basis == LawfulBasis.NONE.value or policy == "overwrite":
            wanted = (opts.basis.value, opts.li_note, opts.li_assessment_id)
            plan.basis = (existing.basis, existing.li_note, existing.li_assessment_id) != wanted
    plan.perms = perms
    if existing is not None:
        touched = (
            plan.changed or plan.extras or plan.interests or plan.notes or plan.opt_out
            or plan.consent or plan.basis
        )  # fmt: skip
        plan.outcome = "updated" if touched else "unchanged"
    if plan.opted_any:
        plan.outcome = "opted-out"
    return plan


def _changes_since(session: Session, snap: Snapshot, keys: set[str]):
    """What changed since the read pass: prospects (by their audit entries), new
    prospects' email keys among ``keys``, and new suppression entries.

    Every change to a prospect writes an audit entry about it, and ids only
    grow, so three range reads on primary keys find them all.
    """
    audit_mark, prospect_mark, supp_mark = snap.marks
    changed_ids = {
        int(entity_id)
        for (entity_id,) in session.execute(
            select(AuditEntry.entity_id).where(
                AuditEntry.id > audit_mark, AuditEntry.entity == "prospect"
            )
        )
        if entity_id and entity_id.isdigit()
    }
    new_keys = {
        key
        for (key,) in session.execute(select(Prospect.email_key).where(Prospect.id > prospect_mark))
        if key and key in keys
    }
    new_supp: dict[str, set[str]] = {}
    for d, channel in session.execute(
        select(Suppression.digest, Suppression.channel).where(Suppression.id > supp_mark)
    ):
        new_supp.setdefault(d, set()).add(channel)
    return changed_ids, new_keys, new_supp


def _group_addresses(group: RowGroup) -> Iterable[str]:
    for row in group.rows:
        yield from (a for a in (row.email, row.values["phone"], *row.emails, *row.phones) if a)


def recheck(
    session: Session, plans: list[Plan], snap: Snapshot, opts: CleanOptions, user: str
) -> list[Plan]:
    """Plan again, inside the write transaction, every group something changed under."""
    keys = {p.group.key for p in plans if p.group.key}
    changed_ids, new_keys, new_supp = _changes_since(session, snap, keys)
    for d, channels in new_supp.items():
        snap.suppressed[d] = frozenset(snap.suppressed.get(d, frozenset()) | channels)
    affected: list[int] = []
    for i, plan in enumerate(plans):
        existing = plan.existing
        if (
            (existing is not None and existing.id in changed_ids)
            or (plan.group.key is not None and plan.group.key in new_keys)
            or new_supp
            and any(snap.hasher(a) in new_supp for a in _group_addresses(plan.group))
        ):
            affected.append(i)
    if not affected:
        return plans
    wanted = {plans[i].group.key for i in affected if plans[i].group.key}
    fresh = load_existing(session, keys=wanted)
    found = {e.email.lower(): e for e in fresh.values() if e.email}
    for key in wanted:
        if key in found:
            snap.by_key[key] = found[key]
        else:
            snap.by_key.pop(key, None)  # deleted meanwhile: created again
    out = list(plans)
    for i in affected:
        out[i] = plan_group(plans[i].group, snap, opts, user)
    return out
