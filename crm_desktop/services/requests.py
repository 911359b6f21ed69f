"""The register of data-subject requests: record, update, extend, close, list.

Every change is one transaction with its audit entry (``request.created``,
``request.updated``, ``request.extended``, ``request.closed``), so the
register and the audit trail can never disagree. Only roles allowed
``Action.DATA_SUBJECT_REQUESTS`` (managers and admins) may see or change
it: the register names people who asked about their data. The deadline
rules live in ``domain.requests``; this module stores what they decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import case, func, select
from sqlmodel import Session

from ..domain.models import AuditEntry, DataSubjectRequest, Prospect
from ..domain.requests import (
    REQUEST_RETENTION_YEARS,
    RequestInput,
    RequestKind,
    RequestStatus,
    check_close,
    check_extension,
    check_open,
    clean_notes,
    clean_requester,
    days_left,
    due_date,
    urgency,
    validate_request,
)
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, email_key, format_phone
from ..errors import ConflictError, NotFoundError
from . import audit
from .context import Context
from .results import Jsonable

ENTITY = "request"
OPEN_STATUSES = (RequestStatus.OPEN.value, RequestStatus.IN_PROGRESS.value)
# What can be done to answer a request and linked to it (``request.<action>`` entries).
ACTIONS = ("pack-made", "restricted", "erased")


def retention_cutoff(today: date) -> datetime:
    """Requests closed before this moment are past their retention period."""
    try:
        day = today.replace(year=today.year - REQUEST_RETENTION_YEARS)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - REQUEST_RETENTION_YEARS, day=28)
    return datetime.combine(day, time.min, UTC)


class _Unset:
    """Marks an argument of :func:`update_request` that was not given (None clears)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


@dataclass(frozen=True)
class RequestView(Jsonable):
    """One request as the register shows it, with its urgency on ``today``.

    ``days_left`` is None once the request is closed; ``urgency`` is one of
    overdue, due-soon (within seven days), ok or closed.
    """

    id: int
    kind: str
    status: str
    prospect_id: int | None
    prospect_name: str | None  # the linked prospect's name as it is now
    requester_name: str | None
    requester_email: str | None
    requester_phone: str | None  # E.164
    received_on: date
    due_on: date
    original_due_on: date
    identity_verified: bool
    verified_at: datetime | None
    verified_by: str | None
    extended_at: datetime | None
    extension_months: int | None
    extension_reason: str | None
    outcome: str | None
    closed_at: datetime | None
    notes: str | None
    created_by: str
    handled_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    days_left: int | None
    urgency: str

    @property
    def requester(self) -> str:
        """Who asked, in a few words: the name they gave (kept on the request, so it
        outlives an erasure of the prospect), else the linked prospect's name."""
        name = self.requester_name or self.prospect_name
        contact = self.requester_email or format_phone(self.requester_phone)
        if name and contact:
            return f"{name} <{contact}>" if self.requester_email else f"{name} ({contact})"
        return name or contact or "(unknown)"

    @property
    def closed(self) -> bool:
        return RequestStatus(self.status).closed

    @property
    def extended(self) -> bool:
        return self.extended_at is not None


# ----------------------------------------------------------------- helpers


def _today(today: date | None) -> date:
    return today or date.today()


def _view(r: DataSubjectRequest, prospect_name: str | None, today: date) -> RequestView:
    closed = RequestStatus(r.status).closed
    return RequestView(
        id=r.id,
        kind=r.kind,
        status=r.status,
        prospect_id=r.prospect_id,
        prospect_name=prospect_name,
        requester_name=r.requester_name,
        requester_email=r.requester_email,
        requester_phone=r.requester_phone,
        received_on=r.received_on,
        due_on=r.due_on,
        original_due_on=due_date(r.received_on),
        identity_verified=r.identity_verified,
        verified_at=r.verified_at,
        verified_by=r.verified_by,
        extended_at=r.extended_at,
        extension_months=r.extension_months,
        extension_reason=r.extension_reason,
        outcome=r.outcome,
        closed_at=r.closed_at,
        notes=r.notes,
        created_by=r.created_by,
        handled_by=r.handled_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
        version=r.version,
        days_left=None if closed else days_left(r.due_on, today),
        urgency=urgency(r.due_on, today, closed=closed).value,
    )


def _full_name(p: Prospect | None) -> str | None:
    return f"{p.first_name} {p.last_name}" if p is not None else None


