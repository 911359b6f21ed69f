"""Merging two records of one person into one, keeping the strictest marketing state.

The person picks, field by field, which record's value the merged one keeps
(:data:`FIELDS`); everything else is combined, in one transaction:

- correspondence, the consent ledger, export membership, data-subject
  requests, import origins, extra addresses and "not a duplicate" marks move
  to the kept record; interests are the union of both;
- no address is lost: the primary email or phone not chosen becomes an extra
  address (a contact point) of the kept record;
- marketing permissions combine strictly, channel by channel: an opt-out on
  either side wins (the earliest is kept), consent survives only where one
  side has it and neither opted out; an objection, a restriction or a refusal
  of personalised marketing on either side carries over; the opted-out
  channels are suppressed for every address the merged record holds;
- the other record is deleted as ``delete_prospect`` deletes (its stored
  audit values blanked, a ``prospect.deleted`` entry naming the record it was
  merged into); the kept record's ``prospect.merged`` entry records what
  changed, which fields came from the other and the other's values.

Both records' versions as the screen read them can be given, so a merge
over someone else's newer edit is refused rather than losing it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from ..domain.eligibility import ALL, channel_address_kinds, channels_suppressed_by
from ..domain.enums import Channel, DataSource, LawfulBasis, OptOutSource, Stage
from ..domain.models import (
    AuditEntry,
    ChannelPermission,
    ConsentEvent,
    ContactPoint,
    Correspondence,
    DataSubjectRequest,
    DuplicateDismissal,
    ExportMember,
    ImportMember,
    Interest,
    LIAssessment,
    Prospect,
    ProspectInterest,
    School,
)
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, format_phone
from ..errors import ConflictError, CrmError, NotFoundError
from . import audit, correspondence, suppression
from .context import Context
from .marketing import apply_opt_out
from .prospects import get_prospect
from .results import Jsonable, ProspectView

KEEP, OTHER = "keep", "other"

#: The fields a person chooses between, in the order a screen shows them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("school", "School"),
    ("role", "Job role"),
    ("stage", "Stage"),
    ("owner", "Owner"),
    ("source", "Source"),
    ("lawful_basis", "Lawful basis"),
)
_LABELS = dict(FIELDS)

# The columns each choice carries over together.
_COLUMNS = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email", "email_key"),
    "phone": ("phone",),
    "school": ("school_id",),
    "role": ("role",),
    "stage": ("stage",),
    "owner": ("owner",),
    "source": ("source", "source_detail", "source_date"),
    "lawful_basis": ("lawful_basis", "li_assessment_id", "li_note"),
}


class MergeError(CrmError):
    """The two records cannot be merged (the same record, an erased one)."""


# ------------------------------------------------------------- preview


@dataclass(frozen=True)
class MergeSide(Jsonable):
    """One record as the merge screen shows it."""

    id: int
    version: int
    full_name: str
    values: dict[str, str]  # field -> the value as shown ("" when empty)
    interests: list[str]
    correspondence: int
    consent_events: int
    exports: int
    requests: int
    imports: int
    extra_addresses: int
    opted_out: list[str]  # channel labels
    consent: list[str]  # channel labels with consent and no opt-out
    objected: bool
    restricted: bool
    personalisation_refused: bool
    created_at: datetime


@dataclass(frozen=True)
class MergePreview(Jsonable):
    keep: MergeSide
    other: MergeSide
    defaults: dict[str, str]  # field -> "keep" | "other" (the blank side never wins)
    differing: list[str]  # fields whose values differ


def _shown(session: Session, p: Prospect, field: str) -> str:
    if field == "school":
        school = session.get(School, p.school_id) if p.school_id else None
        return school.name if school else ""
    if field == "phone":
        return format_phone(p.phone) if p.phone else ""
    if field == "stage":
        return Stage(p.stage).label if p.stage in {s.value for s in Stage} else p.stage
    if field == "source":
        parts = []
        if p.source:
            try:
                parts.append(DataSource(p.source).label)
            except ValueError:
                parts.append(p.source)
        if p.source_detail:
            parts.append(p.source_detail)
        if p.source_date:
            parts.append(p.source_date.isoformat())
        return " · ".join(parts)
    if field == "lawful_basis":
        if p.lawful_basis == LawfulBasis.NONE.value:
            return ""
        text = LawfulBasis(p.lawful_basis).label
        if p.li_assessment_id:
            found = session.get(LIAssessment, p.li_assessment_id)
            text += f" ({found.name})" if found else ""
        elif p.li_note:
            text += f" ({p.li_note})"
        return text
    value = getattr(p, field)
    return "" if value is None else str(value)


def _count(session: Session, column, prospect_id: int) -> int:
    return session.scalar(select(func.count()).where(column == prospect_id)) or 0


def _side(session: Session, p: Prospect) -> MergeSide:
    perms = session.scalars(
        select(ChannelPermission).where(ChannelPermission.prospect_id == p.id)
    ).all()
    opted = [Channel(r.channel) for r in perms if r.opted_out_at is not None]
    consent = [Channel(r.channel) for r in perms if r.consent and r.opted_out_at is None]
    interests = list(
        session.scalars(
            select(Interest.name)
            .join(ProspectInterest, ProspectInterest.interest_id == Interest.id)
            .where(ProspectInterest.prospect_id == p.id)
            .order_by(Interest.name_key)
        )
    )
    return MergeSide(
        id=p.id,
        version=p.version,
        full_name=f"{p.first_name} {p.last_name}",
        values={field: _shown(session, p, field) for field, _ in FIELDS},
        interests=interests,
        correspondence=_count(session, Correspondence.prospect_id, p.id),
        consent_events=_count(session, ConsentEvent.prospect_id, p.id),
        exports=_count(session, ExportMember.prospect_id, p.id),
        requests=_count(session, DataSubjectRequest.prospect_id, p.id),
        imports=_count(session, ImportMember.prospect_id, p.id),
        extra_addresses=_count(session, ContactPoint.prospect_id, p.id),
        opted_out=[c.label for c in Channel if c in opted],
        consent=[c.label for c in Channel if c in consent],
        objected=_objected(session, p.id),
        restricted=p.restricted_at is not None,
        personalisation_refused=p.personalisation_refused,
        created_at=p.created_at,
    )


def _objected(session: Session, prospect_id: int) -> bool:
    found = session.scalar(
        select(ConsentEvent.id)
        .where(ConsentEvent.prospect_id == prospect_id, ConsentEvent.action == "objected")
        .limit(1)
    )
    return found is not None


def _blank(p: Prospect, field: str) -> bool:
    if field == "lawful_basis":
        return p.lawful_basis == LawfulBasis.NONE.value
    if field == "stage":
        return False
    return all(getattr(p, column) in (None, "") for column in _COLUMNS[field])


def _default(keep: Prospect, other: Prospect, field: str) -> str:
    """The kept record's value, unless it has none and the other has one."""
    return OTHER if _blank(keep, field) and not _blank(other, field) else KEEP


