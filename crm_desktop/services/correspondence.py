"""The correspondence log and follow-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from ..domain.models import Correspondence, Prospect, School
from ..domain.restriction import refuse_if_restricted
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ContactInput, validate_contact
from ..errors import CrmError, NotFoundError
from . import audit
from .context import Context
from .results import ContactView, FollowUpView


def _view(c: Correspondence) -> ContactView:
    return ContactView(
        id=c.id,
        prospect_id=c.prospect_id,
        kind=c.kind,
        occurred_at=c.occurred_at,
        subject=c.subject,
        summary=c.summary,
        logged_by=c.logged_by,
        follow_up_on=c.follow_up_on,
        follow_up_done_at=c.follow_up_done_at,
    )


def refresh_contact_summary(session: Session, prospect_id: int) -> None:
    """Keep the prospect's last-contact and next-follow-up columns in step."""
    last = session.scalar(
        select(func.max(Correspondence.occurred_at)).where(
            Correspondence.prospect_id == prospect_id
        )
    )
    nxt = session.scalar(
        select(func.min(Correspondence.follow_up_on)).where(
            Correspondence.prospect_id == prospect_id,
            Correspondence.follow_up_done_at.is_(None),
        )
    )
    p = session.get(Prospect, prospect_id)
    p.last_contact_at = last
    p.next_follow_up = nxt


def _summary_after_append(p: Prospect, c: Correspondence) -> None:
    """Move ``p``'s summary columns to take in ``c``, just added (no follow-up closed).

    The same values :func:`refresh_contact_summary` would read back, without
    reading the prospect's whole log again (two aggregate queries over every
    entry of a prospect with a long history, on every save): adding an entry
    can only move the last contact later and the next open follow-up earlier.
    """
    if p.last_contact_at is None or c.occurred_at > p.last_contact_at:
        p.last_contact_at = c.occurred_at
    if c.follow_up_on is not None and (
        p.next_follow_up is None or c.follow_up_on < p.next_follow_up
    ):
        p.next_follow_up = c.follow_up_on


def follow_up_warnings(follow_up_on: date | None, *, today: date | None = None) -> list[str]:
    """What to tell someone about a follow-up date that is accepted anyway.

    A date in the past is allowed (a note of a follow-up already missed), but
    it is overdue the moment it is saved, so the person is told.
    """
    if follow_up_on is not None and follow_up_on < (today or date.today()):
        return ["The follow-up date has passed, so it shows as overdue at once."]
    return []


def log_contact(
    ctx: Context,
    prospect_id: int,
    data: ContactInput,
    *,
    close_followups: Sequence[int] = (),
) -> ContactView:
    """Record a contact with a prospect (and an optional follow-up date).

    ``close_followups``: ids of the prospect's open follow-ups that this
    contact answers; they are marked done in the same transaction (whoever
    owns them), each audited as :func:`complete_followup` does, so the
    contact and the closures are saved together or not at all.
    """
    ctx.require(Action.LOG_CONTACT)
    if close_followups:
        ctx.require(Action.MANAGE_FOLLOWUPS)
    now = utcnow()
    clean = validate_contact(data, now=now)
    with ctx.db.transaction() as session:
        prospect = session.get(Prospect, prospect_id)
        if prospect is None:
            raise NotFoundError(f"No prospect with id {prospect_id}.")
        refuse_if_restricted(prospect)
        closing = []
        for entry_id in dict.fromkeys(close_followups):
            old = session.get(Correspondence, entry_id)
            if old is None or old.prospect_id != prospect_id:
                raise NotFoundError(
                    f"No follow-up {entry_id} for {prospect.first_name} {prospect.last_name}."
                )
            if old.follow_up_on is None:
                raise CrmError("That entry has no follow-up to mark done.")
            closing.append(old)
        c = Correspondence(
            prospect_id=prospect_id,
            kind=clean.kind.value,
            occurred_at=clean.occurred_at,
            subject=clean.subject,
            summary=clean.summary,
            logged_by=ctx.user,
            follow_up_on=clean.follow_up_on,
            created_at=now,
        )
        session.add(c)
        session.flush()
        for old in closing:
            _mark_done(session, ctx, old, now, answered_by=c.id)
        if closing:
            refresh_contact_summary(session, prospect_id)
        else:
            _summary_after_append(prospect, c)
        audit.record(session, ctx.user, "correspondence.logged", "prospect", prospect_id, {
            "entry": c.id, "kind": c.kind, "occurred_at": c.occurred_at.isoformat(),
            "subject": c.subject, "summary": c.summary,
            "follow_up_on": c.follow_up_on.isoformat() if c.follow_up_on else None,
        })  # fmt: skip
        return _view(c)