def _view_in(session: Session, r: DataSubjectRequest, today: date) -> RequestView:
    p = session.get(Prospect, r.prospect_id) if r.prospect_id is not None else None
    return _view(r, _full_name(p), today)


def _load(session: Session, request_id: int) -> DataSubjectRequest:
    r = session.get(DataSubjectRequest, request_id)
    if r is None:
        raise NotFoundError(f"No data-subject request with id {request_id}.")
    return r


def _find_prospect(session: Session, ref: int | str) -> Prospect:
    """A prospect by id (12 or #12) or email address; ValidationError on "prospect"."""
    text = str(ref).strip()
    if text.lstrip("#").isdigit():
        p = session.get(Prospect, int(text.lstrip("#")))
    else:
        p = session.scalars(select(Prospect).where(Prospect.email_key == text.lower())).first()
    if p is None:
        raise ValidationError({"prospect": f"no prospect has the id or email '{text[:80]}'"})
    return p


def _prospect_by_email(session: Session, email: str | None) -> Prospect | None:
    if not email:
        return None
    return session.scalars(select(Prospect).where(Prospect.email_key == email_key(email))).first()


def _fill_from(r: DataSubjectRequest, p: Prospect) -> None:
    """Keep who asked on the request itself, so it outlives the prospect's record."""
    r.requester_name = r.requester_name or _full_name(p)
    r.requester_email = r.requester_email or p.email
    r.requester_phone = r.requester_phone or p.phone


def _check_identifiable(r: DataSubjectRequest) -> None:
    if r.prospect_id is None and not (r.requester_name or r.requester_email or r.requester_phone):
        raise ValidationError(
            {"requester": "give the prospect, or the requester's name, email address or phone"}
        )


def _touch(ctx: Context, r: DataSubjectRequest) -> None:
    r.handled_by = ctx.user
    r.updated_at = utcnow()
    r.version += 1


def _closed_on(r: DataSubjectRequest) -> date | None:
    """The local day a request was closed (for "completed on ...")."""
    return r.closed_at.astimezone().date() if r.closed_at else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# ----------------------------------------------------------------- reading


def get_request(ctx: Context, request_id: int, *, today: date | None = None) -> RequestView:
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    with ctx.db.read() as session:
        return _view_in(session, _load(session, request_id), _today(today))


def list_requests(
    ctx: Context, *, open_only: bool = True, today: date | None = None
) -> list[RequestView]:
    """Open requests by due date (soonest, so most urgent, first).

    With ``open_only=False`` closed ones follow, also by due date.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    day = _today(today)
    closed_last = case((DataSubjectRequest.status.in_(OPEN_STATUSES), 0), else_=1)
    stmt = (
        select(DataSubjectRequest, Prospect.first_name, Prospect.last_name)
        .outerjoin(Prospect, Prospect.id == DataSubjectRequest.prospect_id)
        .order_by(closed_last, DataSubjectRequest.due_on, DataSubjectRequest.id)
    )
    if open_only:
        stmt = stmt.where(DataSubjectRequest.status.in_(OPEN_STATUSES))
    with ctx.db.read() as session:
        return [
            _view(r, f"{first} {last}" if first is not None else None, day)
            for r, first, last in session.execute(stmt)
        ]


def overdue_count(ctx: Context, *, today: date | None = None) -> int:
    """How many open requests are past their deadline (for the status bar)."""
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    stmt = select(func.count()).where(
        DataSubjectRequest.status.in_(OPEN_STATUSES),
        DataSubjectRequest.due_on < _today(today),
    )
    with ctx.db.read() as session:
        return session.scalar(stmt) or 0


# ----------------------------------------------------------------- writing


def add_request(
    ctx: Context,
    kind: str | RequestKind,
    *,
    prospect_ref: int | str | None = None,
    requester_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    received: str | date | None = None,
    identity_verified: bool = False,
    notes: str | None = None,
    today: date | None = None,
) -> RequestView:
    """Record a request received on ``received`` (default today; never in the future).

    ``prospect_ref`` (an id or email address) must name a prospect. Without
    it, an ``email`` that is a prospect's address links that prospect;
    otherwise the request keeps the name, email and phone it was given,
    and a prospect can be linked later with :func:`update_request`.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    day = _today(today)
    data = validate_request(
        RequestInput(
            kind=str(kind),
            prospect=prospect_ref,
            name=requester_name,
            email=email,
            phone=phone,
            received=received,
            identity_verified=identity_verified,
            notes=notes,
        ),
        today=day,
    )
    with ctx.db.transaction() as session:
        if data.prospect is not None:
            prospect = _find_prospect(session, data.prospect)
        else:
            prospect = _prospect_by_email(session, data.email)
        now = utcnow()
        r = DataSubjectRequest(
            kind=data.kind.value,
            status=RequestStatus.OPEN.value,
            prospect_id=prospect.id if prospect else None,
            requester_name=data.name,
            requester_email=data.email,
            requester_phone=data.phone,
            received_on=data.received,
            due_on=due_date(data.received),
            identity_verified=data.identity_verified,
            verified_at=now if data.identity_verified else None,
            verified_by=ctx.user if data.identity_verified else None,
            notes=data.notes,
            created_by=ctx.user,
            handled_by=ctx.user,
            created_at=now,
            updated_at=now,
        )
        if prospect is not None:
            _fill_from(r, prospect)
        session.add(r)
        session.flush()
        audit.record(
            session,
            ctx.user,
            "request.created",
            ENTITY,
            r.id,
            {
                "kind": r.kind,
                "prospect_id": r.prospect_id,
                "requester_name": r.requester_name,
                "requester_email": r.requester_email,
                "requester_phone": r.requester_phone,
                "received_on": _iso(r.received_on),
                "due_on": _iso(r.due_on),
                "identity_verified": r.identity_verified,
                "notes": r.notes,
            },
        )
        return _view(r, _full_name(prospect), day)


