"""The managed list of our services that prospects can be interested in."""

from __future__ import annotations

from sqlalchemy import func, select

from ..domain.models import Interest, ProspectInterest
from ..domain.roles import Action
from ..domain.validation import ValidationError, clean_text
from ..errors import DuplicateError, NotFoundError
from . import audit
from .context import Context


def list_interests(ctx: Context) -> list[tuple[int, str, int]]:
    """(id, name, number of prospects) for every interest, by name."""
    ctx.require(Action.VIEW)
    counts = (
        select(ProspectInterest.interest_id, func.count().label("n"))
        .group_by(ProspectInterest.interest_id)
        .subquery()
    )
    stmt = (
        select(Interest.id, Interest.name, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.interest_id == Interest.id)
        .order_by(Interest.name_key)
    )
    with ctx.db.read() as session:
        return [tuple(row) for row in session.execute(stmt)]


def _clean(name: str) -> str:
    try:
        return clean_text(name, max_len=200, required=True)  # type: ignore[return-value]
    except ValueError as exc:
        raise ValidationError({"name": str(exc)}) from None


def add_interest(ctx: Context, name: str) -> int:
    ctx.require(Action.MANAGE_SETTINGS)
    clean = _clean(name)
    with ctx.db.transaction() as session:
        if session.scalar(select(Interest.id).where(Interest.name_key == clean.lower())):
            raise DuplicateError(f"'{clean}' is already on the list.")
        interest = Interest(name=clean, name_key=clean.lower())
        session.add(interest)
        session.flush()
        audit.record(session, ctx.user, "interest.added", "interest", interest.id, {"name": clean})
        return interest.id


def rename_interest(ctx: Context, interest_id: int, name: str) -> None:
    ctx.require(Action.MANAGE_SETTINGS)
    clean = _clean(name)
    with ctx.db.transaction() as session:
        interest = session.get(Interest, interest_id)
        if interest is None:
            raise NotFoundError(f"No interest with id {interest_id}.")
        other = session.scalar(
            select(Interest.id).where(
                Interest.name_key == clean.lower(), Interest.id != interest_id
            )
        )
        if other:
            raise DuplicateError(f"'{clean}' is already on the list.")
        audit.record_change(session, ctx.user, "interest.renamed", "interest", interest_id,
                            {"name": interest.name}, {"name": clean})  # fmt: skip
        interest.name = clean
        interest.name_key = clean.lower()


def delete_interest(ctx: Context, interest_id: int) -> None:
    """Remove an interest from the list and from every prospect that had it."""
    ctx.require(Action.MANAGE_SETTINGS)
    with ctx.db.transaction() as session:
        interest = session.get(Interest, interest_id)
        if interest is None:
            raise NotFoundError(f"No interest with id {interest_id}.")
        audit.record(session, ctx.user, "interest.deleted", "interest", interest_id,
                     {"name": interest.name})  # fmt: skip
        session.delete(interest)
