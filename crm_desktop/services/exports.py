"""Campaign exports: preview, write, record.

Who is included is decided only by ``domain.eligibility.exclusion_reasons``,
evaluated afresh when the file is written (a preview is information, never
a permission). Every export is recorded with its counts per exclusion
reason, the file's SHA-256 and the people in it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path

from sqlalchemy import and_, delete, func, null, select, update
from sqlmodel import Session

from ..domain.eligibility import (
    ALL,
    PLAIN_EMAIL,
    REASON_BIT,
    ChannelState,
    Exclusion,
    channel_address_kinds,
    exclusion_reasons,
    mask_of,
    reasons_from_mask,
)
from ..domain.enums import Channel, SchoolPhase, Stage
from ..domain.models import (
    ChannelPermission,
    ExportMember,
    ExportRun,
    Interest,
    Prospect,
    ProspectInterest,
    School,
    Suppression,
)
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text, parse_choice
from ..errors import Cancelled, ConflictError, CrmError, DatabaseError, NotFoundError
from ..formats.atomic import (
    FileExistsRefused,
    FileWriteError,
    create_part,
    describe_os_error,
    is_part_of,
    part_in_use,
    part_path_for,
    publish,
    sha256_of,
)
from ..formats.tabular import FORMATS, write_table_to
from ..persistence.bulk import insert_many
from ..persistence.eligibility_sql import UNDECIDED, reason_mask, stream_rows
from . import audit, recovery, suppression
from .context import Context
from .marketing import facts_from
from .results import Jsonable

BATCH = 2_000
Progress = Callable[[int, int], None]

# ExportRun.state: only a complete export is a list that was sent.
WRITING, COMPLETE, INTERRUPTED = "writing", "complete", "interrupted"
STATE_LABELS = {
    WRITING: "Being written",
    COMPLETE: "Complete",
    INTERRUPTED: "Failed (interrupted)",
}


@dataclass(frozen=True)
class ExportFilters(Jsonable):
    interest_id: int | None = None
    role: str | None = None
    stage: str | None = None
    school_phase: str | None = None
    region: str | None = None  # local authority / region, exact (any case)
    owner: str | None = None
    last_contact_from: date | None = None
    last_contact_to: date | None = None

    def describe(self) -> dict:
        return {k: v for k, v in self.to_dict().items() if v not in (None, "")}


@dataclass(frozen=True)
class ExportRequest:
    channel: str
    campaign: str
    format: str = "csv"
    purpose: str | None = None
    personalised: bool = False
    filters: ExportFilters = field(default_factory=ExportFilters)


@dataclass(frozen=True)
class Candidate(Jsonable):
    prospect_id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    school_name: str | None
    role: str | None
    stage: str
    interests: list[str]
    reasons: list[str]  # Exclusion values; empty when included
    version: int = 0  # the prospect's row version when this was decided


@dataclass
class ExportPreview(Jsonable):
    channel: str
    included: list[Candidate]
    excluded: list[Candidate]
    counts: dict[str, int]  # Exclusion value -> people excluded for it

    @property
    def total(self) -> int:
        return len(self.included) + len(self.excluded)


@dataclass(frozen=True)
class ExportRecord(Jsonable):
    id: int
    created_by: str
    created_at: datetime
    channel: str
    campaign: str
    purpose: str | None
    personalised: bool
    format: str
    filters: dict
    included: int
    excluded: int
    exclusions: dict
    file_name: str
    sha256: str
    replaced_file: bool = False  # the export replaced a file that was there
    # COMPLETE, or WRITING (not finished yet), or INTERRUPTED: the run was
    # stopped before its file was in place; no file, no list sent.
    state: str = COMPLETE

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


def _check(request: ExportRequest) -> tuple[Channel, str, str | None]:
    errors: dict[str, str] = {}
    channel = campaign = purpose = None
    try:
        channel = Channel.parse(request.channel)
    except ValueError as exc:
        errors["channel"] = str(exc)
    try:
        campaign = clean_text(request.campaign, max_len=200, required=True)
    except ValueError as exc:
        errors["campaign"] = str(exc)
    try:
        purpose = clean_text(request.purpose, max_len=5000, multiline=True)
    except ValueError as exc:
        errors["purpose"] = str(exc)
    if request.format not in FORMATS:
        errors["format"] = f"'{request.format}' is not one of: {', '.join(FORMATS)}"
    elif request.format == "mailchimp" and channel not in (None, Channel.EMAIL):
        errors["format"] = "the Mailchimp format is for email campaigns"
    f = request.filters
    for name, enum in (("stage", Stage), ("school_phase", SchoolPhase)):
        try:
            parse_choice(enum, getattr(f, name))
        except ValueError as exc:
            errors[name] = str(exc)
    if f.last_contact_from and f.last_contact_to and f.last_contact_from > f.last_contact_to:
        errors["last_contact_to"] = "is before the 'from' date"
    if errors:
        raise ValidationError(errors)
    return channel, campaign, purpose  # type: ignore[return-value]


def _filtered(stmt, f: ExportFilters):
    """``stmt`` (prospect, school outer-joined) narrowed by the export's filters."""
    if f.interest_id is not None:
        stmt = stmt.where(
            Prospect.id.in_(
                select(ProspectInterest.prospect_id).where(
                    ProspectInterest.interest_id == f.interest_id
                )
            )
        )
    if f.role:
        stmt = stmt.where(func.lower(Prospect.role) == f.role.strip().lower())
    if f.stage:
        stmt = stmt.where(Prospect.stage == Stage.parse(f.stage).value)
    if f.school_phase:
        stmt = stmt.where(School.phase == SchoolPhase.parse(f.school_phase).value)
    if f.region:
        stmt = stmt.where(func.lower(School.local_authority) == f.region.strip().lower())
    if f.owner:
        stmt = stmt.where(Prospect.owner == f.owner)
    if f.last_contact_from:
        start = datetime.combine(f.last_contact_from, time.min).astimezone(UTC)
        stmt = stmt.where(Prospect.last_contact_at >= start)
    if f.last_contact_to:
        end = datetime.combine(f.last_contact_to + timedelta(days=1), time.min).astimezone(UTC)
        stmt = stmt.where(Prospect.last_contact_at < end)
    return stmt


