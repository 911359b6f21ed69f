"""Marketing permissions: consent, opt-outs, lawful basis, subscriber type.

Every change appends an event to the consent ledger and updates the current
state in the same transaction. Opt-outs are never refused and are sticky:
only :func:`grant_consent` (an explicit opt-in with evidence, recorded by a
person) lifts one; imports and merges never call it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from ..domain.eligibility import (
    ALL,
    ChannelState,
    Exclusion,
    MarketingFacts,
    channel_address_kinds,
    exclusion_reasons,
)
from ..domain.enums import Channel, ConsentMethod, LawfulBasis, OptOutSource, SubscriberType
from ..domain.models import MAX_NOTE, ChannelPermission, ConsentEvent, LIAssessment, Prospect
from ..domain.restriction import refuse_if_restricted
from ..domain.roles import Action
from ..domain.subscribers import infer_subscriber_type, subscriber_type
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text, parse_choice, parse_datetime
from ..errors import NotFoundError
from . import audit, contact_points, suppression
from .context import Context
from .results import Jsonable


def parse_channels(value: str | Channel | Iterable[str | Channel]) -> list[Channel]:
    """'all', one channel, or several; raises ValueError naming the bad one."""
    if isinstance(value, str | Channel):
        value = [value]
    channels: list[Channel] = []
    for item in value:
        if str(item).strip().lower() in ("all", "all channels"):
            return list(Channel)
        channel = Channel.parse(str(item))
        if channel not in channels:
            channels.append(channel)
    if not channels:
        raise ValueError("name at least one channel, or all")
    return channels


@dataclass(frozen=True)
class ConsentEvidence:
    """How a person gave consent: required for every consent and opt-in."""

    method: str
    wording: str  # what they were told (or a reference to the form's text)
    policy_version: str | None = None
    given_by: str | None = None  # who gave it; defaults to the prospect
    given_at: str | datetime | None = None  # defaults to now


@dataclass(frozen=True)
class ChannelStatus(Jsonable):
    channel: str
    consent: bool
    consent_at: datetime | None
    consent_method: str | None
    consent_wording: str | None
    consent_policy_version: str | None
    consent_given_by: str | None
    consent_recorded_by: str | None
    opted_out: bool
    opted_out_at: datetime | None
    opt_out_source: str | None
    opt_out_reason: str | None
    exclusions: list[str]  # Exclusion values for an unpersonalised campaign


@dataclass(frozen=True)
class MarketingView(Jsonable):
    prospect_id: int
    lawful_basis: str
    li_assessment_id: int | None
    li_assessment_name: str | None
    li_note: str | None
    subscriber_type: str
    subscriber_type_inferred: bool
    personalisation_refused: bool
    suppressed: list[str]  # channels (or "all") the person's addresses are suppressed for
    channels: list[ChannelStatus]


@dataclass(frozen=True)
class ConsentEventView(Jsonable):
    id: int
    action: str
    channel: str | None
    details: dict
    recorded_by: str
    recorded_at: datetime


# ------------------------------------------------------------------ helpers


def _load(session: Session, prospect_id: int) -> Prospect:
    p = session.get(Prospect, prospect_id)
    if p is None:
        raise NotFoundError(f"No prospect with id {prospect_id}.")
    return p


def _permission(session: Session, prospect_id: int, channel: Channel) -> ChannelPermission:
    row = session.get(ChannelPermission, (prospect_id, channel.value))
    if row is None:
        row = ChannelPermission(prospect_id=prospect_id, channel=channel.value)
        session.add(row)
    return row


def _event(
    session: Session,
    ctx: Context,
    prospect_id: int,
    action: str,
    channel: Channel | None,
    **details,
) -> None:
    clean = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()}
    session.add(
        ConsentEvent(
            prospect_id=prospect_id,
            action=action,
            channel=channel.value if channel else None,
            details=json.dumps(clean, ensure_ascii=False, sort_keys=True),
            recorded_by=ctx.user,
            recorded_at=utcnow(),
        )
    )
    # The ledger is the consent history; the audit trail records the change too.
    values = {"channel": channel.value if channel else None, **clean}
    audit.record(session, ctx.user, f"consent.{action}", "prospect", prospect_id, values)


def _text(field: str, value: str | None, *, required: bool = False, max_len: int = MAX_NOTE):
    try:
        return clean_text(value, max_len=max_len, required=required, multiline=True)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def _touch(p: Prospect) -> None:
    p.updated_at = utcnow()
    p.version += 1


def facts_from(
    p,
    channels: dict[Channel, ChannelState],
    suppressed_email: frozenset[str],
    suppressed_phone: frozenset[str],
) -> MarketingFacts:
    """The eligibility rule's facts from a prospect row (ORM object or plain row)."""
    return MarketingFacts(
        email=p.email,
        phone=p.phone,
        basis=LawfulBasis(p.lawful_basis),
        has_li_note=bool(p.li_assessment_id or (p.li_note and p.li_note.strip())),
        subscriber_type=subscriber_type(p.email, p.subscriber_type_override),
        personalisation_refused=p.personalisation_refused,
        erased=p.erased_at is not None,
        restricted=p.restricted_at is not None,
        channels=channels,
        suppressed_email=suppressed_email,
        suppressed_phone=suppressed_phone,
    )


