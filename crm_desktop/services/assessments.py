"""Reusable legitimate-interest assessments (the written LI note many prospects share)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..domain.models import MAX_NOTE, LIAssessment, Prospect
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text
from ..errors import DuplicateError, NotFoundError
from .context import Context
from .results import Jsonable


@dataclass(frozen=True)
class AssessmentView(Jsonable):
    id: int
    name: str
    purpose: str
    necessity: str
    balancing: str
    created_by: str
    created_at: datetime
    prospect_count: int = 0


def _clean(name, purpose, necessity, balancing) -> tuple[str, str, str, str]:
    errors: dict[str, str] = {}
    out = []
    for field, value, limit in (
        ("name", name, 200),
        ("purpose", purpose, MAX_NOTE),
        ("necessity", necessity, MAX_NOTE),
        ("balancing", balancing, MAX_NOTE),
    ):
        try:
            out.append(clean_text(value, max_len=limit, required=True, multiline=field != "name"))
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return tuple(out)  # type: ignore[return-value]


def create_assessment(
    ctx: Context, name: str, *, purpose: str, necessity: str, balancing: str
) -> AssessmentView:
    """Record a legitimate-interest assessment: purpose, necessity and balancing test."""
    ctx.require(Action.MANAGE_CONSENT)
    name, purpose, necessity, balancing = _clean(name, purpose, necessity, balancing)
    with ctx.db.transaction() as session:
        if session.scalar(select(LIAssessment.id).where(LIAssessment.name_key == name.lower())):
            raise DuplicateError(f"There is already an assessment called '{name}'.")
        row = LIAssessment(
            name=name,
            name_key=name.lower(),
            purpose=purpose,
            necessity=necessity,
            balancing=balancing,
            created_by=ctx.user,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return _view(row, 0)


def _view(row: LIAssessment, count: int) -> AssessmentView:
    return AssessmentView(
        id=row.id,
        name=row.name,
        purpose=row.purpose,
        necessity=row.necessity,
        balancing=row.balancing,
        created_by=row.created_by,
        created_at=row.created_at,
        prospect_count=count,
    )


def list_assessments(ctx: Context) -> list[AssessmentView]:
    ctx.require(Action.VIEW)
    counts = (
        select(Prospect.li_assessment_id, func.count().label("n"))
        .where(Prospect.li_assessment_id.is_not(None))
        .group_by(Prospect.li_assessment_id)
        .subquery()
    )
    stmt = (
        select(LIAssessment, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.li_assessment_id == LIAssessment.id)
        .order_by(LIAssessment.name_key)
    )
    with ctx.db.read() as session:
        return [_view(row, n) for row, n in session.execute(stmt)]


def get_assessment(ctx: Context, ref: int | str) -> AssessmentView:
    """By id, or by name (any case)."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        text = str(ref).strip()
        if text.isdigit():
            row = session.get(LIAssessment, int(text))
        else:
            row = session.scalars(
                select(LIAssessment).where(LIAssessment.name_key == text.lower())
            ).first()
        if row is None:
            raise NotFoundError(f"No legitimate-interest assessment '{text}'.")
        count = session.scalar(
            select(func.count()).select_from(Prospect).where(Prospect.li_assessment_id == row.id)
        )
        return _view(row, count or 0)