def _pair(session: Session, keep_id: int, other_id: int) -> tuple[Prospect, Prospect]:
    if int(keep_id) == int(other_id):
        raise MergeError(f"Prospect #{keep_id} cannot be merged with itself.")
    people = []
    for pid in (keep_id, other_id):
        p = session.get(Prospect, int(pid))
        if p is None:
            raise NotFoundError(f"No prospect with id {pid}.")
        if p.erased_at is not None:
            raise MergeError(
                f"Prospect #{p.id} was erased: an erased record cannot be merged with another."
            )
        people.append(p)
    return people[0], people[1]


def merge_preview(ctx: Context, keep_id: int, other_id: int) -> MergePreview:
    """Both records as the merge screen shows them, and the choices it starts from."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        keep, other = _pair(session, keep_id, other_id)
        a, b = _side(session, keep), _side(session, other)
        return MergePreview(
            keep=a,
            other=b,
            defaults={field: _default(keep, other, field) for field, _ in FIELDS},
            differing=[f for f, _ in FIELDS if a.values[f] != b.values[f]],
        )


# --------------------------------------------------------------- merge


def parse_choices(choices: Mapping[str, str] | None) -> dict[str, str]:
    """Validate ``{field: "keep" | "other"}``; fields may be named by their label too."""
    out: dict[str, str] = {}
    by_label = {label.lower(): field for field, label in FIELDS}
    for raw_field, raw_side in (choices or {}).items():
        key = str(raw_field).strip().lower().replace("-", "_").replace(" ", "_")
        field = key if key in _COLUMNS else by_label.get(str(raw_field).strip().lower())
        if field is None:
            allowed = ", ".join(f for f, _ in FIELDS)
            raise ValidationError(
                {"choices": f"'{str(raw_field)[:40]}' is not a field to choose (use {allowed})"}
            )
        side = str(raw_side).strip().lower()
        if side not in (KEEP, OTHER):
            raise ValidationError(
                {
                    "choices": f"{_LABELS[field]}: choose 'keep' or 'other', not '{str(raw_side)[:40]}'"
                }
            )
        out[field] = side
    return out


def _snapshot(session: Session, p: Prospect) -> dict:
    """The fields the audit trail records about a prospect."""
    school = session.get(School, p.school_id) if p.school_id else None
    interests = session.scalars(
        select(Interest.name)
        .join(ProspectInterest, ProspectInterest.interest_id == Interest.id)
        .where(ProspectInterest.prospect_id == p.id)
        .order_by(Interest.name_key)
    ).all()
    return {
        "first_name": p.first_name,
        "last_name": p.last_name,
        "email": p.email,
        "phone": p.phone,
        "school": school.name if school else None,
        "role": p.role,
        "interests": ", ".join(interests) or None,
        "stage": p.stage,
        "owner": p.owner,
        "source": p.source,
        "source_detail": p.source_detail,
        "source_date": p.source_date.isoformat() if p.source_date else None,
        "lawful_basis": p.lawful_basis,
        "li_note": p.li_note,
        "restriction": (p.restriction_reason or "restricted") if p.restricted_at else None,
        "personalisation_refused": p.personalisation_refused or None,
    }


def _described(snapshot: dict) -> str:
    """A snapshot as one line a person reads ("First name: Jane; Email: ...")."""
    return "; ".join(
        f"{key.replace('_', ' ').capitalize()}: {value}"
        for key, value in snapshot.items()
        if value not in (None, "")
    )


def _contact_points(session: Session, prospect_id: int) -> list[ContactPoint]:
    return list(
        session.scalars(
            select(ContactPoint)
            .where(ContactPoint.prospect_id == prospect_id)
            .order_by(ContactPoint.position, ContactPoint.id)
        )
    )


def _move_rows(session: Session, table, keep_id: int, other_id: int, key) -> None:
    """Re-point ``table``'s rows from other to keep, dropping those keep already has.

    For link tables whose primary key includes the prospect (``key`` is the
    other part of it).
    """
    has = select(key).where(table.prospect_id == keep_id)
    session.execute(delete(table).where(table.prospect_id == other_id, key.in_(has)))
    session.execute(update(table).where(table.prospect_id == other_id).values(prospect_id=keep_id))


def _move_dismissals(session: Session, keep_id: int, other_id: int) -> None:
    """The other's "not a duplicate of X" marks become the kept record's."""
    involves = (DuplicateDismissal.low_id == other_id) | (DuplicateDismissal.high_id == other_id)
    carried = []
    for d in session.scalars(select(DuplicateDismissal).where(involves)).all():
        third = d.high_id if d.low_id == other_id else d.low_id
        if third != keep_id:
            carried.append((tuple(sorted((keep_id, third))), d.dismissed_by, d.dismissed_at))
    session.execute(delete(DuplicateDismissal).where(involves))
    for (low, high), who, when in carried:
        if session.get(DuplicateDismissal, (low, high)) is None:
            session.add(
                DuplicateDismissal(low_id=low, high_id=high, dismissed_by=who, dismissed_at=when)
            )


def _combine_permissions(
    session: Session, keep_id: int, other_id: int
) -> tuple[dict[Channel, dict], bool]:
    """The strict combination of both records' channel states (channel -> values)."""
    rows: dict[Channel, list[ChannelPermission]] = {c: [] for c in Channel}
    for r in session.scalars(
        select(ChannelPermission).where(ChannelPermission.prospect_id.in_((keep_id, other_id)))
    ):
        rows[Channel(r.channel)].append(r)
    combined: dict[Channel, dict] = {}
    changed = False
    for channel, found in rows.items():
        if not found:
            continue
        opted = [r for r in found if r.opted_out_at is not None]
        values = dict.fromkeys(
            ("consent_at", "consent_method", "consent_wording", "consent_policy_version",
             "consent_given_by", "consent_recorded_by", "opted_out_at", "opt_out_source",
             "opt_out_reason"),
        )  # fmt: skip
        values["consent"] = False
        if opted:
            first = min(opted, key=lambda r: r.opted_out_at)
            values.update(
                opted_out_at=first.opted_out_at,
                opt_out_source=first.opt_out_source,
                opt_out_reason=first.opt_out_reason,
            )
        else:
            given = [r for r in found if r.consent]
            if given:
                latest = max(given, key=lambda r: r.consent_at or datetime.min)
                values.update(
                    consent=True,
                    **{k: getattr(latest, k) for k in values if k.startswith("consent_")},
                )
        mine = next((r for r in found if r.prospect_id == keep_id), None)
        before = (
            (mine.consent, mine.opted_out_at is not None) if mine is not None else (False, False)
        )
        changed = changed or before != (values["consent"], values["opted_out_at"] is not None)
        combined[channel] = values
    return combined, changed