# The columns of each candidate row, in this order (read by index: a million rows).
_ID, _FIRST, _LAST, _EMAIL, _PHONE, _SCHOOL, _ROLE, _STAGE, _VERSION, _MASK = range(10)


def _candidates_stmt(dialect: str, request: ExportRequest, channel: Channel, *, details: bool):
    """Every candidate matching the filters, by id, with the rule's verdict as
    bits (``eligibility_sql.reason_mask``: all but the suppression list).

    Without ``details`` (a file without school, role and stage) those cells
    are NULL and the school is joined only if a filter needs it.
    """
    p = Prospect.__table__
    cp = ChannelPermission.__table__.alias("cp")
    mask = reason_mask(
        dialect, channel, personalised=request.personalised, prospect=p, permission=cp
    )
    f = request.filters
    school = details or bool(f.school_phase or f.region)
    stmt = (
        select(
            p.c.id,
            p.c.first_name,
            p.c.last_name,
            p.c.email,
            p.c.phone,
            School.name.label("school_name") if details else null().label("school_name"),
            p.c.role if details else null().label("role"),
            p.c.stage if details else null().label("stage"),
            p.c.version,
            mask.label("mask"),
        )  # fmt: skip
        .select_from(p)
        .outerjoin(cp, and_(cp.c.prospect_id == p.c.id, cp.c.channel == channel.value))
        .order_by(p.c.id)
    )
    if school:
        stmt = stmt.outerjoin(School, School.id == p.c.school_id)
    return _filtered(stmt, f)


def _count_stmt(f: ExportFilters):
    stmt = (
        select(func.count())
        .select_from(Prospect)
        .outerjoin(School, School.id == Prospect.school_id)
    )
    return _filtered(stmt, f)