def update_request(
    ctx: Context,
    request_id: int,
    *,
    identity_verified: bool | None = None,
    prospect_ref: int | str | None | _Unset = UNSET,
    requester_name: str | None | _Unset = UNSET,
    email: str | None | _Unset = UNSET,
    phone: str | None | _Unset = UNSET,
    notes: str | None | _Unset = UNSET,
    status: str | RequestStatus | None = None,
    expected_version: int | None = None,
    today: date | None = None,
) -> RequestView:
    """Change what is given: verify identity, link a prospect (None unlinks),
    correct the requester's details, replace the notes, or mark the request
    open / in progress (closing is :func:`close_request`).

    Nothing changed, nothing written. With ``expected_version`` a change over
    someone else's newer one is refused with :class:`ConflictError`.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    new_status = None
    if status is not None:
        try:
            new_status = RequestStatus.parse(str(status))
        except ValueError as exc:
            raise ValidationError({"status": str(exc)}) from None
        if new_status.closed:
            raise ValidationError({"status": "close a request with its outcome instead"})
    given = {
        k: v
        for k, v in (("name", requester_name), ("email", email), ("phone", phone))
        if v is not UNSET
    }
    cleaned = dict(
        zip(
            ("name", "email", "phone"),
            clean_requester(given.get("name"), given.get("email"), given.get("phone")),
            strict=True,
        )
    )
    clean_note = clean_notes(notes) if notes is not UNSET else None  # type: ignore[arg-type]
    with ctx.db.transaction() as session:
        r = _load(session, request_id)
        check_open(RequestStatus(r.status), _closed_on(r))
        if expected_version is not None and r.version != expected_version:
            raise ConflictError(
                f"Request #{r.id} was changed by someone else since you opened it. "
                "Reload to see their changes, then reapply yours."
            )
        before = _snapshot(r)
        for key, column in (
            ("name", "requester_name"),
            ("email", "requester_email"),
            ("phone", "requester_phone"),
        ):
            if key in given:
                setattr(r, column, cleaned[key])
        if prospect_ref is not UNSET:
            if prospect_ref in (None, ""):
                r.prospect_id = None
            else:
                prospect = _find_prospect(session, prospect_ref)  # type: ignore[arg-type]
                r.prospect_id = prospect.id
                _fill_from(r, prospect)
        if notes is not UNSET:
            r.notes = clean_note
        if new_status is not None:
            r.status = new_status.value
        if identity_verified is not None and identity_verified != r.identity_verified:
            r.identity_verified = identity_verified
            r.verified_at = utcnow() if identity_verified else None
            r.verified_by = ctx.user if identity_verified else None
        _check_identifiable(r)
        after = _snapshot(r)
        changes = {k: {"old": before[k], "new": after[k]} for k in after if after[k] != before[k]}
        if changes:
            _touch(ctx, r)
            session.flush()
            audit.record(session, ctx.user, "request.updated", ENTITY, r.id, changes)
        return _view_in(session, r, _today(today))


def _snapshot(r: DataSubjectRequest) -> dict:
    return {
        "status": r.status,
        "prospect_id": r.prospect_id,
        "requester_name": r.requester_name,
        "requester_email": r.requester_email,
        "requester_phone": r.requester_phone,
        "identity_verified": r.identity_verified,
        "notes": r.notes,
    }


def extend_request(
    ctx: Context,
    request_id: int,
    reason: str | None,
    months: int = 2,
    *,
    today: date | None = None,
) -> RequestView:
    """Extend the deadline once, by one or two months from the original, for ``reason``.

    Refused once the original one-month deadline has passed (the requester
    must be told of an extension within it) and for a closed request.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    day = _today(today)
    with ctx.db.transaction() as session:
        r = _load(session, request_id)
        new_due, clean_reason = check_extension(
            status=RequestStatus(r.status),
            received=r.received_on,
            already_extended=r.extended_at is not None,
            months=months,
            reason=reason,
            today=day,
        )
        old_due = r.due_on
        r.due_on = new_due
        r.extended_at = utcnow()
        r.extension_months = months
        r.extension_reason = clean_reason
        _touch(ctx, r)
        session.flush()
        audit.record(
            session,
            ctx.user,
            "request.extended",
            ENTITY,
            r.id,
            {
                "months": months,
                "reason": clean_reason,
                "due_on": {"old": _iso(old_due), "new": _iso(new_due)},
            },
        )
        return _view_in(session, r, day)