def _suppress_opted_out(session: Session, ctx: Context, p: Prospect, objected: bool) -> None:
    """Suppress every address the merged record holds for the channels it is opted out of."""
    opted = {
        Channel(r.channel)
        for r in session.scalars(
            select(ChannelPermission).where(
                ChannelPermission.prospect_id == p.id, ChannelPermission.opted_out_at.is_not(None)
            )
        )
    }
    if not opted:
        return
    reason = "objection" if objected else "opt-out"
    addresses = [("email", p.email), ("phone", p.phone)]
    addresses += [(c.kind, c.value) for c in _contact_points(session, p.id)]
    for kind, address in addresses:
        if not address:
            continue
        if opted == set(Channel):
            suppression.add_entry(session, ctx, address, ALL, reason, f"prospect #{p.id}")
            continue
        for channel in sorted(opted):
            if kind in channel_address_kinds(channel):
                suppression.add_entry(
                    session, ctx, address, channel.value, reason, f"prospect #{p.id}"
                )


def _honour_suppression(
    session: Session,
    ctx: Context,
    p: Prospect,
    addresses: list[tuple[str, str, str]],
    permissions: dict[Channel, dict],
) -> None:
    """Opt the merged record out of the channels any address of either record is suppressed for.

    Eligibility looks at the primary addresses only; a suppressed address
    that is now an extra one (or the primary one not chosen) must still keep
    the person off those channels.
    """
    suppressed: set[Channel] = set()
    for kind, value, _key in addresses:
        suppressed.update(
            channels_suppressed_by(kind, suppression.channels_suppressed(session, value))
        )
    opted = {c for c, state in permissions.items() if state["opted_out_at"] is not None}
    new = [c for c in Channel if c in suppressed and c not in opted]
    if new:
        apply_opt_out(
            session, ctx, p, new, OptOutSource.OTHER,
            "An address of one of the merged records was on the suppression list",
        )  # fmt: skip