def list_correspondence(
    ctx: Context,
    prospect_id: int,
    *,
    limit: int | None = None,
    older_than: ContactView | None = None,
) -> list[ContactView]:
    """A prospect's correspondence, newest first.

    ``limit``: at most that many entries; ``older_than``: only the entries
    after that one in this order (the next page of a timeline shown a page
    at a time). Both are served by the ``(prospect_id, occurred_at)`` index,
    so a page costs the same whether the prospect has ten entries or ten
    thousand.
    """
    ctx.require(Action.VIEW)
    stmt = select(Correspondence).where(Correspondence.prospect_id == prospect_id)
    if older_than is not None:
        when, entry = older_than.occurred_at, older_than.id
        stmt = stmt.where(
            (Correspondence.occurred_at < when)
            | ((Correspondence.occurred_at == when) & (Correspondence.id < entry))
        )
    stmt = stmt.order_by(Correspondence.occurred_at.desc(), Correspondence.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with ctx.db.read() as session:
        return [_view(c) for c in session.scalars(stmt)]


def count_correspondence(ctx: Context, prospect_id: int) -> int:
    """How many correspondence entries a prospect has (an index-only count)."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        stmt = select(func.count()).where(Correspondence.prospect_id == prospect_id)
        return session.scalar(stmt.select_from(Correspondence)) or 0


def followup_status(due: date, today: date) -> str:
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    return "upcoming"


def list_followups(
    ctx: Context,
    *,
    mine: bool = False,
    today: date | None = None,
    limit: int | None = None,
    prospect_id: int | None = None,
) -> list[FollowUpView]:
    """Open follow-ups, overdue first, then by date.

    ``mine``: assigned to me; ``prospect_id``: only that prospect's.
    """
    ctx.require(Action.VIEW)
    today = today or date.today()
    c = Correspondence.__table__.c  # plain columns: no ORM objects for long lists
    stmt = (
        select(
            c.id,
            c.prospect_id,
            Prospect.first_name,
            Prospect.last_name,
            School.name,
            c.follow_up_on,
            c.kind,
            c.subject,
            c.summary,
            c.logged_by,
        )
        .join(Prospect, Prospect.id == c.prospect_id)
        .outerjoin(School, School.id == Prospect.school_id)
        .where(c.follow_up_on.is_not(None), c.follow_up_done_at.is_(None))
        .order_by(c.follow_up_on, c.occurred_at, c.id)
    )
    if mine:
        stmt = stmt.where(c.logged_by == ctx.user)
    if prospect_id is not None:
        stmt = stmt.where(c.prospect_id == prospect_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with ctx.db.read() as session:
        return [
            FollowUpView(
                contact_id=cid,
                prospect_id=pid,
                prospect_name=f"{first} {last}",
                school_name=school,
                due=due,
                status=followup_status(due, today),
                kind=kind,
                subject=subject,
                summary=summary,
                assigned_to=by,
            )
            for cid, pid, first, last, school, due, kind, subject, summary, by in session.execute(
                stmt
            )
        ]


def _mark_done(
    session: Session,
    ctx: Context,
    c: Correspondence,
    now: datetime,
    *,
    answered_by: int | None = None,
) -> None:
    """Mark ``c``'s follow-up done and audit it; one already done is left as it is."""
    if c.follow_up_done_at is not None:
        return
    session.execute(
        update(Correspondence).where(Correspondence.id == c.id).values(follow_up_done_at=now)
    )
    session.refresh(c)
    details: dict[str, object] = {"entry": c.id, "due": c.follow_up_on.isoformat()}
    if answered_by is not None:
        details["answered_by"] = answered_by
    audit.record(session, ctx.user, "followup.done", "prospect", c.prospect_id, details)


def complete_followup(ctx: Context, contact_id: int) -> ContactView:
    """Mark a follow-up done."""
    ctx.require(Action.MANAGE_FOLLOWUPS)
    with ctx.db.transaction() as session:
        c = session.get(Correspondence, contact_id)
        if c is None:
            raise NotFoundError(f"No correspondence entry with id {contact_id}.")
        if c.follow_up_on is None:
            raise CrmError("That entry has no follow-up to mark done.")
        if c.follow_up_done_at is None:
            _mark_done(session, ctx, c, utcnow())
            refresh_contact_summary(session, c.prospect_id)
        return _view(c)