class _Suppressed:
    """Which addresses the suppression list covers for one channel.

    The list holds HMAC-SHA256 digests under the database's key, which SQL
    cannot compute; this hashes an address's canonical form with the key's
    padded blocks hashed once (the same digest as ``domain.suppression.digest``,
    in a fraction of the time: an export hashes every candidate's address).
    """

    def __init__(self, session: Session, channel: Channel):
        self.digests: set[bytes] = set()
        for hexdigest, marks in suppression.all_suppressed(session).items():
            if ALL in marks or channel.value in marks:
                with contextlib.suppress(ValueError):
                    self.digests.add(bytes.fromhex(hexdigest))
        key = suppression.hmac_key(session)
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def digest(self, canonical: str) -> bytes:
        inner = self._inner()
        inner.update(canonical.encode("utf-8"))
        outer = self._outer()
        outer.update(inner.digest())
        return outer.digest()

    def __bool__(self) -> bool:
        return bool(self.digests)


def _python_masks(
    session: Session, ids: list[int], channel: Channel, personalised: bool, hasher, suppressed
) -> dict[int, int]:
    """``exclusion_reasons`` itself, as bits, for rows SQL left undecided."""
    rows = session.execute(select(*Prospect.__table__.c).where(Prospect.id.in_(ids))).all()
    perms: dict[int, dict[Channel, ChannelState]] = {}
    cp = ChannelPermission.__table__.c
    for pid, ch, consent, opted_out_at in session.execute(
        select(cp.prospect_id, cp.channel, cp.consent, cp.opted_out_at).where(
            cp.prospect_id.in_(ids)
        )
    ):
        perms.setdefault(pid, {})[Channel(ch)] = ChannelState(
            consent=consent, opted_out=opted_out_at is not None
        )
    kinds = channel_address_kinds(channel)
    masks = {}
    for p in rows:
        email_digest = hasher(p.email) if "email" in kinds else None
        phone_digest = hasher(p.phone) if "phone" in kinds else None
        facts = facts_from(
            p,
            perms.get(p.id, {}),
            suppressed.get(email_digest, frozenset()),
            suppressed.get(phone_digest, frozenset()),
        )
        masks[p.id] = mask_of(exclusion_reasons(facts, channel, personalised=personalised))
    return masks


def _evaluate(
    session: Session,
    request: ExportRequest,
    channel: Channel,
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
    *,
    details: bool = True,
) -> Iterator[list[tuple]]:
    """Every candidate matching the filters, by id, in batches of rows whose
    last cell is the bits of their exclusion reasons (0: included).

    One streamed query decides everyone but the suppression list (SQL, see
    persistence.eligibility_sql); the suppression list is checked by hashing
    each candidate's address; the few rows SQL cannot decide go to
    ``exclusion_reasons``. Checks ``should_cancel`` between batches.
    """
    dialect = session.get_bind().dialect.name
    total = session.scalar(_count_stmt(request.filters)) or 0
    if should_cancel and should_cancel():
        raise Cancelled("Export cancelled; no file was written.")
    covered = _Suppressed(session, channel)
    suppressed_bit = REASON_BIT[Exclusion.SUPPRESSED]
    digest, digests = covered.digest, covered.digests
    check_email = bool(covered) and "email" in channel_address_kinds(channel)
    check_phone = bool(covered) and "phone" in channel_address_kinds(channel)
    # The SQL takes each email to be plain; where the email matters, check.
    plain = PLAIN_EMAIL.fullmatch if channel is not Channel.PHONE else None
    hasher = suppressed_map = None
    done = 0
    stmt = _candidates_stmt(dialect, request, channel, details=details)
    stream = stream_rows(session.connection(), stmt, BATCH)
    try:
        for rows in stream:
            if should_cancel and should_cancel():
                raise Cancelled("Export cancelled; no file was written.")
            batch = []
            undecided = []
            for row in rows:
                mask = row[_MASK]
                if mask == UNDECIDED or (
                    plain and (email := row[_EMAIL]) is not None and not plain(email)
                ):
                    undecided.append(row[_ID])
                    row = (*row[:_MASK], UNDECIDED)
                elif (
                    check_email
                    and (email := row[_EMAIL])
                    and digest(email.lower()) in digests
                    or check_phone
                    and (phone := row[_PHONE])
                    and digest(phone) in digests
                ):
                    # A decided row's addresses are plain: their canonical forms
                    # are themselves (an email lower-cased), see eligibility_sql.
                    row = (*row[:_MASK], mask | suppressed_bit)
                batch.append(row)
            if undecided:
                if hasher is None:
                    hasher = suppression.Hasher(session)
                    suppressed_map = suppression.all_suppressed(session)
                decided = _python_masks(
                    session, undecided, channel, request.personalised, hasher, suppressed_map
                )
                batch = [
                    (*r[:_MASK], decided[r[_ID]]) if r[_MASK] == UNDECIDED else r for r in batch
                ]
            yield batch
            done += len(rows)
            if progress:
                progress(min(done, total), total)
    finally:
        stream.close()