def facts_for(session: Session, p: Prospect) -> MarketingFacts:
    perms = session.scalars(
        select(ChannelPermission).where(ChannelPermission.prospect_id == p.id)
    ).all()
    return facts_from(
        p,
        {
            Channel(r.channel): ChannelState(
                consent=r.consent, opted_out=r.opted_out_at is not None
            )
            for r in perms
        },
        suppression.channels_suppressed(session, p.email),
        suppression.channels_suppressed(session, p.phone),
    )


def _view(session: Session, p: Prospect) -> MarketingView:
    facts = facts_for(session, p)
    perms = {
        r.channel: r
        for r in session.scalars(
            select(ChannelPermission).where(ChannelPermission.prospect_id == p.id)
        )
    }
    channels = []
    for channel in Channel:
        r = perms.get(channel.value) or ChannelPermission(prospect_id=p.id, channel=channel.value)
        channels.append(
            ChannelStatus(
                channel=channel.value,
                consent=bool(r.consent),
                consent_at=r.consent_at,
                consent_method=r.consent_method,
                consent_wording=r.consent_wording,
                consent_policy_version=r.consent_policy_version,
                consent_given_by=r.consent_given_by,
                consent_recorded_by=r.consent_recorded_by,
                opted_out=r.opted_out_at is not None,
                opted_out_at=r.opted_out_at,
                opt_out_source=r.opt_out_source,
                opt_out_reason=r.opt_out_reason,
                exclusions=[e.value for e in exclusion_reasons(facts, channel)],
            )
        )
    assessment = session.get(LIAssessment, p.li_assessment_id) if p.li_assessment_id else None
    return MarketingView(
        prospect_id=p.id,
        lawful_basis=p.lawful_basis,
        li_assessment_id=p.li_assessment_id,
        li_assessment_name=assessment.name if assessment else None,
        li_note=p.li_note,
        subscriber_type=facts.subscriber_type.value,
        subscriber_type_inferred=p.subscriber_type_override is None,
        personalisation_refused=p.personalisation_refused,
        suppressed=sorted(facts.suppressed_email | facts.suppressed_phone),
        channels=channels,
    )