def close_request(
    ctx: Context,
    request_id: int,
    outcome: str | None,
    notes: str | None = None,
    *,
    refused: bool = False,
    today: date | None = None,
) -> RequestView:
    """Close a request as completed (or ``refused``), recording what was done.

    ``notes`` are added after any notes already on the request. Completing
    needs the requester's identity verified, except for an objection to
    marketing (see ``domain.requests.check_close``).
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    clean_note = clean_notes(notes)
    with ctx.db.transaction() as session:
        r = _load(session, request_id)
        status = RequestStatus(r.status)
        check_open(status, _closed_on(r))
        clean_outcome = check_close(
            kind=RequestKind(r.kind),
            status=status,
            identity_verified=r.identity_verified,
            refused=refused,
            outcome=outcome,
        )
        final = RequestStatus.REFUSED if refused else RequestStatus.COMPLETED
        r.status = final.value
        r.outcome = clean_outcome
        r.closed_at = utcnow()
        if clean_note:
            r.notes = f"{r.notes}\n\n{clean_note}" if r.notes else clean_note
        _touch(ctx, r)
        session.flush()
        audit.record(
            session,
            ctx.user,
            "request.closed",
            ENTITY,
            r.id,
            {"status": final.value, "outcome": clean_outcome, "notes": clean_note},
        )
        return _view_in(session, r, _today(today))


def keep_requester(session: Session, prospect: Prospect) -> int:
    """Before a person is erased, make sure their requests can still be answered.

    For the erasure service to call inside its own transaction, while the
    prospect's name and addresses are still known. The erasure blanks the
    prospect, not the register: each request keeps the requester's name and
    contact details (copied from the prospect where the request has none),
    its kind, dates, notes and outcome, for its own retention period
    (:data:`~crm_desktop.domain.requests.REQUEST_RETENTION_YEARS` after it
    is closed). Requests recorded from the same email address but never
    linked are linked to the record that remains. Returns how many requests
    the person has.
    """
    match = DataSubjectRequest.prospect_id == prospect.id
    if prospect.email:
        match = match | (
            DataSubjectRequest.prospect_id.is_(None)
            & (func.lower(DataSubjectRequest.requester_email) == prospect.email.lower())
        )
    count = 0
    for r in session.scalars(select(DataSubjectRequest).where(match)):
        _fill_from(r, prospect)
        r.prospect_id = prospect.id
        count += 1
    return count


def link_action(
    session: Session,
    ctx: Context,
    request_id: int,
    action: str,
    values: dict,
    *,
    prospect_id: int | None = None,
) -> DataSubjectRequest:
    """Record on a request what was done to answer it, inside the caller's transaction.

    ``action`` is one of :data:`ACTIONS` (an access pack made, processing
    restricted, the person erased); ``values`` say what (the pack's file name
    and format, the reason). The request must be open and, when
    ``prospect_id`` is given, about that prospect (or not linked yet, when it
    is linked now). An open request becomes "in progress". The link is a
    ``request.<action>`` audit entry on the request, so it is part of the
    hash-chained record of how the request was answered.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown request action {action!r}")
    r = _load(session, request_id)
    check_open(RequestStatus(r.status), _closed_on(r))
    if prospect_id is not None:
        if r.prospect_id is None:
            prospect = session.get(Prospect, prospect_id)
            r.prospect_id = prospect_id
            if prospect is not None:
                _fill_from(r, prospect)
        elif r.prospect_id != prospect_id:
            raise ValidationError(
                {"prospect": f"request #{r.id} is about prospect #{r.prospect_id}, "
                 f"not #{prospect_id}"}
            )  # fmt: skip
    if r.status == RequestStatus.OPEN.value:
        r.status = RequestStatus.IN_PROGRESS.value
    _touch(ctx, r)
    session.flush()
    audit.record(session, ctx.user, f"request.{action}", ENTITY, r.id, values)
    return r


