"""Retention review (UK GDPR storage limitation).

Personal data may be kept no longer than it is needed. A person is *due for
review* when nothing has happened for ``retention_months`` (a per-database
setting, 24 by default) since the latest of: their last contact, the day
they were added (if never contacted), and the day a reviewer last decided
to keep them. A reviewer then either keeps them (with a reason, which
restarts the clock) or anonymises them through the same erasure as a
data-subject request, so their addresses stay suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from ..domain.dates import add_months
from ..domain.models import Prospect, School, Setting
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text
from ..errors import CrmError, NotFoundError
from . import audit, cleanup, rights
from .cleanup import Cleanup
from .context import Context
from .results import Jsonable

SETTING_KEY = "retention_months"
DEFAULT_MONTHS = 24
MIN_MONTHS, MAX_MONTHS = 1, 120


@dataclass(frozen=True)
class RetentionRow(Jsonable):
    """One person in the review queue. ``due_since`` is the day they became due."""

    id: int
    name: str
    school: str | None
    last_contact_at: datetime | None
    kept_at: datetime | None
    due_since: date


def _months(value: object) -> int:
    text = str(value).strip() if value is not None else ""
    try:
        months = int(text)
    except ValueError:
        raise ValidationError(
            {"months": f"must be a whole number of months (got '{text}')"}
        ) from None
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationError(
            {"months": f"must be between {MIN_MONTHS} and {MAX_MONTHS} months (got {months})"}
        )
    return months


def _stored_months(session: Session) -> int:
    row = session.get(Setting, SETTING_KEY)
    if row is None:
        return DEFAULT_MONTHS
    try:
        return _months(row.value)
    except ValidationError:  # a hand-edited database: fall back rather than hide everyone
        return DEFAULT_MONTHS


def get_retention_months(ctx: Context) -> int:
    ctx.require(Action.RETENTION_REVIEW)
    with ctx.db.read() as session:
        return _stored_months(session)


def set_retention_months(ctx: Context, months: int | str) -> int:
    """Change the review period (1-120 months) for everyone using this database."""
    ctx.require(Action.MANAGE_SETTINGS)
    value = _months(months)
    with ctx.db.transaction() as session:
        row = session.get(Setting, SETTING_KEY)
        old = _stored_months(session)
        if row is None:
            session.add(Setting(key=SETTING_KEY, value=str(value)))
        else:
            row.value = str(value)
        audit.record(
            session, ctx.user, "setting.changed", "setting", SETTING_KEY, {"from": old, "to": value}
        )
    return value


def _reference():
    """The moment the clock started: latest of last contact (else creation) and last keep."""
    base = func.coalesce(Prospect.last_contact_at, Prospect.created_at)
    kept = Prospect.retention_kept_at
    return case((and_(kept.is_not(None), kept > base), kept), else_=base)


def _due_filter(months: int, today: date):
    # Due on the anniversary day: reference day + months <= today.
    last_day = add_months(today, -months)
    cutoff = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    base = func.coalesce(Prospect.last_contact_at, Prospect.created_at)
    kept = Prospect.retention_kept_at
    return and_(
        Prospect.erased_at.is_(None),
        base < cutoff,
        or_(kept.is_(None), kept < cutoff),
    )


def review_queue(
    ctx: Context, *, today: date | None = None, offset: int = 0, limit: int | None = None
) -> list[RetentionRow]:
    """People due for review, longest overdue first (paged in SQL)."""
    ctx.require(Action.RETENTION_REVIEW)
    today = today or utcnow().date()
    with ctx.db.read() as session:
        months = _stored_months(session)
        ref = _reference().label("ref")
        stmt = (
            select(
                Prospect.id,
                Prospect.first_name,
                Prospect.last_name,
                School.name,
                Prospect.last_contact_at,
                Prospect.retention_kept_at,
                Prospect.created_at,
            )
            .select_from(Prospect)
            .outerjoin(School, School.id == Prospect.school_id)
            .where(_due_filter(months, today))
            .order_by(ref, Prospect.id)
            .offset(max(0, offset))
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = session.execute(stmt).all()
    result = []
    for pid, first, last, school, contact, kept, created in rows:
        start = contact or created
        if kept is not None and kept > start:
            start = kept
        result.append(
            RetentionRow(
                id=pid,
                name=f"{first} {last}",
                school=school,
                last_contact_at=contact,
                kept_at=kept,
                due_since=add_months(start.date(), months),
            )
        )
    return result


def count_due(ctx: Context, *, today: date | None = None) -> int:
    ctx.require(Action.RETENTION_REVIEW)
    today = today or utcnow().date()
    with ctx.db.read() as session:
        months = _stored_months(session)
        stmt = select(func.count()).select_from(Prospect).where(_due_filter(months, today))
        return session.scalar(stmt) or 0


def _unique(ids: Iterable[int]) -> list[int]:
    seen = list(dict.fromkeys(int(i) for i in ids))
    if not seen:
        raise CrmError("Choose at least one person.")
    return seen


def keep(ctx: Context, ids: Iterable[int], reason: str) -> int:
    """Keep these people (the reason is required); their clock starts again today."""
    ctx.require(Action.RETENTION_REVIEW)
    try:
        why = clean_text(reason, max_len=5000, required=True, multiline=True)
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None
    chosen = _unique(ids)
    now = utcnow()
    with ctx.db.transaction() as session:
        for pid in chosen:
            p = session.get(Prospect, pid)
            if p is None:
                raise NotFoundError(f"No prospect with id {pid}.")
            if p.erased_at is not None:
                raise CrmError(f"Prospect #{pid} was erased; there is nothing to keep.")
            p.retention_kept_at = now
            audit.record(
                session,
                ctx.user,
                "prospect.retention_kept",
                "prospect",
                pid,
                {"kept_at": now.isoformat()},
                reason=why,
            )
    return len(chosen)


@dataclass(frozen=True)
class Anonymised:
    """How many were anonymised, and what the clean-up of the files achieved."""

    count: int
    cleanup: Cleanup


def anonymise(
    ctx: Context,
    ids: Iterable[int],
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Anonymised:
    """Erase these people one by one, then scrub the database files once.

    Each erasure is its own transaction, so a cancel (checked between people)
    stops with the people already done anonymised for good; the scrub still
    runs for them. A clean-up is marked owed before the first erasure, so
    that if this is killed part-way the next start cleans the files of the
    people already done; only a scrub that finished clears the mark.
    """
    ctx.require(Action.RETENTION_REVIEW)
    ctx.require(Action.ERASE)
    chosen = _unique(ids)
    done: list[int] = []
    if progress:
        progress(0, len(chosen))
    with ctx.db.transaction() as session:
        cleanup.mark_owed(session)
    try:
        for pid in chosen:
            if should_cancel and should_cancel():
                break
            with ctx.db.read() as session:
                p = session.get(Prospect, pid)
                if p is None:
                    raise NotFoundError(f"No prospect with id {pid}.")
                full_name = f"{p.first_name} {p.last_name}"
            rights.erase(ctx, pid, confirm=full_name, scrub=False)
            done.append(pid)
            if progress:
                progress(len(done), len(chosen))
    finally:
        # Also after a failure part-way: the people already erased must not
        # linger in the database files.
        if done:
            with ctx.db.transaction() as session:
                audit.record(
                    session,
                    ctx.user,
                    "retention.anonymised",
                    "prospect",
                    None,
                    {"ids": done, "requested": len(chosen)},
                    reason="retention review",
                )
        # Even if nobody was done: only a finished clean-up clears the mark.
        outcome = cleanup.run(ctx.db)
    return Anonymised(len(done), outcome)