def _sync_opt_out_suppression(session: Session, ctx: Context, p: Prospect, reason: str) -> None:
    """Make the opt-out entries of the suppression list match the person's opt-outs.

    Every opted-out channel is suppressed for their addresses, the extra ones
    an import kept included (ALL when every channel is), so deleting and
    re-importing them can never undo an opt-out. An explicit opt-in removes
    the entries opt-outs made; entries from erasure or added by marketing stay.
    """
    opted = {
        r.channel: r.opt_out_source
        for r in session.scalars(
            select(ChannelPermission).where(
                ChannelPermission.prospect_id == p.id, ChannelPermission.opted_out_at.is_not(None)
            )
        )
    }
    if set(opted) >= {c.value for c in Channel}:
        wanted = {ALL: reason}
    else:
        wanted = {
            channel: "email-tool" if source == OptOutSource.EMAIL_TOOL.value else reason
            for channel, source in opted.items()
        }
    # Their extra addresses too: a person who said no must not come back
    # through their second email address.
    for kind, address in contact_points.addresses_of(session, p):
        # Only the addresses a channel uses are suppressed for it: an email
        # opt-out must not suppress a school switchboard shared with others.
        keep = {
            c: why
            for c, why in wanted.items()
            if c == ALL or kind in channel_address_kinds(Channel(c))
        }
        suppression.remove_entries(
            session, [address], reasons=suppression.OPT_OUT_REASONS, keep_channels=set(keep)
        )
        for channel, why in keep.items():
            suppression.add_entry(session, ctx, address, channel, why, source=f"prospect #{p.id}")


# ----------------------------------------------------------------- actions


def marketing_view(ctx: Context, prospect_id: int) -> MarketingView:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return _view(session, _load(session, prospect_id))


