"""Prospect use cases: add, edit, delete, find, list, count."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from sqlalchemy import case, delete, func, nulls_last, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..domain.eligibility import channels_suppressed_by
from ..domain.enums import Channel, DataSource, OptOutSource, Stage
from ..domain.models import ImportMember, Interest, Prospect, ProspectInterest, School
from ..domain.restriction import refuse_if_restricted
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import (
    ProspectData,
    ProspectInput,
    ValidationError,
    clean_text,
    email_key,
    format_phone,
)
from ..errors import ConflictError, DuplicateError, NotFoundError
from ..persistence.search import prospect_search_condition
from . import audit, contact_points, suppression
from .context import Context
from .marketing import apply_opt_out
from .results import ProspectRow, ProspectView, Saved
from .schools import school_for_name

# Columns a person can sort the prospect table by.
SORT_KEYS = ("name", "school", "role", "stage", "owner", "last_contact", "next_follow_up", "email")

_STAGE_ORDER = case({s.value: i for i, s in enumerate(Stage)}, value=Prospect.stage, else_=99)


@dataclass(frozen=True)
class ProspectQuery:
    """What the prospect table shows: search text, filters and order."""

    search: str = ""
    school_id: int | None = None
    role: str | None = None
    interest_id: int | None = None
    stage: str | None = None
    owner: str | None = None
    # Only the people one import brought in: created, updated or opted out by it.
    import_id: int | None = None
    sort: str = "name"
    descending: bool = False


# ----------------------------------------------------------------- reading


def _view(session: Session, p: Prospect) -> ProspectView:
    school_name = session.get(School, p.school_id).name if p.school_id else None
    interests = list(
        session.scalars(
            select(Interest.name)
            .join(ProspectInterest, ProspectInterest.interest_id == Interest.id)
            .where(ProspectInterest.prospect_id == p.id)
            .order_by(Interest.name_key)
        )
    )
    others = contact_points.other_addresses(session, p.id)
    return ProspectView(
        **{f.name: getattr(p, f.name) for f in fields(ProspectView) if hasattr(p, f.name)},
        school_name=school_name,
        interests=interests,
        other_emails=[a.value for a in others if a.kind == contact_points.EMAIL],
        other_phones=[a.value for a in others if a.kind == contact_points.PHONE],
        origins=contact_points.origins(session, p.id),
    )


def _load(session: Session, prospect_id: int) -> Prospect:
    p = session.get(Prospect, prospect_id)
    if p is None:
        raise NotFoundError(f"No prospect with id {prospect_id}.")
    return p


def get_prospect(ctx: Context, prospect_id: int) -> ProspectView:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return _view(session, _load(session, prospect_id))


def find_prospect(ctx: Context, ref: str | int) -> ProspectView:
    """A prospect by id (digits, or #digits) or by email address."""
    ctx.require(Action.VIEW)
    text = str(ref).strip()
    with ctx.db.read() as session:
        if text.lstrip("#").isdigit():
            return _view(session, _load(session, int(text.lstrip("#"))))
        p = session.scalars(select(Prospect).where(Prospect.email_key == text.lower())).first()
        if p is None:
            # Someone's extra address finds them too (an opt-out sent from
            # their second address must reach them), when it is only theirs.
            holders = contact_points.find_by_address(session, text) if "@" in text else []
            if len(holders) == 1:
                p = session.get(Prospect, holders[0])
            elif holders:
                ids = ", ".join(f"#{i}" for i in sorted(holders))
                raise NotFoundError(
                    f"'{text}' is an other email address of several prospects ({ids}); "
                    "name one by its id."
                )
        if p is None:
            raise NotFoundError(f"No prospect with id or email '{text}'.")
        return _view(session, p)


def _needs_school(ctx: Context, q: ProspectQuery) -> bool:
    """Whether the search or the sort reads the school's columns."""
    return q.sort == "school" or (bool(q.search.strip()) and ctx.db.dialect != "sqlite")


def _filtered(ctx: Context, stmt, q: ProspectQuery, *, join_school: bool = True):
    stmt = stmt.select_from(Prospect)
    if join_school or _needs_school(ctx, q):
        stmt = stmt.outerjoin(School, School.id == Prospect.school_id)
    condition = prospect_search_condition(ctx.db.dialect, q.search)
    if condition is not None:
        stmt = stmt.where(condition)
    if q.school_id is not None:
        stmt = stmt.where(Prospect.school_id == q.school_id)
    if q.role:
        stmt = stmt.where(func.lower(Prospect.role) == q.role.lower())
    if q.stage:
        stmt = stmt.where(Prospect.stage == q.stage)
    if q.owner:
        stmt = stmt.where(Prospect.owner == q.owner)
    if q.interest_id is not None:
        stmt = stmt.where(
            Prospect.id.in_(
                select(ProspectInterest.prospect_id).where(
                    ProspectInterest.interest_id == q.interest_id
                )
            )
        )
    if q.import_id is not None:
        stmt = stmt.where(
            Prospect.id.in_(
                select(ImportMember.prospect_id).where(ImportMember.import_id == q.import_id)
            )
        )
    return stmt


def _order(q: ProspectQuery):
    keys = {
        "name": [Prospect.last_name, Prospect.first_name],
        # The school's id after its name: schools walked in index order.
        "school": [School.name_key, School.id],
        "role": [Prospect.role],
        "stage": [_STAGE_ORDER, Prospect.stage],
        "owner": [Prospect.owner],
        "last_contact": [Prospect.last_contact_at],
        "next_follow_up": [Prospect.next_follow_up],
        "email": [Prospect.email_key],
    }
    if q.sort not in keys:
        raise ValueError(f"unknown sort key {q.sort!r}")
    # Empty values sort last either way (NOT NULL columns need no help, and
    # leaving them bare lets SQLite walk an index instead of sorting).
    order = []
    for column in keys[q.sort]:
        ordered = column.desc() if q.descending else column.asc()
        # The school's columns are outer-joined: no school reads as empty.
        nullable = getattr(column, "nullable", True) or q.sort == "school"
        order.append(nulls_last(ordered) if nullable else ordered)
    # id keeps the order stable for paging.
    order.append(Prospect.id.desc() if q.descending else Prospect.id.asc())
    return order


def count_prospects(
    ctx: Context, q: ProspectQuery = ProspectQuery(), *, at_most: int | None = None
) -> int:
    """How many prospects ``q`` matches.

    With ``at_most``, counting stops past it: the answer is then
    ``at_most + 1`` for "more than ``at_most``" (a search of one letter at a
    million prospects matches most of them; a screen can say "1,000+" at
    once and count the rest later).
    """
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        if at_most is None:
            return session.scalar(_filtered(ctx, select(func.count()), q, join_school=False)) or 0
        some = _filtered(ctx, select(Prospect.id), q, join_school=False).limit(at_most + 1)
        return session.scalar(select(func.count()).select_from(some.subquery())) or 0


def matching_ids(ctx: Context, q: ProspectQuery = ProspectQuery()):
    """A SELECT of the ids of every prospect ``q`` matches (for acting on "all matching")."""
    return _filtered(ctx, select(Prospect.id), q)


_ROW_COLUMNS = (
    Prospect.id,
    Prospect.first_name,
    Prospect.last_name,
    Prospect.email,
    School.name,
    Prospect.role,
    Prospect.stage,
    Prospect.owner,
    Prospect.last_contact_at,
    Prospect.next_follow_up,
)


def list_prospects(
    ctx: Context,
    q: ProspectQuery = ProspectQuery(),
    *,
    offset: int = 0,
    limit: int | None = None,
    total: int | None = None,
) -> list[ProspectRow]:
    """One page of the prospect table (all matches without ``limit``).

    Fast at any depth. The page's ids are found first, by a narrow query
    that walks the sort's index (see :func:`_arms`) and stops after the
    page; then only the page's rows are read (a "deferred join"). With
    ``total`` (how many ``q`` matches, as the caller last counted), a page
    in the second half is read from the end backwards, so the last page
    costs what the first does.
    """
    ctx.require(Action.VIEW)
    if limit is None:
        return list(iter_prospects(ctx, q))
    with ctx.db.read() as session:
        ids = _page_ids(ctx, session, q, offset, limit, total)
        if not ids:
            return []
        # The ids were found with the search and filters: the rows need neither.
        stmt = (
            select(*_ROW_COLUMNS)
            .select_from(Prospect)
            .outerjoin(School, School.id == Prospect.school_id)
            .where(Prospect.id.in_(ids))
        )
        rows = {row[0]: ProspectRow(*row) for row in session.execute(stmt)}
    return [rows[i] for i in ids if i in rows]


# An ordering term: (column, descending).
_Term = tuple[object, bool]


def _arms(q: ProspectQuery) -> list[tuple[object | None, list[_Term]]]:
    """The sort of ``q`` as a sequence of (condition, ordering) parts.

    Listed one after the other, each part ordered by its ordering, they are
    exactly ``ORDER BY _order(q)``; but each part's ordering is one index
    walked in one direction (``ORDER BY role NULLS LAST`` or a CASE over the
    stages cannot be), so ``LIMIT`` stops after the page. Empty values are
    a part of their own, last either way, in id order.
    """
    d = q.descending
    if q.sort == "name":
        return [(None, [(Prospect.last_name, d), (Prospect.first_name, d), (Prospect.id, d)])]
    if q.sort == "stage":
        known = [s.value for s in Stage]
        parts = [(Prospect.stage == value, [(Prospect.id, d)]) for value in known]
        # Stages this version does not know sort after all of them, by stage
        # and id: the index's ranges between the known values, normally empty.
        bounds = sorted(known)
        gaps = [Prospect.stage < bounds[0]]
        gaps += [
            (Prospect.stage > a) & (Prospect.stage < b)
            for a, b in zip(bounds, bounds[1:], strict=False)
        ]
        gaps.append(Prospect.stage > bounds[-1])
        parts += [(gap, [(Prospect.stage, d), (Prospect.id, d)]) for gap in gaps]
        return parts[::-1] if d else parts
    if q.sort == "school":
        terms = [(School.name_key, d), (School.id, d), (Prospect.id, d)]
        return [(School.id.is_not(None), terms), (Prospect.school_id.is_(None), [(Prospect.id, d)])]
    column = {
        "role": Prospect.role,
        "owner": Prospect.owner,
        "last_contact": Prospect.last_contact_at,
        "next_follow_up": Prospect.next_follow_up,
        "email": Prospect.email_key,
    }.get(q.sort)
    if column is None:
        raise ValueError(f"unknown sort key {q.sort!r}")
    return [
        (column.is_not(None), [(column, d), (Prospect.id, d)]),
        (column.is_(None), [(Prospect.id, d)]),
    ]


def _reversed(arms):
    return [(cond, [(col, not desc) for col, desc in terms]) for cond, terms in arms[::-1]]


def _page_ids(ctx: Context, session: Session, q: ProspectQuery, offset, limit, total) -> list[int]:
    offset, limit = max(offset, 0), max(limit, 0)
    if not limit:
        return []
    if q.search.strip():
        # The search's matches are found first (an FTS5 query on SQLite), and
        # the sort orders only those: one query.
        stmt = _filtered(ctx, select(Prospect.id), q, join_school=False).order_by(*_order(q))
        return list(session.scalars(stmt.offset(offset).limit(limit)))
    arms = _arms(q)
    backwards = total is not None and offset + limit // 2 > total // 2
    if backwards:
        end = max(total - offset, 0)
        offset = max(total - offset - limit, 0)
        limit = end - offset
        arms = _reversed(arms)
    ids: list[int] = []
    base = _filtered(ctx, select(Prospect.id), q, join_school=False)
    for condition, terms in arms:
        if limit <= 0:
            break
        part = base if condition is None else base.where(condition)
        order = [col.desc() if desc else col.asc() for col, desc in terms]
        got = list(session.scalars(part.order_by(*order).offset(offset or None).limit(limit)))
        if not got and offset:
            # The page starts past this part: skip it by its size (an index count).
            size = session.scalar(select(func.count()).select_from(part.subquery())) or 0
            offset = max(offset - size, 0)
            continue
        ids += got
        limit -= len(got)
        offset = 0
    return ids[::-1] if backwards else ids


def iter_prospects(
    ctx: Context, q: ProspectQuery = ProspectQuery(), *, batch: int = 2_000
) -> Iterator[ProspectRow]:
    """Every match in order, streamed from one query on one snapshot.

    Memory stays bounded however many prospects there are (for listings and
    scripts that want them all).
    """
    ctx.require(Action.VIEW)
    stmt = _filtered(ctx, select(*_ROW_COLUMNS), q).order_by(*_order(q))
    with ctx.db.read() as session:
        for row in session.execute(stmt.execution_options(yield_per=batch)):
            yield ProspectRow(*row)


def list_owners(ctx: Context) -> list[str]:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        owners = session.scalars(
            select(Prospect.owner).where(Prospect.owner.is_not(None)).distinct()
        )
        return sorted(owners, key=str.lower)


def list_roles(ctx: Context) -> list[str]:
    """Job roles in use (the picklist adds the standard ones)."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        roles = session.scalars(select(Prospect.role).where(Prospect.role.is_not(None)).distinct())
        return sorted(roles, key=str.lower)


def has_prospects(ctx: Context) -> bool:
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return session.scalar(select(Prospect.id).limit(1)) is not None


# ----------------------------------------------------------------- writing


def _check_unique_email(session: Session, data: ProspectData, exclude_id: int | None) -> None:
    if not data.email:
        return
    stmt = select(Prospect).where(Prospect.email_key == email_key(data.email))
    if exclude_id is not None:
        stmt = stmt.where(Prospect.id != exclude_id)
    other = session.scalars(stmt).first()
    if other is not None:
        raise DuplicateError(
            f"{data.email} is already the email of {other.first_name} {other.last_name} "
            f"(prospect #{other.id})."
        )


def _set_interests(session: Session, prospect_id: int, names: list[str]) -> None:
    session.execute(delete(ProspectInterest).where(ProspectInterest.prospect_id == prospect_id))
    for name in names:
        interest = session.scalars(
            select(Interest).where(Interest.name_key == name.lower())
        ).first()
        if interest is None:
            raise ValidationError({"interests": f"'{name}' is not one of our services"})
        session.add(ProspectInterest(prospect_id=prospect_id, interest_id=interest.id))


def _resolve_school(session: Session, data: ProspectData) -> int | None:
    if data.school_id is not None:
        if session.get(School, data.school_id) is None:
            raise ValidationError({"school": f"no school with id {data.school_id}"})
        return data.school_id
    if data.school:
        return school_for_name(session, data.school).id
    return None


def _apply(p: Prospect, data: ProspectData, school_id: int | None) -> None:
    p.first_name = data.first_name
    p.last_name = data.last_name
    p.email = data.email
    p.email_key = email_key(data.email)
    p.phone = data.phone
    p.school_id = school_id
    p.role = data.role
    p.stage = data.stage.value
    p.owner = data.owner
    p.source = data.source.value if data.source else None
    p.source_detail = data.source_detail
    p.source_date = data.source_date


def _duplicate_from_integrity(exc: IntegrityError, data: ProspectData) -> DuplicateError:
    return DuplicateError(f"{data.email} is already the email of another prospect.")


def create_prospect(ctx: Context, data: ProspectInput | ProspectData) -> Saved:
    """Add a prospect. ``Saved.record`` is the new ProspectView."""
    ctx.require(Action.EDIT_RECORDS)
    from ..domain.validation import validate_prospect

    clean = data if isinstance(data, ProspectData) else validate_prospect(data)
    if clean.owner is None:
        clean.owner = ctx.user
    try:
        with ctx.db.transaction() as session:
            _check_unique_email(session, clean, None)
            now = utcnow()
            p = Prospect(first_name="", last_name="", created_at=now, updated_at=now)
            _apply(p, clean, _resolve_school(session, clean))
            session.add(p)
            session.flush()
            _set_interests(session, p.id, clean.interests)
            session.flush()
            view = _view(session, p)
            audit.record_change(session, ctx.user, "prospect.created", "prospect", p.id,
                                {}, _audited(view))  # fmt: skip
            suppressed = _honour_suppression(session, ctx, p, (p.email, p.phone))
            if suppressed:
                view = _view(session, p)
    except IntegrityError as exc:
        raise _duplicate_from_integrity(exc, clean) from exc
    return Saved(view, [*clean.warnings, *suppressed])


def suppressed_channels(session: Session, addresses) -> dict[str, list[Channel]]:
    """Address -> the channels it is suppressed for, as eligibility reads the list.

    An address suppressed for "all" is suppressed for every channel that uses
    that kind of address (an email address: email and online audiences); one
    suppressed for a channel, for that channel if it uses such an address.
    Addresses on no list are left out.
    """
    out: dict[str, list[Channel]] = {}
    for address in addresses:
        if not address:
            continue
        marks = suppression.channels_suppressed(session, address)
        if not marks:
            continue
        kind = "phone" if address.startswith("+") else "email"
        channels = channels_suppressed_by(kind, marks)
        if channels:
            out[address] = channels
    return out


def suppression_warning(address: str, channels: list[Channel], *, saved: bool = True) -> str:
    names = " and ".join(c.label for c in channels)
    those = "that channel" if len(channels) == 1 else "those channels"
    then = "saved, and recorded" if saved else "saving records this person"
    if address.startswith("+"):
        address = format_phone(address)
    return f"{address} is on the suppression list for {names}: {then} as opted out of {those}."


def check_suppressed(ctx: Context, email: str | None, phone: str | None = None) -> list[str]:
    """Warnings for a form, before saving: which of these addresses are suppressed.

    ``email`` and ``phone`` as typed; ones that are not valid addresses are
    skipped (the form's own validation reports them).
    """
    ctx.require(Action.EDIT_RECORDS)
    from ..domain.validation import normalise_email, normalise_phone

    addresses = []
    for value, parse in ((email, normalise_email), (phone, normalise_phone)):
        try:
            parsed = parse(value)
        except ValueError:
            continue
        if parsed:
            addresses.append(parsed if isinstance(parsed, str) else parsed.e164)
    with ctx.db.read() as session:
        found = suppressed_channels(session, addresses)
    return [suppression_warning(a, c, saved=False) for a, c in found.items()]


def _honour_suppression(session: Session, ctx: Context, p: Prospect, addresses) -> list[str]:
    """Record as opted out of the channels these addresses are suppressed for.

    A suppressed address (an erased or opted-out person's, or one marketing
    put on the list) is never marketed to; recording the opt-out on the new
    record, through the consent ledger, makes that visible on the person
    and keeps it if the list entry is ever lifted. Returns the warnings.
    """
    found = suppressed_channels(session, addresses)
    if not found:
        return []
    channels = [c for c in Channel if any(c in chosen for chosen in found.values())]
    apply_opt_out(
        session, ctx, p, channels, OptOutSource.OTHER,
        "The address was already on the suppression list when it was entered",
    )  # fmt: skip
    return [suppression_warning(a, c) for a, c in found.items()]


def _audited(view: ProspectView) -> dict:
    """The fields of a prospect the audit trail records (old -> new)."""
    return {
        "first_name": view.first_name,
        "last_name": view.last_name,
        "email": view.email,
        "phone": view.phone,
        "school": view.school_name,
        "role": view.role,
        "interests": ", ".join(view.interests) or None,
        "stage": view.stage,
        "owner": view.owner,
        "source": view.source,
        "source_detail": view.source_detail,
        "source_date": view.source_date.isoformat() if view.source_date else None,
    }


def update_prospect(
    ctx: Context,
    prospect_id: int,
    data: ProspectInput | ProspectData,
    *,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Saved:
    """Replace a prospect's fields with ``data``.

    With ``expected_version`` (the version the editor loaded), a save over
    someone else's newer save is refused with :class:`ConflictError`.
    ``reason`` (e.g. a rectification request) is kept in the audit trail.
    """
    ctx.require(Action.EDIT_RECORDS)
    from ..domain.validation import validate_prospect

    clean = data if isinstance(data, ProspectData) else validate_prospect(data)
    try:
        reason = clean_text(reason, max_len=1000)
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None
    try:
        with ctx.db.transaction() as session:
            p = _load(session, prospect_id)
            refuse_if_restricted(p)
            if expected_version is not None and p.version != expected_version:
                raise ConflictError(
                    f"{p.first_name} {p.last_name} was changed by someone else since you "
                    "opened it. Reload to see their changes, then reapply yours."
                )
            _check_unique_email(session, clean, prospect_id)
            before = _audited(_view(session, p))
            old_addresses = {p.email_key, p.phone}
            _apply(p, clean, _resolve_school(session, clean))
            p.updated_at = utcnow()
            p.version += 1
            session.flush()
            _set_interests(session, p.id, clean.interests)
            session.flush()
            view = _view(session, p)
            audit.record_change(session, ctx.user, "prospect.edited", "prospect", p.id,
                                before, _audited(view), reason=reason)  # fmt: skip
            # Only a new address can bring a new suppression with it.
            new = [a for a in (p.email, p.phone) if a and a.lower() not in old_addresses]
            suppressed = _honour_suppression(session, ctx, p, new)
            if suppressed:
                view = _view(session, p)
    except IntegrityError as exc:
        raise _duplicate_from_integrity(exc, clean) from exc
    return Saved(view, [*clean.warnings, *suppressed])


def set_stage(ctx: Context, prospect_id: int, stage: str) -> ProspectView:
    ctx.require(Action.EDIT_RECORDS)
    stage_value = Stage.parse(stage).value
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        refuse_if_restricted(p)
        old = p.stage
        session.execute(
            update(Prospect)
            .where(Prospect.id == prospect_id)
            .values(stage=stage_value, updated_at=utcnow(), version=p.version + 1)
        )
        session.refresh(p)
        audit.record_change(session, ctx.user, "prospect.edited", "prospect", p.id,
                            {"stage": old}, {"stage": stage_value})  # fmt: skip
        return _view(session, p)


def delete_prospect(ctx: Context, prospect_id: int) -> ProspectView:
    """Delete a prospect and their correspondence. Returns what was deleted.

    Their personal data leaves the audit trail too: the stored values and
    reasons of every earlier entry about them are blanked, as erasure does
    (their hashes stay, so the chain still verifies), and the deletion entry
    records none. Unlike erasure, their addresses are not suppressed: they
    may be added again later.
    """
    ctx.require(Action.EDIT_RECORDS)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        if p.restricted_at is not None:
            refuse_if_restricted(p)
        view = _view(session, p)
        session.delete(p)
        audit.redact(session, "prospect", p.id)
        audit.record(session, ctx.user, "prospect.deleted", "prospect", p.id)
    return view


# ------------------------------------------------------------ UI helpers


def prospect_position(
    ctx: Context, prospect_id: int, q: ProspectQuery = ProspectQuery()
) -> int | None:
    """The 0-based row of ``prospect_id`` in ``list_prospects(ctx, q)``, or None.

    Lets a paged table select a prospect (a new one, or one picked from the
    follow-ups list) without loading every row before it.
    """
    ctx.require(Action.VIEW)
    position = func.row_number().over(order_by=_order(q)).label("position")
    ranked = _filtered(ctx, select(Prospect.id.label("pid"), position), q).subquery()
    with ctx.db.read() as session:
        found = session.scalar(select(ranked.c.position).where(ranked.c.pid == prospect_id))
    return None if found is None else found - 1


# ------------------------------------------------------- edit conflicts

_EDITABLE = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("school", "School"),
    ("role", "Job role"),
    ("interests", "Interests"),
    ("stage", "Stage"),
    ("owner", "Owner"),
    ("source", "Source"),
    ("source_detail", "Source detail"),
    ("source_date", "Source date"),
)


def as_input(view: ProspectView) -> ProspectInput:
    """A prospect's current values as the form (or CLI) would submit them."""
    return ProspectInput(
        first_name=view.first_name,
        last_name=view.last_name,
        email=view.email,
        phone=view.phone_display or None,
        school_id=view.school_id,
        role=view.role,
        interests=list(view.interests),
        stage=view.stage,
        owner=view.owner,
        source=view.source,
        source_detail=view.source_detail,
        source_date=view.source_date,
    )


def _value(data: ProspectInput, field: str):
    if field == "school":
        return (data.school_id, (data.school or "").strip().lower() or None)
    if field == "interests":
        return sorted(i.strip().lower() for i in data.interests or ())
    value = getattr(data, field)
    return value.strip() if isinstance(value, str) and value.strip() else value or None


def differences(before: ProspectView, after: ProspectView) -> list[tuple[str, str, str]]:
    """(label, old, new) for every field someone changed between two versions."""
    out = []
    for field, label in _EDITABLE:
        old, new = _value(as_input(before), field), _value(as_input(after), field)
        if old != new:
            show = {
                "school": lambda v, view: view.school_name or "—",
                "interests": lambda v, view: ", ".join(view.interests) or "—",
                "stage": lambda v, view: Stage(v).label,
                "source": lambda v, view: DataSource(v).label if v else "—",
            }.get(field, lambda v, view: str(v) if v not in (None, "") else "—")
            out.append((label, show(old, before), show(new, after)))
    return out


def merge_edit(original: ProspectView, mine: ProspectInput, theirs: ProspectView) -> ProspectInput:
    """Reapply my edit on top of their newer version: fields I changed win, theirs stay."""
    base, merged = as_input(original), as_input(theirs)
    for field, _ in _EDITABLE:
        if _value(mine, field) != _value(base, field):
            if field == "school":
                merged.school_id, merged.school = mine.school_id, mine.school
            else:
                setattr(merged, field, getattr(mine, field))
    return merged
