"""The correspondence log and follow-ups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session

from ..domain.models import Correspondence, Prospect, School
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ContactInput, validate_contact
from ..errors import CrmError, NotFoundError
from . import audit
from .context import Context
from .rights import refuse_if_restricted
from .views import ContactView, FollowUpView


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


def log_contact(ctx: Context, prospect_id: int, data: ContactInput) -> ContactView:
    """Record a contact with a prospect (and an optional follow-up date)."""
    ctx.require(Action.LOG_CONTACT)
    now = utcnow()
    clean = validate_contact(data, now=now)
    with ctx.db.transaction() as session:
        prospect = session.get(Prospect, prospect_id)
        if prospect is None:
            raise NotFoundError(f"No prospect with id {prospect_id}.")
        refuse_if_restricted(prospect)
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
        refresh_contact_summary(session, prospect_id)
        audit.record(session, ctx.user, "correspondence.logged", "prospect", prospect_id, {
            "entry": c.id, "kind": c.kind, "occurred_at": c.occurred_at.isoformat(),
            "subject": c.subject, "summary": c.summary,
            "follow_up_on": c.follow_up_on.isoformat() if c.follow_up_on else None,
        })  # fmt: skip
        return _view(c)


def list_correspondence(ctx: Context, prospect_id: int) -> list[ContactView]:
    """A prospect's correspondence, newest first."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Correspondence)
            .where(Correspondence.prospect_id == prospect_id)
            .order_by(Correspondence.occurred_at.desc(), Correspondence.id.desc())
        )
        return [_view(c) for c in rows]


def followup_status(due: date, today: date) -> str:
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    return "upcoming"


def list_followups(
    ctx: Context, *, mine: bool = False, today: date | None = None, limit: int | None = None
) -> list[FollowUpView]:
    """Open follow-ups, overdue first, then by date. ``mine``: assigned to me."""
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
            session.execute(
                update(Correspondence)
                .where(Correspondence.id == contact_id)
                .values(follow_up_done_at=utcnow())
            )
            session.refresh(c)
            refresh_contact_summary(session, c.prospect_id)
            audit.record(session, ctx.user, "followup.done", "prospect", c.prospect_id,
                         {"entry": c.id, "due": c.follow_up_on.isoformat()})  # fmt: skip
        return _view(c)