def consent_history(ctx: Context, prospect_id: int) -> list[ConsentEventView]:
    """The consent ledger for one person, newest first."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        _load(session, prospect_id)
        rows = session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.prospect_id == prospect_id)
            .order_by(ConsentEvent.id.desc())
        )
        return [
            ConsentEventView(
                id=e.id,
                action=e.action,
                channel=e.channel,
                details=json.loads(e.details),
                recorded_by=e.recorded_by,
                recorded_at=e.recorded_at,
            )
            for e in rows
        ]


def grant_consent(
    ctx: Context,
    prospect_id: int,
    channels: str | Iterable[str],
    evidence: ConsentEvidence,
) -> MarketingView:
    """Record consent on channels; an explicit opt-in that lifts an opt-out.

    Refused without evidence: how it was given and what the person was told.
    """
    ctx.require(Action.MANAGE_CONSENT)
    errors: dict[str, str] = {}
    try:
        chosen = parse_channels(channels)
    except ValueError as exc:
        errors["channel"] = str(exc)
    try:
        method = parse_choice(ConsentMethod, evidence.method, required=True)
    except ValueError as exc:
        errors["method"] = str(exc)
    try:
        wording = clean_text(evidence.wording, max_len=MAX_NOTE, required=True, multiline=True)
    except ValueError as exc:
        errors["evidence"] = (
            "is required: what the person was told when they agreed, or a reference to it"
            if str(exc) == "is required"
            else str(exc)
        )
    try:
        policy = clean_text(evidence.policy_version, max_len=50)
        given_by = clean_text(evidence.given_by, max_len=200)
    except ValueError as exc:
        errors["policy_version"] = str(exc)
    try:
        given_at = parse_datetime(evidence.given_at) or utcnow()
        if (given_at - utcnow()).total_seconds() > 300:
            errors["given_at"] = "cannot be in the future"
    except ValueError as exc:
        errors["given_at"] = str(exc)
    if errors:
        raise ValidationError(errors)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        refuse_if_restricted(p)
        given_by = given_by or f"{p.first_name} {p.last_name}"
        for channel in chosen:
            perm = _permission(session, p.id, channel)
            if perm.opted_out_at is not None:
                _event(session, ctx, p.id, "opt-out-lifted", channel, by="explicit opt-in")
                perm.opted_out_at = perm.opt_out_source = perm.opt_out_reason = None
            perm.consent = True
            perm.consent_at = given_at
            perm.consent_method = method.value
            perm.consent_wording = wording
            perm.consent_policy_version = policy
            perm.consent_given_by = given_by
            perm.consent_recorded_by = ctx.user
            _event(
                session, ctx, p.id, "consent-granted", channel,
                method=method.value, wording=wording, policy_version=policy,
                given_by=given_by, given_at=given_at,
            )  # fmt: skip
        session.flush()
        _sync_opt_out_suppression(session, ctx, p, "opt-out")
        _touch(p)
        session.flush()
        return _view(session, p)


#: How long an opt-out waits for another program's write before it is kept for later.
OPT_OUT_WAIT_SECONDS = 5.0


def _late(pending_id: str | None, asked_at: datetime | None) -> dict:
    """What a kept opt-out (see services.pending) adds to its ledger events."""
    if pending_id is None:
        return {}
    return {"pending_id": pending_id, "asked_at": asked_at}


def _written_already(session: Session, prospect_id: int, pending_id: str | None) -> bool:
    """True if this kept opt-out was written before (another program retried it too)."""
    if pending_id is None:
        return False
    found = session.scalars(
        select(ConsentEvent.id).where(
            ConsentEvent.prospect_id == prospect_id, ConsentEvent.details.contains(pending_id)
        )
    ).first()
    return found is not None


def opt_out(
    ctx: Context,
    prospect_id: int,
    channels: str | Iterable[str] = "all",
    *,
    source: str = OptOutSource.OTHER.value,
    reason: str | None = None,
    wait: float | None = OPT_OUT_WAIT_SECONDS,
    pending_id: str | None = None,
    asked_at: datetime | None = None,
) -> MarketingView:
    """Opt a person out of channels (default: all). Never refused; honoured at once.

    Waits at most ``wait`` seconds for another program's write; past that it
    raises "The database is busy" having saved nothing (the window then keeps
    it, see services.pending). ``pending_id`` and ``asked_at`` are for writing
    such a kept opt-out later: it is dated when it was asked for, and written
    once however often it is retried.
    """
    ctx.require(Action.RECORD_OPT_OUT)
    chosen = parse_channels(channels)
    src = OptOutSource.parse(source)
    reason = _text("reason", reason)
    with ctx.db.transaction(wait=wait) as session:
        p = _load(session, prospect_id)
        if not _written_already(session, p.id, pending_id):
            apply_opt_out(
                session, ctx, p, chosen, src, reason, at=asked_at,
                late=_late(pending_id, asked_at),
            )  # fmt: skip
        return _view(session, p)


def _mark_opted_out(
    session: Session,
    p: Prospect,
    channels: Iterable[Channel],
    source: str,
    reason: str | None,
    at: datetime | None = None,
) -> bool:
    """Set the opt-out state of channels; True if any was not opted out before."""
    now = at or utcnow()
    changed = False
    for channel in channels:
        perm = _permission(session, p.id, channel)
        if perm.opted_out_at is None:
            perm.opted_out_at = now
            changed = True
        perm.opt_out_source = source
        perm.opt_out_reason = reason
    return changed


def apply_opt_out(
    session: Session,
    ctx: Context,
    p: Prospect,
    channels: list[Channel],
    source: OptOutSource,
    reason: str | None,
    *,
    at: datetime | None = None,
    late: dict | None = None,
) -> bool:
    """Opt out inside the caller's transaction. False if already opted out of all of them."""
    changed = _mark_opted_out(session, p, channels, source.value, reason, at)
    for channel in channels:
        _event(session, ctx, p.id, "opted-out", channel, source=source.value, reason=reason,
               **(late or {}))  # fmt: skip
    session.flush()
    _sync_opt_out_suppression(session, ctx, p, "opt-out")
    _touch(p)
    session.flush()
    return changed


