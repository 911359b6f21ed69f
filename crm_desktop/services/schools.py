"""School (establishment) use cases."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from ..domain.models import Prospect, School
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import (
    SchoolData,
    SchoolInput,
    ValidationError,
    clean_text,
    validate_school,
)
from ..errors import ConflictError, DuplicateError, NotFoundError
from . import audit
from .context import Context
from .results import Saved, SchoolView


def _view(session: Session, s: School, count: int | None = None) -> SchoolView:
    if count is None:
        count = session.scalar(select(func.count()).where(Prospect.school_id == s.id)) or 0
    return SchoolView(
        id=s.id,
        name=s.name,
        urn=s.urn,
        phase=s.phase,
        local_authority=s.local_authority,
        postcode=s.postcode,
        phone=s.phone,
        website=s.website,
        version=s.version,
        prospect_count=count,
    )


def _audited(s: School) -> dict:
    return {
        "name": s.name, "urn": s.urn, "phase": s.phase, "local_authority": s.local_authority,
        "postcode": s.postcode, "phone": s.phone, "website": s.website,
    }  # fmt: skip


def _load(session: Session, school_id: int) -> School:
    s = session.get(School, school_id)
    if s is None:
        raise NotFoundError(f"No school with id {school_id}.")
    return s


def school_for_name(session: Session, name: str) -> School:
    """The school with this name (any case), created if there is none.

    Used inside another action's transaction (adding a prospect with a new
    school is one action).
    """
    name = clean_text(name, max_len=200, required=True)
    matches = list(session.scalars(select(School).where(School.name_key == name.lower()).limit(3)))
    if len(matches) > 1:
        urns = ", ".join(m.urn or f"id {m.id}" for m in matches)
        raise ValidationError(
            {"school": f"more than one school is called '{name}' ({urns}); pick one by id"}
        )
    if matches:
        return matches[0]
    now = utcnow()
    school = School(name=name, name_key=name.lower(), created_at=now, updated_at=now)
    session.add(school)
    session.flush()
    return school


def _check_urn(session: Session, data: SchoolData, exclude_id: int | None) -> None:
    if not data.urn:
        return
    stmt = select(School).where(School.urn == data.urn)
    if exclude_id is not None:
        stmt = stmt.where(School.id != exclude_id)
    other = session.scalars(stmt).first()
    if other is not None:
        raise DuplicateError(f"URN {data.urn} already belongs to {other.name}.")


def _apply(s: School, data: SchoolData) -> None:
    s.name = data.name
    s.name_key = data.name.lower()
    s.urn = data.urn
    s.phase = data.phase.value if data.phase else None
    s.local_authority = data.local_authority
    s.postcode = data.postcode
    s.phone = data.phone
    s.website = data.website


def create_school(ctx: Context, data: SchoolInput) -> Saved:
    ctx.require(Action.EDIT_RECORDS)
    clean = validate_school(data)
    with ctx.db.transaction() as session:
        _check_urn(session, clean, None)
        now = utcnow()
        s = School(name="", name_key="", created_at=now, updated_at=now)
        _apply(s, clean)
        session.add(s)
        session.flush()
        audit.record_change(session, ctx.user, "school.created", "school", s.id, {}, _audited(s))
        return Saved(_view(session, s), clean.warnings)


def update_school(
    ctx: Context, school_id: int, data: SchoolInput, *, expected_version: int | None = None
) -> Saved:
    ctx.require(Action.EDIT_RECORDS)
    clean = validate_school(data)
    with ctx.db.transaction() as session:
        s = _load(session, school_id)
        if expected_version is not None and s.version != expected_version:
            raise ConflictError(
                f"{s.name} was changed by someone else since you opened it. "
                "Reload to see their changes, then reapply yours."
            )
        _check_urn(session, clean, school_id)
        before = _audited(s)
        _apply(s, clean)
        s.updated_at = utcnow()
        s.version += 1
        session.flush()
        audit.record_change(session, ctx.user, "school.edited", "school", s.id, before, _audited(s))
        return Saved(_view(session, s), clean.warnings)


def delete_school(ctx: Context, school_id: int) -> SchoolView:
    """Delete a school; its prospects stay, with no school."""
    ctx.require(Action.EDIT_RECORDS)
    with ctx.db.transaction() as session:
        s = _load(session, school_id)
        view = _view(session, s)
        audit.record_change(session, ctx.user, "school.deleted", "school", s.id, _audited(s), {})
        session.delete(s)
    return view


def get_school(ctx: Context, school_id: int) -> SchoolView:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return _view(session, _load(session, school_id))


def list_schools(ctx: Context, search: str = "", *, limit: int | None = None) -> list[SchoolView]:
    """Schools whose name, URN, region or postcode contains ``search``, by name."""
    ctx.require(Action.VIEW)
    counts = (
        select(Prospect.school_id, func.count().label("n"))
        .where(Prospect.school_id.is_not(None))
        .group_by(Prospect.school_id)
        .subquery()
    )
    stmt = select(School, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.school_id == School.id
    )
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            School.name_key.like(pattern, escape="\\")
            | School.urn.like(pattern, escape="\\")
            | func.lower(School.local_authority).like(pattern, escape="\\")
            | func.lower(School.postcode).like(pattern, escape="\\")
        )
    stmt = stmt.order_by(School.name_key, School.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with ctx.db.read() as session:
        return [_view(session, s, n) for s, n in session.execute(stmt)]


def school_names(ctx: Context) -> list[tuple[int, str]]:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return list(session.execute(select(School.id, School.name).order_by(School.name_key)))
