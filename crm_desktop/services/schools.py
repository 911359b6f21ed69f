"""School (establishment) use cases."""

from __future__ import annotations

from sqlalchemy import case, func, select
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


def _prospect_count():
    """How many prospects a school has: counted per school shown (the school_id index),
    never for every school at once."""
    return (
        select(func.count())
        .where(Prospect.school_id == School.id)
        .correlate(School)
        .scalar_subquery()
    )


#: What the schools list sorts by (the column keys of ``list_schools``'s ``sort``).
SCHOOL_SORT_KEYS = ("name", "urn", "phase", "local_authority", "postcode", "phone", "website",
                    "prospects")  # fmt: skip


def _sort_column(key: str):
    columns = {
        "name": School.name_key,
        "urn": School.urn,
        "phase": School.phase,
        "local_authority": func.lower(School.local_authority),
        "postcode": School.postcode,
        "phone": School.phone,
        "website": func.lower(School.website),
        "prospects": _prospect_count(),
    }
    if key not in columns:
        raise ValueError(f"unknown sort key {key!r}")
    return columns[key]


def _matching(stmt, search: str):
    """``stmt`` narrowed to schools whose name, URN, region or postcode contains ``search``."""
    text = search.strip().lower()
    if not text:
        return stmt
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(
        School.name_key.like(pattern, escape="\\")
        | School.urn.like(pattern, escape="\\")
        | func.lower(School.local_authority).like(pattern, escape="\\")
        | func.lower(School.postcode).like(pattern, escape="\\")
    )


def _order_keys(sort: str, descending: bool) -> list:
    """Empty values last either way; ties by name, then id (a stable order for paging)."""
    column = _sort_column(sort)
    ordered = column.desc() if descending else column.asc()
    keys = (
        [ordered]
        if sort in ("name", "prospects")
        else [case((column.is_(None), 1), else_=0), ordered]
    )
    if sort != "name":
        keys.append(School.name_key)
    return [*keys, School.id.desc() if descending else School.id]


def list_schools(
    ctx: Context,
    search: str = "",
    *,
    limit: int | None = None,
    offset: int = 0,
    sort: str = "name",
    descending: bool = False,
) -> list[SchoolView]:
    """Schools whose name, URN, region or postcode contains ``search``, by ``sort``
    (one of :data:`SCHOOL_SORT_KEYS`; name by default), ``limit`` of them from ``offset``."""
    ctx.require(Action.VIEW)
    stmt = _matching(select(School, _prospect_count()), search).order_by(
        *_order_keys(sort, descending)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    with ctx.db.read() as session:
        return [_view(session, s, n) for s, n in session.execute(stmt)]


def count_schools(ctx: Context, search: str = "") -> int:
    """How many schools :func:`list_schools` lists for ``search``."""
    ctx.require(Action.VIEW)
    stmt = _matching(select(func.count()).select_from(School), search)
    with ctx.db.read() as session:
        return session.scalar(stmt) or 0


def school_position(
    ctx: Context, school_id: int, search: str = "", *, sort: str = "name", descending: bool = False
) -> int | None:
    """The row ``school_id`` has in :func:`list_schools`'s order, or None if it is not listed."""
    ctx.require(Action.VIEW)
    row_number = func.row_number().over(order_by=_order_keys(sort, descending))
    numbered = _matching(select(School.id, row_number.label("n")), search).subquery()
    stmt = select(numbered.c.n).where(numbered.c.id == school_id)
    with ctx.db.read() as session:
        found = session.scalar(stmt)
    return None if found is None else int(found) - 1


def school_names(ctx: Context) -> list[tuple[int, str]]:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return list(session.execute(select(School.id, School.name).order_by(School.name_key)))