def _interests(session: Session, ids: list[int]) -> dict[int, list[str]]:
    interests: dict[int, list[str]] = {}
    for pid, name in session.execute(
        select(ProspectInterest.prospect_id, Interest.name)
        .join(Interest, Interest.id == ProspectInterest.interest_id)
        .where(ProspectInterest.prospect_id.in_(ids))
        .order_by(Interest.name_key)
    ):
        interests.setdefault(pid, []).append(name)
    return interests


def _candidates(
    session: Session,
    request: ExportRequest,
    channel: Channel,
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
) -> Iterator[Candidate]:
    """Every candidate matching the filters, with their exclusion reasons."""
    for batch in _evaluate(session, request, channel, progress, should_cancel):
        interests = _interests(session, [r[_ID] for r in batch]) if request.personalised else {}
        for r in batch:
            yield Candidate(
                prospect_id=r[_ID],
                first_name=r[_FIRST],
                last_name=r[_LAST],
                email=r[_EMAIL],
                phone=r[_PHONE],
                school_name=r[_SCHOOL],
                role=r[_ROLE],
                stage=r[_STAGE],
                interests=interests.get(r[_ID], []),
                reasons=[e.value for e in reasons_from_mask(r[_MASK])],
                version=r[_VERSION],
            )


def preview_export(
    ctx: Context,
    request: ExportRequest,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ExportPreview:
    """Who would be included and who excluded, with every reason. Writes nothing."""
    ctx.require(Action.EXPORT)
    channel, _, _ = _check(request)
    included, excluded = [], []
    counts = {e.value: 0 for e in Exclusion}
    with ctx.db.read() as session:
        for c in _candidates(session, request, channel, progress, should_cancel):
            if c.reasons:
                excluded.append(c)
                for r in c.reasons:
                    counts[r] += 1
            else:
                included.append(c)
    return ExportPreview(channel.value, included, excluded, {k: v for k, v in counts.items() if v})


def columns_for(request: ExportRequest, channel: Channel) -> list[str]:
    if request.format == "mailchimp":
        cols = ["Email Address", "First Name", "Last Name", "Tags"]
        if request.personalised:
            cols += ["SCHOOL", "ROLE"]
        return cols
    address = {
        Channel.EMAIL: ["Email"],
        Channel.SMS: ["Mobile (E.164)"],
        Channel.PHONE: ["Phone (E.164)"],
        Channel.ONLINE: ["Email", "Phone (E.164)"],
    }[channel]
    cols = ["Prospect ID", "First name", "Last name", *address]
    if request.personalised:
        cols += ["School", "Job role", "Stage", "Interests"]
    return cols


def _row(request: ExportRequest, channel: Channel, c: Candidate, campaign: str) -> list[object]:
    if request.format == "mailchimp":
        row: list[object] = [c.email, c.first_name, c.last_name, campaign]
        if request.personalised:
            row[3] = ",".join([campaign, *c.interests])
            row += [c.school_name, c.role]
        return row
    address = {
        Channel.EMAIL: [c.email],
        Channel.SMS: [c.phone],
        Channel.PHONE: [c.phone],
        Channel.ONLINE: [c.email, c.phone],
    }[channel]
    row = [c.prospect_id, c.first_name, c.last_name, *address]
    if request.personalised:
        row += [c.school_name, c.role, Stage(c.stage).label, "; ".join(c.interests)]
    return row


def file_row(request: ExportRequest, candidate: Candidate) -> list[str]:
    """The cells ``candidate`` would have in the file ``request`` writes, as text.

    Under :func:`columns_for`; for showing an included person in a preview
    exactly as the file will hold them (the writer's own formula guard aside).
    """
    channel = Channel.parse(request.channel)
    campaign = " ".join(request.campaign.split())
    return ["" if v is None else str(v) for v in _row(request, channel, candidate, campaign)]


def _reached(step: str) -> None:
    """A named point in :func:`run_export` (tests stop a real process at one; no-op here)."""


def run_export(
    ctx: Context,
    request: ExportRequest,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ExportRecord:
    """Write the campaign file (complete or not at all) and record the export.

    An existing file at ``out`` is refused before anything is read or
    written (:class:`~crm_desktop.formats.atomic.FileExistsRefused`), so the
    SHA-256 of an earlier export keeps matching its file. With
    ``overwrite=True`` it is replaced, atomically, and the record and its
    audit entry say so.

    The steps are ordered so that the record and the file agree whenever
    the process stops, even by ``kill -9``:

    1. the record is committed in state "writing", naming the hidden
       temporary file it is about to create (and this computer);
    2. the list, decided on one consistent snapshot, is written to that
       file (created now, locked while it is written) and fsynced;
    3. the counts, the people and the file's SHA-256 are committed, only if
       nobody in the list had their permissions changed (or an address
       suppressed) meanwhile;
    4. the file is renamed into place;
    5. the record becomes "complete", with its audit entry.

    A run killed before 4 leaves a "writing" record whose file is not in
    place; after 4, one whose file is, with its SHA-256. The next start
    (:func:`finish_interrupted_exports`) marks the first "interrupted" and
    deletes its temporary file, and completes the second. A cancel or any
    failure here leaves no new file (a previous file of that name stays),
    deletes the temporary file and records nothing. An export that
    includes nobody still writes a file with the header row.
    """
    ctx.require(Action.EXPORT)
    ctx.db.check_writable()  # its record could not be saved: refuse before any file is written
    channel, campaign, purpose = _check(request)
    path = Path(out).absolute()
    path = path.parent.resolve() / path.name  # the folder as the record names it
    if path.is_dir():
        raise FileWriteError(f"Cannot write {path}: it is a folder.")
    if not overwrite and os.path.lexists(path):
        raise FileExistsRefused(path)
    if not path.parent.is_dir():
        raise FileWriteError(f"Cannot write {path}: the folder does not exist.")
    part = part_path_for(path)
    with ctx.db.transaction() as session:
        run = ExportRun(
            created_by=ctx.user,
            created_at=utcnow(),
            channel=channel.value,
            campaign=campaign,
            purpose=purpose,
            personalised=request.personalised,
            format=request.format,
            filters=json.dumps(request.filters.describe(), default=str, sort_keys=True),
            file_name=str(path),
            sha256="",
            state=WRITING,
            part_file=str(part),
            host=socket.gethostname(),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    _reached("recorded")
    published = False
    try:
        fd = create_part(part)
        try:
            _reached("part-created")
            written = _write_list(ctx, request, channel, campaign, part, progress, should_cancel)
            digest = sha256_of(part)
            _reached("written")
            replaced = overwrite and path.exists()
            with ctx.db.transaction() as session:
                _check_unchanged(session, written.members, written.last_suppression)
                counts = {k: v for k, v in written.counts.items() if v}
                if not _set_if_writing(
                    session,
                    run_id,
                    included=len(written.members),
                    excluded=written.excluded,
                    exclusions=json.dumps(counts, sort_keys=True),
                    sha256=digest,
                    replaced_file=replaced,
                ):
                    raise ConflictError(
                        "This export was marked as interrupted while it was being written "
                        "(by another start of the program). Nothing was written; run the "
                        "export again."
                    )
                insert_many(
                    session,
                    ExportMember.__table__,
                    [{"export_id": run_id, "prospect_id": pid} for pid in sorted(written.members)],
                )
            _reached("checked")
            publish(part, path, replace=overwrite)
            published = True
            _reached("published")
            try:
                with ctx.db.transaction() as session:
                    _complete(session, run_id, ctx.user)
                    record = _record(session.get(ExportRun, run_id))
            except CrmError as exc:
                raise DatabaseError(
                    f"The list was written to {path}, but its record could not be completed "
                    f"({exc}). It will be completed the next time the database is opened."
                ) from exc
            part.unlink(missing_ok=True)  # a spare name (where the file was linked into place)
        finally:
            os.close(fd)  # the lock goes with it
    except BaseException:
        if not published:
            part.unlink(missing_ok=True)
            # If this fails the record stays "writing": the next start marks it.
            with contextlib.suppress(CrmError), ctx.db.transaction() as session:
                session.execute(
                    delete(ExportRun).where(ExportRun.id == run_id, ExportRun.state == WRITING)
                )
        raise
    return record


@dataclass
class _Written:
    """What :func:`_write_list` put in the file, decided on one snapshot."""

    members: dict[int, int] = field(default_factory=dict)  # prospect id -> version then
    excluded: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {e.value: 0 for e in Exclusion})
    last_suppression: int = 0  # suppressions after this one were not seen


def _file_rows(request: ExportRequest, channel: Channel, campaign: str):
    """A function making a file row (under :func:`columns_for`) from a candidate
    row of :func:`_evaluate` and that person's interests: what :func:`_row` makes
    from a :class:`Candidate`, without making one per person."""
    address = {
        Channel.EMAIL: (_EMAIL,),
        Channel.SMS: (_PHONE,),
        Channel.PHONE: (_PHONE,),
        Channel.ONLINE: (_EMAIL, _PHONE),
    }[channel]
    if request.format == "mailchimp":
        if request.personalised:
            return lambda r, interests: [
                r[_EMAIL], r[_FIRST], r[_LAST], ",".join([campaign, *interests]),
                r[_SCHOOL], r[_ROLE],
            ]  # fmt: skip
        return lambda r, interests: [r[_EMAIL], r[_FIRST], r[_LAST], campaign]
    plain = itemgetter(_ID, _FIRST, _LAST, *address)
    if request.personalised:
        return lambda r, interests: [
            *plain(r), r[_SCHOOL], r[_ROLE], Stage(r[_STAGE]).label, "; ".join(interests)
        ]  # fmt: skip
    return lambda r, interests: plain(r)


def _write_list(
    ctx: Context,
    request: ExportRequest,
    channel: Channel,
    campaign: str,
    part: Path,
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
) -> _Written:
    """Decide the list on one snapshot and write it to ``part`` as it is decided."""
    written = _Written()
    make_row = _file_rows(request, channel, campaign)
    no_interests: list[str] = []
    with ctx.db.read() as session:
        written.last_suppression = session.scalar(select(func.max(Suppression.id))) or 0

        def rows():
            members = written.members
            masks: dict[int, int] = {}
            for batch in _evaluate(
                session, request, channel, progress, should_cancel, details=request.personalised
            ):
                included = [r for r in batch if not r[_MASK]]
                for r in batch:
                    if r[_MASK]:
                        masks[r[_MASK]] = masks.get(r[_MASK], 0) + 1
                written.excluded += len(batch) - len(included)
                interests = (
                    _interests(session, [r[_ID] for r in included])
                    if request.personalised and included
                    else {}
                )
                for r in included:
                    members[r[_ID]] = r[_VERSION]
                    yield make_row(r, interests.get(r[_ID], no_interests))
            for mask, n in masks.items():
                for reason in reasons_from_mask(mask):
                    written.counts[reason.value] += n

        try:
            write_table_to(part, request.format, columns_for(request, channel), rows())
        except OSError as exc:
            raise FileWriteError(describe_os_error(exc, part)) from exc
    return written


def _set_if_writing(session: Session, run_id: int, **values) -> bool:
    """Update the record only while it is still "writing"; True if it was.

    Every change of state goes through here, so a run and a later start
    tidying up after it (:func:`finish_interrupted_exports`) can never both
    decide what became of one export.
    """
    result = session.execute(
        update(ExportRun)
        .where(ExportRun.id == run_id, ExportRun.state == WRITING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _complete(session: Session, run_id: int, actor: str, *, on_next_start: bool = False) -> bool:
    """Mark the export complete (its file is in place) and add its audit entry."""
    if not _set_if_writing(session, run_id, state=COMPLETE):
        return False
    run = session.get(ExportRun, run_id, populate_existing=True)
    details = {
        "campaign": run.campaign, "channel": run.channel, "format": run.format,
        "included": run.included, "excluded": run.excluded, "file": run.file_name,
        "sha256": run.sha256,
    }  # fmt: skip
    if run.replaced_file:
        details["replaced_file"] = True
    if on_next_start:
        # The person who exported is the actor; who happened to start next recorded it.
        details["recorded_on_next_start_by"] = actor
        actor = run.created_by
    audit.record(session, actor, "export.created", "export", run.id, details)
    return True


@recovery.register("exports")
def finish_interrupted_exports(ctx: Context) -> list[str]:
    """Settle exports a killed run left "writing" (see :func:`run_export`).

    On this computer only (another's files are not here to look at), and
    never one whose temporary file a running export still holds. If the
    file is in place with the recorded SHA-256 the record is completed;
    otherwise it is marked interrupted, its people are removed from it and
    its temporary file (the name recorded, if it has the shape of ours) is
    deleted. Nothing to do costs one indexed query and no write lock.
    """
    try:
        with ctx.db.read() as session:
            runs = session.execute(
                select(
                    ExportRun.id,
                    ExportRun.file_name,
                    ExportRun.part_file,
                    ExportRun.sha256,
                    ExportRun.host,
                )
                .where(ExportRun.state == WRITING)
                .order_by(ExportRun.id)
            ).all()
    except CrmError:
        return []  # busy or unreadable now: the next start tries again
    if not runs:
        return []
    here = socket.gethostname()
    done = []
    for run in runs:
        if run.host != here or (run.part_file and part_in_use(run.part_file)):
            continue
        sentence = _settle(ctx, run)
        if sentence:
            done.append(sentence)
    return done


def _settle(ctx: Context, run) -> str | None:
    dest = Path(run.file_name)
    part = Path(run.part_file) if run.part_file and is_part_of(run.part_file, dest) else None
    try:
        in_place = bool(run.sha256) and dest.is_file() and sha256_of(dest) == run.sha256
        had_part = part is not None and part.exists()
        if not in_place and had_part:
            part.unlink()  # first: a kill now leaves the record "writing", settled next time
        with ctx.db.transaction() as session:
            if in_place:
                changed = _complete(session, run.id, ctx.user, on_next_start=True)
            else:
                changed = _set_if_writing(session, run.id, state=INTERRUPTED, sha256="")
                if changed:
                    session.execute(delete(ExportMember).where(ExportMember.export_id == run.id))
                    audit.record(
                        session, ctx.user, "export.interrupted", "export", run.id,
                        {"file": run.file_name, "temporary_file_deleted": had_part},
                    )  # fmt: skip
        if in_place and part is not None:
            part.unlink(missing_ok=True)  # the spare name of a file linked into place
    except (CrmError, OSError):
        return None  # busy, read-only, unreadable: the next start tries again
    if not changed:
        return None
    if in_place:
        return (
            f"Export #{run.id} was stopped just after its file was put in place "
            f"({dest}); its record is now complete."
        )
    deleted = " and its unfinished temporary file was deleted" if had_part else ""
    return (
        f"Export #{run.id} was stopped before its file was in place: it is marked "
        f"failed (interrupted){deleted}. No list was written to {dest}."
    )


def _check_unchanged(session: Session, members: dict[int, int], last_suppression: int) -> None:
    """Refuse if anyone on the list changed (or went) since the list was decided.

    One pass over the prospects' (id, version) in id order, between the
    list's first and last id, instead of a query per few thousand people.
    """
    if members:
        seen = 0
        get = members.get
        stmt = (
            select(Prospect.id, Prospect.version)
            .where(Prospect.id.between(min(members), max(members)))
            .order_by(Prospect.id)
        )
        for rows in stream_rows(session.connection(), stmt, 20_000):
            for pid, version in rows:
                then = get(pid)
                if then is None:
                    continue
                if then != version:
                    raise ConflictError(
                        "Someone changed a person on this list while it was being exported. "
                        "Nothing was written; run the export again."
                    )
                seen += 1
        if seen < len(members):
            raise ConflictError(
                "A person on this list was deleted while it was being exported. "
                "Nothing was written; run the export again."
            )
    new = set(session.scalars(select(Suppression.digest).where(Suppression.id > last_suppression)))
    if new and _member_digests(session, list(members)) & new:
        raise ConflictError(
            "An address on this list was suppressed while it was being exported. "
            "Nothing was written; run the export again."
        )


def _member_digests(session: Session, ids: list[int]) -> set[str]:
    """Hashes of the members' addresses (only needed when the list changed meanwhile)."""
    hasher = suppression.Hasher(session)
    digests: set[str] = set()
    for start in range(0, len(ids), 5_000):
        for email, phone in session.execute(
            select(Prospect.email, Prospect.phone).where(
                Prospect.id.in_(ids[start : start + 5_000])
            )
        ):
            digests.update(d for d in (hasher(email), hasher(phone)) if d)
    return digests


def _record(run: ExportRun) -> ExportRecord:
    return ExportRecord(
        id=run.id,
        created_by=run.created_by,
        created_at=run.created_at,
        channel=run.channel,
        campaign=run.campaign,
        purpose=run.purpose,
        personalised=run.personalised,
        format=run.format,
        filters=json.loads(run.filters),
        included=run.included,
        excluded=run.excluded,
        exclusions=json.loads(run.exclusions),
        file_name=run.file_name,
        sha256=run.sha256,
        replaced_file=run.replaced_file,
        state=run.state,
    )


def list_exports(ctx: Context, *, limit: int | None = None) -> list[ExportRecord]:
    """Export records, newest first."""
    ctx.require(Action.EXPORT)
    stmt = select(ExportRun).order_by(ExportRun.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    with ctx.db.read() as session:
        return [_record(r) for r in session.scalars(stmt)]


def get_export(ctx: Context, export_id: int) -> ExportRecord:
    ctx.require(Action.EXPORT)
    with ctx.db.read() as session:
        run = session.get(ExportRun, export_id)
        if run is None:
            raise NotFoundError(f"No export with id {export_id}.")
        return _record(run)


FILTER_LABELS = {
    "interest_id": "Interest",
    "role": "Job role",
    "stage": "Stage",
    "school_phase": "School phase/type",
    "region": "Region",
    "owner": "Owner",
    "last_contact_from": "Last contacted on or after",
    "last_contact_to": "Last contacted on or before",
}


def describe_filters(ctx: Context, filters: dict) -> list[tuple[str, str]]:
    """A record's filters as (label, value) for people: names, not ids.

    An interest is named as it is called now ("#2 (deleted)" if it is gone);
    stages and school phases by their labels; anything unknown as stored.
    """
    described = []
    names: dict[int, str] | None = None
    for key, value in filters.items():
        text = str(value)
        if key == "interest_id":
            if names is None:
                with ctx.db.read() as session:
                    names = dict(session.execute(select(Interest.id, Interest.name)).all())
            text = names.get(value, f"#{value} (deleted)")
        elif key in ("stage", "school_phase"):
            enum = Stage if key == "stage" else SchoolPhase
            with contextlib.suppress(ValueError):  # unknown: written by a newer version
                text = enum(text).label
        described.append((FILTER_LABELS.get(key, key.replace("_", " ")), text))
    return described


def export_members(ctx: Context, export_id: int) -> list[int]:
    ctx.require(Action.EXPORT)
    with ctx.db.read() as session:
        return list(
            session.scalars(
                select(ExportMember.prospect_id)
                .join(ExportRun, ExportRun.id == ExportMember.export_id)
                .where(ExportMember.export_id == export_id, ExportRun.state == COMPLETE)
                .order_by(ExportMember.prospect_id)
            )
        )


def exports_for_prospect(ctx: Context, prospect_id: int) -> list[ExportRecord]:
    """The campaign lists a person was included in, newest first."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        runs = session.scalars(
            select(ExportRun)
            .join(ExportMember, ExportMember.export_id == ExportRun.id)
            .where(ExportMember.prospect_id == prospect_id, ExportRun.state == COMPLETE)
            .order_by(ExportRun.id.desc())
        )
        return [_record(r) for r in runs]


def as_dict(preview: ExportPreview) -> dict:
    data = asdict(preview)
    data["total"] = preview.total
    return data