def merge_prospects(
    ctx: Context,
    keep_id: int,
    other_id: int,
    choices: Mapping[str, str] | None = None,
    *,
    keep_version: int | None = None,
    other_version: int | None = None,
) -> ProspectView:
    """Merge ``other_id`` into ``keep_id`` and delete it; returns the merged record.

    ``choices``: field -> "keep" | "other" (see :data:`FIELDS`); a field not
    named keeps the kept record's value unless that is empty and the other's
    is not. ``keep_version``/``other_version``: the versions the screen
    showed; if either record changed since, nothing is merged
    (:class:`ConflictError`).
    """
    ctx.require(Action.MERGE_PROSPECTS)
    chosen = parse_choices(choices)
    with ctx.db.transaction() as session:
        keep, other = _pair(session, keep_id, other_id)
        for p, expected in ((keep, keep_version), (other, other_version)):
            if expected is not None and p.version != expected:
                raise ConflictError(
                    f"{p.first_name} {p.last_name} (#{p.id}) was changed by someone else since "
                    "you opened the merge. Nothing was merged: look again, then merge."
                )
        sides = {f: chosen.get(f) or _default(keep, other, f) for f, _ in FIELDS}
        before = _snapshot(session, keep)
        merged_from = _snapshot(session, other)
        objected = _objected(session, keep.id) or _objected(session, other.id)
        values = {
            field: {c: getattr(other if sides[field] == OTHER else keep, c) for c in cols}
            for field, cols in _COLUMNS.items()
        }

        # 1. Addresses: none is lost. The primary ones not chosen become extra ones.
        extras: list[tuple[str, str, str]] = []  # (kind, value, value_key)
        for p in (keep, other):
            if p.email:
                extras.append(("email", p.email, p.email.lower()))
            if p.phone:
                extras.append(("phone", p.phone, p.phone))
        for p in (keep, other):
            extras += [(c.kind, c.value, c.value_key) for c in _contact_points(session, p.id)]
        primary = {
            ("email", (values["email"]["email_key"] or "")),
            ("phone", values["phone"]["phone"] or ""),
        }
        session.execute(
            delete(ContactPoint).where(ContactPoint.prospect_id.in_((keep.id, other.id)))
        )

        # 2. What the other record holds moves to the kept one.
        for table in (Correspondence, ConsentEvent, DataSubjectRequest):
            session.execute(
                update(table).where(table.prospect_id == other.id).values(prospect_id=keep.id)
            )
        _move_rows(session, ProspectInterest, keep.id, other.id, ProspectInterest.interest_id)
        _move_rows(session, ExportMember, keep.id, other.id, ExportMember.export_id)
        _move_rows(session, ImportMember, keep.id, other.id, ImportMember.import_id)
        _move_dismissals(session, keep.id, other.id)
        permissions, permissions_changed = _combine_permissions(session, keep.id, other.id)
        restricted = [p for p in (keep, other) if p.restricted_at is not None]
        refused = keep.personalisation_refused or other.personalisation_refused
        override = keep.subscriber_type_override or other.subscriber_type_override
        created = min(keep.created_at, other.created_at)
        kept_at = max(
            (p.retention_kept_at for p in (keep, other) if p.retention_kept_at), default=None
        )
        other_label = f"#{other.id} {other.first_name} {other.last_name}"

        # 3. The other record goes, as a deletion does (its audit values blanked).
        session.delete(other)
        session.flush()
        audit.redact(session, "prospect", other.id)
        audit.record(session, ctx.user, "prospect.deleted", "prospect", other.id,
                     {"merged_into": keep.id}, reason=f"Merged into prospect #{keep.id}")  # fmt: skip

        # 4. The kept record takes the chosen values and the strictest state.
        for cols in values.values():
            for column, value in cols.items():
                setattr(keep, column, value)
        if restricted:
            keep.restricted_at = min(p.restricted_at for p in restricted)
            reasons = [p.restriction_reason for p in restricted if p.restriction_reason]
            keep.restriction_reason = "; ".join(dict.fromkeys(reasons)) or None
        keep.personalisation_refused = refused
        keep.subscriber_type_override = override
        keep.created_at = created
        keep.retention_kept_at = kept_at
        keep.updated_at = utcnow()
        keep.version += 1
        session.flush()
        position = 0
        seen = set(primary)
        for kind, value, key in extras:
            if (kind, key) in seen:
                continue
            seen.add((kind, key))
            position += 1
            session.add(
                ContactPoint(
                    prospect_id=keep.id, kind=kind, value=value, value_key=key,
                    position=position, created_at=utcnow(),
                )
            )  # fmt: skip
        for channel, state in permissions.items():
            row = session.get(ChannelPermission, (keep.id, channel.value))
            if row is None:
                row = ChannelPermission(prospect_id=keep.id, channel=channel.value)
                session.add(row)
            for column, value in state.items():
                setattr(row, column, value)
        session.flush()
        _honour_suppression(session, ctx, keep, extras, permissions)
        correspondence.refresh_contact_summary(session, keep.id)
        if permissions_changed:
            _ledger(session, ctx, keep.id, other.id, permissions)
        _suppress_opted_out(session, ctx, keep, objected)
        session.flush()

        after = _snapshot(session, keep)
        changes = {
            k: {"old": before.get(k), "new": after.get(k)}
            for k in after
            if before.get(k) != after.get(k)
        }
        taken = [_LABELS[f] for f, side in sides.items() if side == OTHER]
        record = {
            **changes,
            "merged_from": other_label,
            "taken_from_merged": ", ".join(taken) or "none",
            "merged_record": _described(merged_from),
        }
        audit.record(session, ctx.user, "prospect.merged", "prospect", keep.id, record)
    return get_prospect(ctx, keep.id)