@dataclass(frozen=True)
class RequestAction(Jsonable):
    """One thing done to answer a request (from its audit entries)."""

    at: datetime
    action: str  # one of ACTIONS
    actor: str
    values: dict

    @property
    def text(self) -> str:
        """The action in words, e.g. "Access pack made: jane.pdf (PDF)"."""
        v = self.values
        if self.action == "pack-made":
            fmt = str(v.get("format") or "").upper()
            return f"Access pack made: {v.get('file') or '?'}" + (f" ({fmt})" if fmt else "")
        if self.action == "restricted":
            return f"Processing restricted: {v.get('reason') or ''}".rstrip(": ")
        if self.action == "erased":
            return f"Erased prospect #{v.get('prospect_id')}"
        return self.action


def request_actions(ctx: Context, request_id: int) -> list[RequestAction]:
    """What was done to answer a request (packs, restriction, erasure), oldest first."""
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    stmt = (
        select(AuditEntry)
        .where(
            AuditEntry.entity == ENTITY,
            AuditEntry.entity_id == str(request_id),
            AuditEntry.action.in_([f"request.{a}" for a in ACTIONS]),
        )
        .order_by(AuditEntry.id)
    )
    with ctx.db.read() as session:
        _load(session, request_id)
        return [
            RequestAction(
                e.at,
                e.action.removeprefix("request."),
                e.actor,
                audit.stored_values(e.values) or {},
            )
            for e in session.scalars(stmt)
        ]


def forget_expired(ctx: Context, *, today: date | None = None) -> int:
    """Blank who asked on requests closed more than the retention period ago.

    A request is kept, with the requester's name and contact details, for
    :data:`~crm_desktop.domain.requests.REQUEST_RETENTION_YEARS` years after
    it was closed (to answer a complaint or claim about how it was handled);
    after that only its kind, dates and outcome stay. Returns how many
    requests were blanked; each gets a ``request.requester-forgotten`` entry.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    cutoff = retention_cutoff(_today(today))
    count = 0
    with ctx.db.transaction() as session:
        stmt = select(DataSubjectRequest).where(
            DataSubjectRequest.status.not_in(OPEN_STATUSES),
            DataSubjectRequest.closed_at.is_not(None),
            DataSubjectRequest.closed_at < cutoff,
            (DataSubjectRequest.requester_name.is_not(None))
            | (DataSubjectRequest.requester_email.is_not(None))
            | (DataSubjectRequest.requester_phone.is_not(None))
            | (DataSubjectRequest.notes.is_not(None)),
        )
        for r in session.scalars(stmt):
            r.requester_name = r.requester_email = r.requester_phone = r.notes = None
            r.version += 1
            audit.redact(session, ENTITY, r.id)
            audit.record(session, ctx.user, "request.requester-forgotten", ENTITY, r.id)
            count += 1
    return count


def requests_for_prospect(
    ctx: Context, prospect_id: int, *, today: date | None = None
) -> list[RequestView]:
    """The requests linked to one prospect, newest first (for their history)."""
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    day = _today(today)
    stmt = (
        select(DataSubjectRequest)
        .where(DataSubjectRequest.prospect_id == prospect_id)
        .order_by(DataSubjectRequest.created_at.desc(), DataSubjectRequest.id.desc())
    )
    with ctx.db.read() as session:
        return [_view_in(session, r, day) for r in session.scalars(stmt)]
