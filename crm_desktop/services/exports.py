"""Campaign exports: preview, write, record.

Who is included is decided only by ``domain.eligibility.exclusion_reasons``,
evaluated afresh when the file is written (a preview is information, never
a permission). Every export is recorded with its counts per exclusion
reason, the file's SHA-256 and the people in it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import Session

from ..domain.eligibility import (
    ChannelState,
    Exclusion,
    channel_address_kinds,
    exclusion_reasons,
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
from ..errors import Cancelled, ConflictError, NotFoundError
from ..formats.atomic import atomic_output, publish_new, sha256_of
from ..formats.tabular import FORMATS, write_table_to
from . import audit, suppression
from .context import Context
from .marketing import facts_from
from .views import _Jsonable

BATCH = 2_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportFilters(_Jsonable):
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
class Candidate(_Jsonable):
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
class ExportPreview(_Jsonable):
    channel: str
    included: list[Candidate]
    excluded: list[Candidate]
    counts: dict[str, int]  # Exclusion value -> people excluded for it

    @property
    def total(self) -> int:
        return len(self.included) + len(self.excluded)


@dataclass(frozen=True)
class ExportRecord(_Jsonable):
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


def _candidates_stmt(f: ExportFilters):
    stmt = (
        # Plain columns, not ORM objects: an export reads every prospect.
        select(*(Prospect.__table__.c), School.name.label("school_name"))
        .outerjoin(School, School.id == Prospect.school_id)
        .order_by(Prospect.id)
    )
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


def _evaluate(
    session: Session,
    request: ExportRequest,
    channel: Channel,
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
) -> Iterator[Candidate]:
    """Every candidate matching the filters, with their exclusion reasons."""
    stmt = _candidates_stmt(request.filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    hasher = suppression.Hasher(session)
    suppressed = suppression.all_suppressed(session)
    kinds = channel_address_kinds(channel)
    done = 0
    last_id = 0
    while True:
        if should_cancel and should_cancel():
            raise Cancelled("Export cancelled; no file was written.")
        rows = session.execute(stmt.where(Prospect.id > last_id).limit(BATCH)).all()
        if not rows:
            break
        ids = [p.id for p in rows]
        last_id = ids[-1]
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
        interests: dict[int, list[str]] = {}
        if request.personalised:
            for pid, name in session.execute(
                select(ProspectInterest.prospect_id, Interest.name)
                .join(Interest, Interest.id == ProspectInterest.interest_id)
                .where(ProspectInterest.prospect_id.in_(ids))
                .order_by(Interest.name_key)
            ):
                interests.setdefault(pid, []).append(name)
        for p in rows:
            # Hash only the addresses this channel uses (hashing is the hot spot).
            email_digest = hasher(p.email) if "email" in kinds else None
            phone_digest = hasher(p.phone) if "phone" in kinds else None
            facts = facts_from(
                p,
                perms.get(p.id, {}),
                suppressed.get(email_digest, frozenset()),
                suppressed.get(phone_digest, frozenset()),
            )
            reasons = exclusion_reasons(facts, channel, personalised=request.personalised)
            yield Candidate(
                prospect_id=p.id,
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
                phone=p.phone,
                school_name=p.school_name,
                role=p.role,
                stage=p.stage,
                interests=interests.get(p.id, []),
                reasons=[r.value for r in reasons],
                version=p.version,
            )
        done += len(rows)
        if progress:
            progress(done, total)


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
        for c in _evaluate(session, request, channel, progress, should_cancel):
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

    The list is decided on one consistent snapshot and written to a temporary
    file; the record is then committed only if nobody in the list had their
    permissions changed (or an address suppressed) meanwhile. A new file is
    put in place just before that commit (and taken away if it fails); a
    file being replaced is replaced just after it. An export that includes nobody still
    writes a file with the header row. A cancel or any failure leaves no new
    file (a previous file of that name stays) and records nothing.
    """
    ctx.require(Action.EXPORT)
    ctx.db.check_writable()  # its record could not be saved: refuse before any file is written
    channel, campaign, purpose = _check(request)
    path = Path(out)
    counts = {e.value: 0 for e in Exclusion}
    members: dict[int, int] = {}  # prospect id -> version when decided
    excluded = 0
    with atomic_output(path, replace=overwrite) as tmp:
        with ctx.db.read() as session:
            last_suppression = session.scalar(select(func.max(Suppression.id))) or 0

            def rows():
                nonlocal excluded
                for c in _evaluate(session, request, channel, progress, should_cancel):
                    if c.reasons:
                        excluded += 1
                        for r in c.reasons:
                            counts[r] += 1
                        continue
                    members[c.prospect_id] = c.version
                    yield _row(request, channel, c, campaign)

            write_table_to(tmp, request.format, columns_for(request, channel), rows())
        digest = sha256_of(tmp)
        replaced = overwrite and path.exists()
        published = False  # the new file is in place (not replacing one) before commit
        try:
            with ctx.db.transaction() as session:
                _check_unchanged(session, members, last_suppression)
                run = ExportRun(
                    created_by=ctx.user,
                    created_at=utcnow(),
                    channel=channel.value,
                    campaign=campaign,
                    purpose=purpose,
                    personalised=request.personalised,
                    format=request.format,
                    filters=json.dumps(request.filters.describe(), default=str, sort_keys=True),
                    included=len(members),
                    excluded=excluded,
                    exclusions=json.dumps({k: v for k, v in counts.items() if v}, sort_keys=True),
                    file_name=str(path.resolve()),
                    sha256=digest,
                    replaced_file=replaced,
                )
                session.add(run)
                session.flush()
                ids = sorted(members)
                for start in range(0, len(ids), 5_000):
                    session.execute(
                        insert(ExportMember),
                        [
                            {"export_id": run.id, "prospect_id": pid}
                            for pid in ids[start : start + 5_000]
                        ],
                    )
                record = _record(run)
                details = {
                    "campaign": run.campaign, "channel": run.channel, "format": run.format,
                    "included": run.included, "excluded": run.excluded, "file": run.file_name,
                    "sha256": run.sha256,
                }  # fmt: skip
                if replaced:
                    details["replaced_file"] = True
                audit.record(session, ctx.user, "export.created", "export", run.id, details)
                if not overwrite:
                    # The file's name is taken now, before the record is
                    # committed: a file that appeared meanwhile is refused and
                    # nothing is recorded; a failed commit takes the file away.
                    publish_new(tmp, path)
                    published = True
        except BaseException:
            if published:
                path.unlink(missing_ok=True)
            raise
    return record


def _check_unchanged(session: Session, members: dict[int, int], last_suppression: int) -> None:
    ids = list(members)
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        for pid, version in session.execute(
            select(Prospect.id, Prospect.version).where(Prospect.id.in_(chunk))
        ):
            if members[pid] != version:
                raise ConflictError(
                    "Someone changed a person on this list while it was being exported. "
                    "Nothing was written; run the export again."
                )
        if len(chunk) > session.scalar(
            select(func.count()).select_from(Prospect).where(Prospect.id.in_(chunk))
        ):
            raise ConflictError(
                "A person on this list was deleted while it was being exported. "
                "Nothing was written; run the export again."
            )
    new = set(session.scalars(select(Suppression.digest).where(Suppression.id > last_suppression)))
    if new and _member_digests(session, ids) & new:
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
                .where(ExportMember.export_id == export_id)
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
            .where(ExportMember.prospect_id == prospect_id)
            .order_by(ExportRun.id.desc())
        )
        return [_record(r) for r in runs]


def as_dict(preview: ExportPreview) -> dict:
    data = asdict(preview)
    data["total"] = preview.total
    return data