def _ledger(
    session: Session, ctx: Context, keep_id: int, other_id: int, permissions: dict[Channel, dict]
) -> None:
    """One ledger event for the combined permissions (and its audit echo)."""
    summary = []
    for channel in Channel:
        state = permissions.get(channel)
        if state is None:
            continue
        if state["opted_out_at"] is not None:
            summary.append(f"{channel.label}: opted out")
        elif state["consent"]:
            summary.append(f"{channel.label}: consent")
    details = {"merged_from": f"prospect #{other_id}", "result": "; ".join(summary) or "—"}
    session.add(
        ConsentEvent(
            prospect_id=keep_id,
            action="records-merged",
            channel=None,
            details=json.dumps(details, ensure_ascii=False, sort_keys=True),
            recorded_by=ctx.user,
            recorded_at=utcnow(),
        )
    )
    audit.record(session, ctx.user, "consent.records-merged", "prospect", keep_id, details)


def merged_into(ctx: Context, prospect_id: int) -> int | None:
    """The record a merged-away prospect now lives in (following later merges), or None.

    For work that named the old record and arrives late (an opt-out kept
    while the database was busy): it is written to the merged record
    instead of being lost.
    """
    ctx.require(Action.VIEW)
    found: int | None = None
    current, seen = int(prospect_id), set()
    with ctx.db.read() as session:
        while current not in seen:
            seen.add(current)
            stored = session.scalars(
                select(AuditEntry.values)
                .where(
                    AuditEntry.entity == "prospect",
                    AuditEntry.entity_id == str(current),
                    AuditEntry.action == "prospect.deleted",
                )
                .order_by(AuditEntry.id.desc())
                .limit(1)
            ).first()
            values = audit.stored_values(stored) if stored else None
            target = (values or {}).get("merged_into")
            if not isinstance(target, int) or isinstance(target, bool):
                break
            found = current = target
        if found is None or session.get(Prospect, found) is None:
            return None
    return found