def object_to_marketing(
    ctx: Context,
    prospect_id: int,
    *,
    source: str = OptOutSource.OTHER.value,
    reason: str | None = None,
    wait: float | None = OPT_OUT_WAIT_SECONDS,
    pending_id: str | None = None,
    asked_at: datetime | None = None,
) -> MarketingView:
    """The absolute right to object: opts out of every channel and suppresses.

    ``wait``, ``pending_id`` and ``asked_at`` as for :func:`opt_out`.
    """
    ctx.require(Action.RECORD_OPT_OUT)
    reason = _text("reason", reason)
    with ctx.db.transaction(wait=wait) as session:
        p = _load(session, prospect_id)
        if _written_already(session, p.id, pending_id):
            return _view(session, p)
        _event(
            session,
            ctx,
            p.id,
            "objected",
            None,
            source=OptOutSource.parse(source).value,
            reason=reason,
            **_late(pending_id, asked_at),
        )
        _mark_opted_out(
            session, p, Channel, OptOutSource.parse(source).value,
            reason or "Objected to direct marketing", asked_at,
        )  # fmt: skip
        session.flush()
        _sync_opt_out_suppression(session, ctx, p, "objection")
        _touch(p)
        session.flush()
        return _view(session, p)


def set_lawful_basis(
    ctx: Context,
    prospect_id: int,
    basis: str,
    *,
    li_assessment_id: int | None = None,
    note: str | None = None,
) -> MarketingView:
    """Set the person's basis for marketing.

    Legitimate interest needs a written note: a linked assessment, or a
    per-prospect note (or both).
    """
    ctx.require(Action.MANAGE_CONSENT)
    chosen = LawfulBasis.parse(basis)
    note = _text("note", note)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        refuse_if_restricted(p)
        if chosen is LawfulBasis.LEGITIMATE_INTEREST:
            if li_assessment_id is not None and session.get(LIAssessment, li_assessment_id) is None:
                raise ValidationError({"assessment": f"no assessment with id {li_assessment_id}"})
            if li_assessment_id is None and not note:
                raise ValidationError(
                    {
                        "note": "legitimate interest needs a written note: pick an assessment "
                        "or write why marketing to this person is necessary and fair"
                    }
                )
            p.li_assessment_id, p.li_note = li_assessment_id, note
        else:
            p.li_assessment_id, p.li_note = None, None
        old = p.lawful_basis
        p.lawful_basis = chosen.value
        _event(
            session, ctx, p.id, "basis-set", None,
            old=old, new=chosen.value, assessment_id=p.li_assessment_id, note=p.li_note,
        )  # fmt: skip
        _touch(p)
        session.flush()
        return _view(session, p)


def set_subscriber_type(ctx: Context, prospect_id: int, value: str | None) -> MarketingView:
    """Override the inferred PECR subscriber type; None goes back to inferring."""
    ctx.require(Action.MANAGE_CONSENT)
    chosen = SubscriberType.parse(value) if value else None
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        refuse_if_restricted(p)
        old = subscriber_type(p.email, p.subscriber_type_override)
        p.subscriber_type_override = chosen.value if chosen else None
        new = subscriber_type(p.email, p.subscriber_type_override)
        _event(
            session, ctx, p.id, "subscriber-type-set", None,
            old=old.value, new=new.value, inferred=chosen is None,
            inferred_value=infer_subscriber_type(p.email).value,
        )  # fmt: skip
        _touch(p)
        session.flush()
        return _view(session, p)


def set_personalisation(ctx: Context, prospect_id: int, *, refused: bool) -> MarketingView:
    """Record that a person refuses (or accepts again) personalised marketing."""
    ctx.require(Action.MANAGE_CONSENT)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        refuse_if_restricted(p)
        if p.personalisation_refused != refused:
            p.personalisation_refused = refused
            action = "personalisation-refused" if refused else "personalisation-allowed"
            _event(session, ctx, p.id, action, None)
            _touch(p)
            session.flush()
        return _view(session, p)


def exclusions_for(
    ctx: Context, prospect_id: int, channel: str, *, personalised: bool = False
) -> list[Exclusion]:
    """Why this person may not be marketed to on ``channel`` ([] if they may)."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        p = _load(session, prospect_id)
        return exclusion_reasons(
            facts_for(session, p), Channel.parse(channel), personalised=personalised
        )
