"""Importing contacts from a file: a conference list, Google/Outlook contacts, vCards...

One batch is all or nothing, and it never holds the write lock for long:

1. **Read and stage**, outside any write transaction: every row is read
   (:mod:`crm_desktop.formats.contact_files`), mapped
   (:mod:`crm_desktop.domain.contact_mapping`) and validated with the form's
   rules (``validate_prospect``); the prospects its email addresses already
   belong to, the suppression list, schools and interests are read in one
   read-only pass, and every row gets its plan: create, update (by the
   duplicate policy), opted out, skip or reject.
2. **Apply** in one short transaction of set-based statements (Core
   ``insert``/``update`` with many rows each, never an ORM object per row),
   audited in the same transaction (one entry per prospect created or
   updated). Whatever changed since the read pass is found cheaply (audit
   entries, prospects and suppression entries newer than the pass began)
   and those rows are planned again inside the transaction: an opt-out
   recorded by a colleague meanwhile still wins, and an email address
   someone added meanwhile is updated, never created twice.

A cancel (``cancelled()`` is polled) or a crash imports nothing of the
batch. Rows that cannot be imported go to a rejects file (CSV, UTF-8 with a
BOM so Excel opens it) beside the import, with the original columns and a
``Reason`` column, put in place only when the batch commits.

Rules a person can rely on:

- the same normalised email as an existing prospect (or as an earlier row
  of the file) updates that prospect by the duplicate policy: ``keep``
  (existing values stay; only what adds to them is added: extra addresses,
  interests, a note), ``fill`` (blanks are filled) or ``overwrite`` (the
  file's non-blank values win); never a second prospect. An erased or
  restricted prospect is never updated (the row is skipped, with the reason);
- an address on the suppression list, or one belonging to a prospect who
  opted out or objected, never becomes marketable: the row is imported or
  updated as opted out of every channel it is suppressed for (counted in
  ``opted_out``), or skipped with ``on_suppressed="skip"``; consent from the
  batch is never recorded on an opted-out channel;
- an extra email or phone number that is not valid is left out and the row
  imported with the others; the report says which (``dropped``/``warnings``).

The report's outcome counts add up to the file's rows:
``created + updated + unchanged + opted_out + merged + skipped + rejected == total_rows``
(``merged``: later rows with the same email as an earlier row of the file,
folded into it).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from ..domain import contact_mapping as cm
from ..domain.eligibility import ALL, channel_address_kinds, channels_suppressed_by
from ..domain.enums import Channel, DataSource, LawfulBasis, OptOutSource, Stage
from ..domain.models import (
    MAX_NOTE,
    MAX_SUMMARY,
    MAX_TEXT,
    AuditEntry,
    ChannelPermission,
    ConsentEvent,
    ContactPoint,
    Correspondence,
    ImportBatch,
    ImportMember,
    Interest,
    LIAssessment,
    Prospect,
    ProspectInterest,
    School,
    Setting,
    Suppression,
)
from ..domain.roles import Action
from ..domain.suppression import canonical_address, digest
from ..domain.types import utcnow
from ..domain.validation import (
    ProspectInput,
    ValidationError,
    clean_text,
    normalise_email,
    phone_e164,
    validate_prospect,
)
from ..errors import Cancelled
from ..formats.atomic import atomic_output, publish_new
from ..formats.contact_files import SourceRow, SourceTable, open_contact_file
from ..persistence import bulk, search
from . import audit, duplicates, suppression
from .context import Context
from .gc_pause import gc_paused
from .results import Jsonable

ON_DUPLICATE = ("keep", "fill", "overwrite")
ON_SUPPRESSED = ("opt-out", "skip")
#: File formats, and the known layouts (which are CSV files read with their layout's mapping).
FORMATS = ("auto", "csv", "xlsx", "vcard", "google", "outlook", "mailchimp")
_LAYOUT_FORMATS = ("google", "outlook", "mailchimp")
#: The consent method recorded for consent that came with an imported list.
CONSENT_METHOD = "import"
#: Settings rows that remember a column mapping by the file's headers.
MAPPING_SETTING_PREFIX = "import.mapping."
REASON_HEADER = "Reason"
MAX_WARNINGS = 50

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CHUNK = 500  # values per IN (...) list, well inside every SQLite's limit
_POLL_ROWS = 500  # rows between polls of cancelled() and progress while reading
# The prospect fields a duplicate policy decides (the email address is the match itself).
_FIELDS = ("first_name", "last_name", "phone", "school", "role", "stage", "owner")
_NOT_IMPORTED = ("skip", "reject")  # plan outcomes whose rows go to the rejects file
_SUPPRESSED_REASON = "The address was already on the suppression list when it was imported"


class ImportCancelled(Cancelled):
    """The import was cancelled: nothing of the batch was imported."""


@dataclass
class ImportOptions:
    source: str  # required, e.g. "Bett 2026 stand sign-ups"
    basis: str = "none"  # a LawfulBasis value
    consent_wording: str | None = None  # basis consent: what they were told (required then)
    policy_version: str | None = None
    consent_channels: tuple[str, ...] = ("email",)
    li_note: str | None = None  # basis legitimate-interest: a note or an assessment
    li_assessment_id: int | None = None
    on_duplicate: str = "fill"
    on_suppressed: str = "opt-out"
    fmt: str = "auto"  # auto|csv|xlsx|vcard|google|outlook|mailchimp
    sheet: str | None = None
    mapping: dict[int, str] | None = None  # None: known layout, else remembered, else suggested
    rejects_path: Path | None = None  # default: beside the file


@dataclass
class PreviewRow:
    number: int
    cells: tuple[str, ...]
    candidate: cm.ContactCandidate | None
    outcome: str  # new | update | opted-out | skip | reject
    reason: str | None


@dataclass
class ImportPreview:
    table: SourceTable
    layout: str | None
    mapping: dict[int, str]
    mapping_source: str  # layout | remembered | suggested | given
    rows: list[PreviewRow]
    # Why the mapping cannot be imported as it is (no name or address column...), if so.
    mapping_problem: str | None = None


@dataclass
class ImportReport(Jsonable):
    batch_id: int | None
    file_name: str
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    opted_out: int = 0
    skipped: int = 0
    rejected: int = 0
    merged: int = 0  # later rows with the email of an earlier row, folded into it
    duplicates_for_review: int = 0
    rejects_file: str | None = None
    prospect_ids: list[int] = field(default_factory=list)
    # Extra addresses left out because they were not valid (their rows were imported).
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ options


@dataclass(frozen=True)
class _Clean:
    """Options as checked: what the batch records and applies."""

    source: str
    basis: LawfulBasis
    wording: str | None
    policy_version: str | None
    channels: tuple[Channel, ...]
    li_note: str | None
    li_assessment_id: int | None
    on_duplicate: str
    on_suppressed: str
    fmt: str


def _check_options(ctx: Context, options: ImportOptions) -> _Clean:
    errors: dict[str, str] = {}

    def text(name: str, value: str | None, max_len: int, **kw) -> str | None:
        try:
            return clean_text(value, max_len=max_len, **kw)
        except ValueError as exc:
            errors[name] = str(exc)
            return None

    source = text("source", options.source, MAX_TEXT, required=True)
    if "source" in errors and errors["source"] == "is required":
        errors["source"] = "is required: say where this list came from (e.g. a conference)"
    try:
        basis = LawfulBasis.parse(options.basis or "none")
    except ValueError as exc:
        errors["basis"] = str(exc)
        basis = LawfulBasis.NONE
    wording = policy = li_note = None
    channels: tuple[Channel, ...] = ()
    if basis is LawfulBasis.CONSENT:
        wording = text("evidence", options.consent_wording, MAX_NOTE, multiline=True)
        if wording is None and "evidence" not in errors:
            errors["evidence"] = (
                "is required for consent: what the people on the list were told when they agreed"
            )
        policy = text("policy_version", options.policy_version, 50)
        try:
            found = []
            for item in options.consent_channels or ():
                if str(item).strip().lower() in ("all", "all channels"):
                    found = list(Channel)
                    break
                channel = Channel.parse(str(item))
                if channel not in found:
                    found.append(channel)
            if not found:
                raise ValueError("name at least one channel the consent covers")
            channels = tuple(found)
        except ValueError as exc:
            errors["channels"] = str(exc)
    elif basis is LawfulBasis.LEGITIMATE_INTEREST:
        li_note = text("li_note", options.li_note, MAX_NOTE, multiline=True)
        if li_note is None and options.li_assessment_id is None and "li_note" not in errors:
            errors["li_note"] = (
                "is required for legitimate interest: pick an assessment or write why "
                "marketing to these people is necessary and fair"
            )
    if options.on_duplicate not in ON_DUPLICATE:
        errors["on_duplicate"] = (
            f"'{options.on_duplicate}' is not one of: {', '.join(ON_DUPLICATE)}"
        )
    if options.on_suppressed not in ON_SUPPRESSED:
        errors["on_suppressed"] = (
            f"'{options.on_suppressed}' is not one of: {', '.join(ON_SUPPRESSED)}"
        )
    fmt = (options.fmt or "auto").strip().lower()
    if fmt not in FORMATS:
        errors["format"] = f"'{options.fmt}' is not one of: {', '.join(FORMATS)}"
    if errors:
        raise ValidationError(errors)
    if basis is not LawfulBasis.NONE:
        # Recording consent or a basis is marketing's right, wherever it is done from.
        ctx.require(Action.MANAGE_CONSENT)
    return _Clean(
        source=source or "",
        basis=basis,
        wording=wording,
        policy_version=policy,
        channels=channels,
        li_note=li_note,
        li_assessment_id=options.li_assessment_id
        if basis is LawfulBasis.LEGITIMATE_INTEREST
        else None,
        on_duplicate=options.on_duplicate,
        on_suppressed=options.on_suppressed,
        fmt=fmt,
    )


# ----------------------------------------------------------------- mapping


def _file_format(fmt: str) -> str:
    return "csv" if fmt in _LAYOUT_FORMATS else fmt


def _setting_key(headers: Sequence[str]) -> str:
    signature = cm.mapping_signature(headers)
    return MAPPING_SETTING_PREFIX + hashlib.sha256(signature.encode("utf-8")).hexdigest()[:40]


def _remembered(session: Session, headers: Sequence[str]) -> dict[int, str] | None:
    row = session.get(Setting, _setting_key(headers))
    if row is None:
        return None
    try:
        stored = json.loads(row.value)
        mapping = {int(k): str(v) for k, v in stored["mapping"].items()}
        if stored.get("signature") != cm.mapping_signature(headers):
            return None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable: suggest again rather than fail
    if any(t not in cm.TARGETS or not 0 <= i < len(headers) for i, t in mapping.items()):
        return None
    return mapping


def _remember(session: Session, headers: Sequence[str], mapping: dict[int, str]) -> None:
    key = _setting_key(headers)
    value = json.dumps(
        {
            "signature": cm.mapping_signature(headers),
            "mapping": {str(i): t for i, t in mapping.items()},
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    if len(value) > 10_000:
        return  # a mapping this large is not worth remembering
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def _choose_mapping(
    session: Session, table: SourceTable, fmt: str, given: dict[int, str] | None
) -> tuple[str | None, dict[int, str], str]:
    """(layout, mapping, where the mapping came from): given > layout > remembered > suggested."""
    headers = table.headers
    if fmt in _LAYOUT_FORMATS:
        layout: str | None = fmt
    elif table.format == "vcard":
        layout = "vcard"
    else:
        layout = cm.recognise_layout(headers)
    if given is not None:
        return layout, {int(i): t for i, t in given.items() if t}, "given"
    if layout is not None:
        return layout, dict(cm.layout_mapping(layout, headers)), "layout"
    remembered = _remembered(session, headers)
    if remembered is not None:
        return None, remembered, "remembered"
    return None, dict(cm.suggest_mapping(headers)), "suggested"


def mapping_problem(headers: Sequence[str], mapping: dict[int, str]) -> str | None:
    """Why rows cannot be imported with this mapping (one sentence), or None."""
    for index, target in mapping.items():
        if target not in cm.TARGETS:
            return f"'{target}' is not something a column can be imported as."
        if not 0 <= index < len(headers):
            return f"The mapping names column {index + 1}, but the file has {len(headers)}."
    by_target: dict[str, list[int]] = {}
    for index, target in sorted(mapping.items()):
        by_target.setdefault(target, []).append(index)
    for target, columns in by_target.items():
        if len(columns) > 1 and target not in cm.MULTI_COLUMN_TARGETS:
            names = " and ".join(f"'{headers[i]}'" for i in columns[:2])
            return f"{cm.TARGETS[target]} is mapped from two columns ({names}): choose one."
    targets = set(mapping.values())
    if not targets & {"first_name", "last_name", "full_name"}:
        return "No column is mapped to a name: map a first and last name, or a full name."
    if not targets & {"email", "phone"}:
        return "No column is mapped to an email address or a phone number: map at least one."
    return None


# ------------------------------------------------------------------ staging


@dataclass
class _Row:
    """One valid row, ready to plan: the form's clean values and what comes with them."""

    number: int
    cells: tuple[str, ...]
    values: dict  # _FIELDS -> clean value, None where the file gave none
    email: str | None
    key: str | None  # email_key
    emails: list[str]  # extra, normalised
    phones: list[str]  # extra, E.164
    interests: list[str]
    note: str | None
    # Why the row cannot make a prospect on its own ("Last name is required"):
    # it may still update one whose email it has, or fill an earlier row's.
    missing: str | None = None


@dataclass
class _Rejected:
    number: int
    cells: tuple[str, ...]
    reason: str
    outcome: str = "reject"  # reject | skip


_PHONE_CACHE_SIZE = 200_000


def _phone(raw: str, cache: dict[str, str | None | ValueError] | None) -> str | None:
    """The E.164 form of ``raw`` (None for blank), or the form's ValueError.

    Parsing a phone number is the slowest check of a row; a file repeats
    numbers (switchboards, a school's office), so each distinct text is
    parsed once per import.
    """
    if cache is None:
        return phone_e164(raw)
    found = cache.get(raw, cache)
    if found is cache:
        try:
            found = phone_e164(raw)
        except ValueError as exc:
            found = exc
        if len(cache) >= _PHONE_CACHE_SIZE:
            cache.clear()
        cache[raw] = found
    if isinstance(found, ValueError):
        raise ValueError(str(found))
    return found  # type: ignore[return-value]


def _stage_row(
    row: SourceRow,
    mapping: dict[int, str],
    warnings: list[str],
    counter: list[int],
    phone_cache: dict | None = None,
) -> tuple[_Row | _Rejected, cm.ContactCandidate | None]:
    if row.error:
        return _Rejected(row.number, row.cells, row.error[:1].upper() + row.error[1:]), None
    try:
        cand = cm.map_row(row.cells, mapping)
    except ValueError as exc:
        return _Rejected(row.number, row.cells, f"Cannot be read: {exc}"), None
    emails: list[str] = []
    bad_emails: list[tuple[str, str]] = []
    for raw in cand.emails:
        try:
            value = normalise_email(raw)
        except ValueError as exc:
            bad_emails.append((raw, str(exc)))
            continue
        if value and value.lower() not in {e.lower() for e in emails}:
            emails.append(value)
    phones: list[str] = []
    bad_phones: list[tuple[str, str]] = []
    for raw in cand.phones:
        try:
            e164 = _phone(raw, phone_cache)
        except ValueError as exc:
            bad_phones.append((raw, str(exc)))
            continue
        if e164 and e164 not in phones:
            phones.append(e164)
    # The first address of each kind must be valid: it is the one the person
    # gave first, so a row whose first email is wrong goes to the rejects file
    # to be fixed. Later ones that are not valid are left out (and said).
    first_bad = None
    if cand.emails and bad_emails and bad_emails[0][0] == cand.emails[0]:
        first_bad = ("email", bad_emails[0][1])
    elif cand.phones and bad_phones and bad_phones[0][0] == cand.phones[0]:
        first_bad = ("phone", bad_phones[0][1])
    if first_bad:
        label = "Email" if first_bad[0] == "email" else "Phone"
        return _Rejected(row.number, row.cells, f"{label}: {first_bad[1]}"), cand
    data = ProspectInput(
        first_name=cand.first_name,
        last_name=cand.last_name,
        email=emails[0] if emails else None,
        # Already normalised above: parsed again only when it is the only address
        # (the form's rule that a person has one or the other).
        phone=phones[0] if phones and not emails else None,
        school=cand.school,
        role=cand.role,
        interests=cand.interests,
        stage=cand.stage,
        owner=cand.owner,
    )
    missing = None
    try:
        clean = validate_prospect(data)
    except ValidationError as exc:
        names = ("first_name", "last_name")
        if not (
            emails
            and set(exc.errors) <= set(names)
            and all(v == "is required" for v in exc.errors.values())
        ):
            return _Rejected(row.number, row.cells, str(exc)), cand
        # A row without a name can still update the prospect with its email.
        missing = str(exc)
        for name in exc.errors:
            setattr(data, name, "?")
        try:
            clean = validate_prospect(data)
        except ValidationError as again:
            return _Rejected(row.number, row.cells, f"{missing}; {again}"), cand
        for name in exc.errors:
            setattr(clean, name, None)
    clean.phone = phones[0] if phones else None
    try:
        note = clean_text(cand.notes, max_len=MAX_SUMMARY, multiline=True)
    except ValueError as exc:
        return _Rejected(row.number, row.cells, f"Notes {exc}"), cand
    for _raw, why in bad_emails + bad_phones:
        counter[0] += 1
        if len(warnings) < MAX_WARNINGS:
            warnings.append(f"Row {row.number}: {why}, so it was left out; the rest was imported.")
    values = {
        "first_name": clean.first_name,
        "last_name": clean.last_name,
        "phone": clean.phone,
        "school": clean.school,
        "role": clean.role,
        "stage": clean.stage.value if cand.stage and cand.stage.strip() else None,
        "owner": clean.owner,
    }
    return (
        _Row(
            number=row.number,
            cells=row.cells,
            values=values,
            email=clean.email,
            key=clean.email.lower() if clean.email else None,
            emails=emails[1:],
            phones=phones[1:],
            interests=clean.interests,
            note=note,
            missing=missing,
        ),
        cand,
    )


@dataclass
class _Group:
    """The rows of the file that are one person (the same email; or one row without)."""

    rows: list[_Row]

    @property
    def key(self) -> str | None:
        return self.rows[0].key

    @property
    def email(self) -> str | None:
        return self.rows[0].email


# ------------------------------------------------------------- the database


@dataclass
class _Existing:
    id: int
    version: int
    values: dict  # _FIELDS as stored ("school" is its name)
    email: str | None
    school_id: int | None
    erased: bool
    restricted: bool
    basis: str
    li_note: str | None
    li_assessment_id: int | None
    source: str | None
    source_detail: str | None
    source_date: date | None
    perms: set[str] = field(default_factory=set)  # channels that have a permission row
    opted: set[str] = field(default_factory=set)
    consented: set[str] = field(default_factory=set)
    extras: set[tuple[str, str]] = field(default_factory=set)  # (kind, value_key)
    max_position: int = -1
    interests: set[str] = field(default_factory=set)  # name keys


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _load_existing(session: Session, *, keys=(), ids=()) -> dict[int, _Existing]:
    """Prospects by email key and/or id, with what planning needs of each."""
    found: dict[int, _Existing] = {}
    columns = (
        Prospect.id, Prospect.version, Prospect.first_name, Prospect.last_name, Prospect.email,
        Prospect.phone, School.name, Prospect.role, Prospect.stage, Prospect.owner,
        Prospect.erased_at, Prospect.restricted_at, Prospect.lawful_basis, Prospect.li_note,
        Prospect.li_assessment_id, Prospect.source, Prospect.source_detail, Prospect.source_date,
        Prospect.school_id,
    )  # fmt: skip
    base = select(*columns).outerjoin(School, School.id == Prospect.school_id)
    # Each once, in the order given: sorting 100,000 addresses is one C call that
    # held the interpreter lock (and the window) for a tenth of a second.
    wheres = [Prospect.email_key.in_(c) for c in _chunks(list(dict.fromkeys(keys)))]
    wheres += [Prospect.id.in_(c) for c in _chunks(list(dict.fromkeys(ids)))]
    for where in wheres:
        for r in session.execute(base.where(where)):
            values = dict(zip(_FIELDS, (r[2], r[3], r[5], r[6], r[7], r[8], r[9]), strict=True))
            found[r[0]] = _Existing(
                id=r[0], version=r[1], values=values, email=r[4], erased=r[10] is not None,
                restricted=r[11] is not None, basis=r[12], li_note=r[13], li_assessment_id=r[14],
                source=r[15], source_detail=r[16], source_date=r[17], school_id=r[18],
            )  # fmt: skip
    pids = sorted(found)
    for chunk in _chunks(pids):
        for pid, channel, consent, opted_at in session.execute(
            select(
                ChannelPermission.prospect_id, ChannelPermission.channel,
                ChannelPermission.consent, ChannelPermission.opted_out_at,
            ).where(ChannelPermission.prospect_id.in_(chunk))
        ):  # fmt: skip
            e = found[pid]
            e.perms.add(channel)
            if opted_at is not None:
                e.opted.add(channel)
            if consent:
                e.consented.add(channel)
        for pid, kind, key, position in session.execute(
            select(
                ContactPoint.prospect_id, ContactPoint.kind, ContactPoint.value_key,
                ContactPoint.position,
            ).where(ContactPoint.prospect_id.in_(chunk))
        ):  # fmt: skip
            found[pid].extras.add((kind, key))
            found[pid].max_position = max(found[pid].max_position, position)
        for pid, key in session.execute(
            select(ProspectInterest.prospect_id, Interest.name_key)
            .join(Interest, Interest.id == ProspectInterest.interest_id)
            .where(ProspectInterest.prospect_id.in_(chunk))
        ):
            found[pid].interests.add(key)
    return found


@dataclass
class _Snapshot:
    """What the read pass (or the write transaction's re-check) saw."""

    by_key: dict[str, _Existing]
    suppressed: dict[str, frozenset[str]]  # digest -> channels
    hasher: Callable[[str], str | None]
    marks: tuple[int, int, int]  # the newest audit entry, prospect, suppression entry


def _marks(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.max(AuditEntry.id))) or 0,
        session.scalar(select(func.max(Prospect.id))) or 0,
        session.scalar(select(func.max(Suppression.id))) or 0,
    )


def _digester(session: Session) -> Callable[[str], str | None]:
    key = suppression.hmac_key(session)
    cache: dict[str, str | None] = {}

    def of(address: str) -> str | None:
        if address not in cache:
            if _E164.fullmatch(address):
                # Every phone number hashed here is already E.164 (phone_e164's
                # form, or as stored), which canonical_address gives back as it
                # is, after parsing it again: the slowest part of planning.
                cache[address] = digest(key, address)
                return cache[address]
            try:
                cache[address] = digest(key, canonical_address(address))
            except ValueError:
                cache[address] = None
        return cache[address]

    return of


def _snapshot(session: Session, keys: Iterable[str]) -> _Snapshot:
    marks = _marks(session)
    existing = _load_existing(session, keys=list(keys))
    by_key = {e.email.lower(): e for e in existing.values() if e.email}
    return _Snapshot(by_key, suppression.all_suppressed(session), _digester(session), marks)


# ----------------------------------------------------------------- planning


@dataclass
class _Plan:
    """What one group does to the database."""

    group: _Group
    outcome: str  # created | updated | unchanged | opted-out | skip
    reason: str | None = None
    existing: _Existing | None = None
    values: dict = field(default_factory=dict)  # final _FIELDS
    changed: dict = field(default_factory=dict)  # field -> (old, new), updates only
    extras: list[tuple[str, str, str]] = field(default_factory=list)  # new (kind, value, key)
    interests: list[str] = field(default_factory=list)  # to add (names)
    notes: list[str] = field(default_factory=list)
    opt_out: list[Channel] = field(default_factory=list)  # channels to opt out now
    consent: list[Channel] = field(default_factory=list)  # channels to record consent on
    basis: bool = False  # set the batch's basis
    opted_any: bool = False  # opted out of something after this
    all_opted: bool = False  # of every channel after this
    perms: set[str] = field(default_factory=set)  # channels with a permission row
    prospect_id: int | None = None

    def school_changed(self) -> bool:
        e = self.existing
        return e is None or not _same("school", e.values.get("school"), self.values.get("school"))


def _merge(current: dict, incoming: dict, policy: str) -> dict:
    out = dict(current)
    for name in _FIELDS:
        new = incoming.get(name)
        if new is None:
            continue
        old = current.get(name)
        if policy == "overwrite" or (policy == "fill" and old in (None, "")):
            out[name] = new
    return out


def _same(name: str, a, b) -> bool:
    if name == "school":
        return (a or "").lower() == (b or "").lower()
    return a == b


_ALL_CHANNELS = frozenset(c.value for c in Channel)


def _plan(group: _Group, snap: _Snapshot, opts: _Clean, user: str) -> _Plan:
    existing = snap.by_key.get(group.key) if group.key else None
    rows = group.rows
    if existing is not None and (existing.erased or existing.restricted):
        why = "erased" if existing.erased else "restricted (processing is restricted)"
        return _Plan(
            group, "skip", f"Skipped: the email belongs to a prospect who is {why}, "
            "who may not be updated by an import", existing,
        )  # fmt: skip
    policy = opts.on_duplicate
    if existing is None:
        values = dict(rows[0].values)
        for row in rows[1:]:
            # Rows of one file fill each other's blanks at least.
            values = _merge(values, row.values, "fill" if policy == "keep" else policy)
        if not values["first_name"] or not values["last_name"]:
            reason = next((r.missing for r in rows if r.missing), None) or "A name is required"
            return _Plan(group, "reject", reason)
        values["stage"] = values["stage"] or Stage.LEAD.value
        values["owner"] = values["owner"] or user
        plan = _Plan(group, "created", values=values)
        known_extras: set[tuple[str, str]] = set()
        known_interests: set[str] = set()
        primary = {(k, v.lower()) for k, v in (("email", group.email), ("phone", values["phone"]))
                   if v}  # fmt: skip
        opted: set[str] = set()
        perms: set[str] = set()
    else:
        values = dict(existing.values)
        for row in rows:
            values = _merge(values, row.values, policy)
        plan = _Plan(group, "updated", existing=existing, values=values)
        plan.changed = {
            n: (existing.values.get(n), values.get(n))
            for n in _FIELDS
            if not _same(n, existing.values.get(n), values.get(n))
        }
        known_extras = set(existing.extras)
        known_interests = set(existing.interests)
        primary = {(k, v.lower()) for k, v in (("email", existing.email), ("phone", values["phone"]))
                   if v}  # fmt: skip
        # A phone number replaced by "overwrite" is kept among the extra ones.
        old_phone = existing.values.get("phone")
        if old_phone and old_phone != values["phone"] and ("phone", old_phone) not in known_extras:
            plan.extras.append(("phone", old_phone, old_phone))
            known_extras.add(("phone", old_phone))
        opted, perms = set(existing.opted), set(existing.perms)
    # Every address of every row of the group: the primary ones and the rest.
    candidates: list[tuple[str, str]] = []
    for row in rows:
        if row.email:
            candidates.append(("email", row.email))
        candidates += [("email", e) for e in row.emails]
        if row.values["phone"]:
            candidates.append(("phone", row.values["phone"]))
        candidates += [("phone", p) for p in row.phones]
    for kind, value in candidates:
        key = value.lower()
        if (kind, key) in primary or (kind, key) in known_extras:
            continue
        known_extras.add((kind, key))
        plan.extras.append((kind, value, key))
    for row in rows:
        for name in row.interests:
            if name.lower() not in known_interests:
                known_interests.add(name.lower())
                plan.interests.append(name)
        if row.note:
            plan.notes.append(row.note)
    # The suppression list: every address the person will have.
    addresses = [(k, v) for k, v in primary] + [(k, key) for k, _, key in plan.extras]
    if existing is not None:
        addresses += sorted(existing.extras)
    suppressed: set[Channel] = set()
    # Each address is hashed to look it up; with nothing on the list there is
    # nothing to find, and no hashing to do.
    for kind, value in addresses if snap.suppressed else ():
        d = snap.hasher(value)
        marks = snap.suppressed.get(d) if d else None
        if marks:
            suppressed.update(channels_suppressed_by(kind, marks))
    if suppressed and opts.on_suppressed == "skip":
        return _Plan(
            group, "skip", "Skipped: the address is on the suppression list (the import was "
            "told to skip such rows)", existing,
        )  # fmt: skip
    if suppressed:
        plan.opt_out = [c for c in Channel if c in suppressed and c.value not in opted]
    after = opted | {c.value for c in plan.opt_out}
    plan.opted_any = bool(after)
    plan.all_opted = after >= _ALL_CHANNELS
    marketing = existing is None or policy != "keep"
    if opts.basis is LawfulBasis.CONSENT and marketing:
        consented = existing.consented if existing else set()
        plan.consent = [
            c for c in opts.channels if c.value not in after and c.value not in consented
        ]
    if opts.basis is not LawfulBasis.NONE and marketing:
        if existing is None:
            plan.basis = True
        elif existing.basis == LawfulBasis.NONE.value or policy == "overwrite":
            wanted = (opts.basis.value, opts.li_note, opts.li_assessment_id)
            plan.basis = (existing.basis, existing.li_note, existing.li_assessment_id) != wanted
    plan.perms = perms
    if existing is not None:
        touched = (
            plan.changed or plan.extras or plan.interests or plan.notes or plan.opt_out
            or plan.consent or plan.basis
        )  # fmt: skip
        plan.outcome = "updated" if touched else "unchanged"
    if plan.opted_any:
        plan.outcome = "opted-out"
    return plan


# ------------------------------------------------------------------ reading


def _open(path: Path, fmt: str, sheet: str | None) -> SourceTable:
    return open_contact_file(path, fmt=_file_format(fmt), sheet=sheet)


def inspect_file(
    ctx: Context,
    path: str | Path,
    *,
    fmt: str = "auto",
    sheet: str | None = None,
    mapping: dict[int, str] | None = None,
    limit: int = 20,
) -> ImportPreview:
    """The file as it would be imported: format, mapping, and its first ``limit`` rows.

    Each preview row says what importing would do with it (with the default
    policies: fill blanks, opt out suppressed addresses). Raises
    ContactFileError for a file that is refused.
    """
    ctx.require(Action.IMPORT_CONTACTS)
    fmt = (fmt or "auto").strip().lower()
    if fmt not in FORMATS:
        raise ValidationError({"format": f"'{fmt}' is not one of: {', '.join(FORMATS)}"})
    table = _open(Path(path), fmt, sheet)
    with ctx.db.read() as session:
        layout, chosen, source = _choose_mapping(session, table, fmt, mapping)
    problem = mapping_problem(table.headers, chosen)
    staged: list[tuple[SourceRow, _Row | _Rejected, cm.ContactCandidate | None]] = []
    warnings: list[str] = []
    counter = [0]
    for row in table.rows():
        if len(staged) >= limit:
            break
        if problem:
            try:
                cand = None if row.error else cm.map_row(row.cells, chosen)
            except ValueError:
                cand = None
            staged.append((row, _Rejected(row.number, row.cells, problem), cand))
            continue
        result, cand = _stage_row(row, chosen, warnings, counter)
        staged.append((row, result, cand))
    opts = _Clean("preview", LawfulBasis.NONE, None, None, (), None, None, "fill", "opt-out", fmt)
    keys = {r.key for _, r, _ in staged if isinstance(r, _Row) and r.key}
    with ctx.db.read() as session:
        snap = _snapshot(session, keys)
    seen: dict[str, int] = {}
    rows: list[PreviewRow] = []
    for _row, result, cand in staged:
        if isinstance(result, _Rejected):
            rows.append(PreviewRow(result.number, result.cells, cand, "reject", result.reason))
            continue
        if result.key and result.key in seen:
            rows.append(
                PreviewRow(
                    result.number, result.cells, cand, "update",
                    f"The same email as row {seen[result.key]}: that row is updated with this one",
                )
            )  # fmt: skip
            continue
        if result.key:
            seen[result.key] = result.number
        plan = _plan(_Group([result]), snap, opts, ctx.user)
        outcome = {"created": "new", "updated": "update", "unchanged": "update"}.get(
            plan.outcome, plan.outcome
        )
        reason = plan.reason
        if plan.outcome == "opted-out":
            reason = (
                "On the suppression list or opted out: imported as opted out"
                if plan.existing is None
                else "The prospect with this email has opted out: updated, still opted out"
            )
        elif plan.existing is not None and outcome == "update":
            e = plan.existing
            reason = (
                f"Updates {e.values['first_name']} {e.values['last_name']} "
                f"(prospect #{e.id}), who has this email"
            )
        rows.append(PreviewRow(result.number, result.cells, cand, outcome, reason))
    return ImportPreview(table, layout, chosen, source, rows, problem)


# -------------------------------------------------------------- the import


def _default_rejects_path(path: Path) -> Path:
    stem = path.stem or "import"
    candidate = path.with_name(f"{stem} rejects.csv")
    n = 2
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{stem} rejects {n}.csv")
        n += 1
    return candidate


def _write_rejects(target: Path, headers: Sequence[str], rejected: list[_Rejected]) -> None:
    """The rejected rows with their original cells, exactly as read, and a Reason column.

    Cells are written raw (no formula neutralising): they came from the
    person's own file, and the point of this file is to be fixed and
    imported again exactly.
    """
    reason_header = REASON_HEADER
    while reason_header in headers:
        reason_header += " (import)"
    width = len(headers)
    with open(target, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*headers, reason_header])
        for r in sorted(rejected, key=lambda r: r.number):
            cells = list(r.cells) + [""] * (width - len(r.cells))
            writer.writerow([*cells, f"Row {r.number}: {r.reason}"])


def run_import(
    ctx: Context,
    path: str | Path,
    options: ImportOptions,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import a file of contacts as one batch (see the module's docstring).

    Raises ContactFileError when the file is refused, ValidationError when
    the options are, :class:`ImportCancelled` on a cancel (nothing imported).
    ``progress(done, total)``: rows read so far (total None while reading),
    then the apply's steps out of the file's rows.
    """
    ctx.require(Action.IMPORT_CONTACTS)
    # Everything staged for the batch: freed a slice at a time at the end.
    staged: list = []
    # A large file keeps hundreds of thousands of objects alive, which the
    # cycle collector would walk again and again holding the interpreter lock
    # (the window, when this runs on a GUI worker, would stand still meanwhile).
    with gc_paused():
        try:
            return _run_import(ctx, path, options, progress, cancelled, staged)
        finally:
            _release(staged)


_RELEASE_SLICE = 2_000


def _release(staged: list) -> None:
    """Empty the staged lists and dicts a slice at a time, newest first.

    Freeing 100,000 rows' objects in one go is one long deallocation that
    holds the interpreter lock throughout: the window (on the GUI thread,
    while an import runs on its worker) stood still for most of a second.
    Slices let the lock change hands between them.
    """
    while staged:
        item = staged.pop()
        if isinstance(item, dict):
            values = list(item.values())
            item.clear()
            item = values
        if isinstance(item, list):
            while item:
                del item[-_RELEASE_SLICE:]


def _run_import(
    ctx: Context,
    path: str | Path,
    options: ImportOptions,
    progress: Callable[[int, int | None], None] | None,
    cancelled: Callable[[], bool] | None,
    staged: list,
) -> ImportReport:
    opts = _check_options(ctx, options)
    ctx.db.check_writable()
    path = Path(path)
    rejects_target = Path(options.rejects_path) if options.rejects_path is not None else None
    if rejects_target is not None and os.path.lexists(rejects_target):
        raise ValidationError({"rejects": f"{rejects_target} already exists; choose another name"})

    def check_cancel() -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled("Import cancelled: nothing of the file was imported.")

    table = _open(path, opts.fmt, options.sheet)
    with ctx.db.read() as session:
        layout, mapping, mapping_source = _choose_mapping(session, table, opts.fmt, options.mapping)
        if opts.li_assessment_id is not None and (
            session.get(LIAssessment, opts.li_assessment_id) is None
        ):
            raise ValidationError(
                {"li_assessment": f"no assessment with id {opts.li_assessment_id}"}
            )
    problem = mapping_problem(table.headers, mapping)
    if problem:
        raise ValidationError({"mapping": problem})

    # 1. Read, map and validate every row (no database).
    report = ImportReport(batch_id=None, file_name=path.name)
    rejected: list[_Rejected] = []
    groups: list[_Group] = []
    by_key: dict[str, _Group] = {}
    counter = [0]
    phone_cache: dict = {}
    staged += [phone_cache, rejected, by_key, groups]
    for n, row in enumerate(table.rows(), 1):
        if n % _POLL_ROWS == 0:
            check_cancel()
            if progress:
                progress(n, None)
        report.total_rows += 1
        result, _ = _stage_row(row, mapping, report.warnings, counter, phone_cache)
        if isinstance(result, _Rejected):
            rejected.append(result)
        elif result.key and result.key in by_key:
            by_key[result.key].rows.append(result)
        else:
            group = _Group([result])
            groups.append(group)
            if result.key:
                by_key[result.key] = group
    report.dropped = counter[0]
    check_cancel()

    # 2. What the database holds for them: one read-only pass, no write lock.
    with ctx.db.read() as session:
        snap = _snapshot(session, by_key)
        # The batch's id as things stand: the audit entries name it in their
        # reason, and are made now, outside the write transaction.
        next_batch = (session.scalar(select(func.max(ImportBatch.id))) or 0) + 1
    staged += [snap.by_key, snap.suppressed]
    plans = [_plan(g, snap, opts, ctx.user) for g in groups]
    staged.append(plans)
    check_cancel()

    # 3. One short write transaction (the rejects file is put in place inside it).
    remember = mapping if mapping_source == "given" and layout is None else None
    job = _Job(ctx, table, opts, layout, report, remember, check_cancel, progress)
    job.rejected, job.rejects_target, job.staged = rejected, rejects_target, staged
    try:
        batch_id, plans = job.apply(plans, snap, next_batch)
        staged.append(plans)
    except BaseException:
        if job.published is not None:
            # Put in place just before a commit that failed: take it away again.
            _unlink_quietly(job.published)
        raise
    report.batch_id = batch_id
    report.rejects_file = str(job.published.absolute()) if job.published else None
    ids: list[int] = []
    for plan in plans:
        if plan.outcome in _NOT_IMPORTED:
            name = "skipped" if plan.outcome == "skip" else "rejected"
            setattr(report, name, getattr(report, name) + len(plan.group.rows))
            continue
        report.merged += len(plan.group.rows) - 1
        name = plan.outcome.replace("-", "_")
        setattr(report, name, getattr(report, name) + 1)
        if plan.prospect_id is not None:
            ids.append(plan.prospect_id)
    report.rejected += len(rejected)
    report.prospect_ids = sorted(set(ids))
    report.duplicates_for_review = _duplicates_among(ctx, report.prospect_ids)
    if progress:
        progress(report.total_rows, report.total_rows)
    return report


def _unlink_quietly(target: Path) -> None:
    with contextlib.suppress(OSError):
        target.unlink()


def _names(session: Session, model, names: set[str]) -> dict[str, list[int]]:
    """name_key -> ids of the schools (or interests) with that name (any case)."""
    keys = sorted({n.lower() for n in names})
    out: dict[str, list[int]] = {}
    for chunk in _chunks(keys):
        for pid, key in session.execute(
            select(model.id, model.name_key).where(model.name_key.in_(chunk)).order_by(model.id)
        ):
            out.setdefault(key, []).append(pid)
    return out


def _duplicates_among(ctx: Context, ids: list[int]) -> int:
    """How many probable duplicate pairs involve the prospects of this batch."""
    if not ids:
        return 0
    return len(duplicates.probable_duplicates(ctx, among=ids))


# ----------------------------------------------------------------- applying


def _changes_since(session: Session, snap: _Snapshot, keys: set[str]):
    """What changed since the read pass: prospects (by their audit entries), new
    prospects' email keys among ``keys``, and new suppression entries.

    Every change to a prospect writes an audit entry about it, and ids only
    grow, so three range reads on primary keys find them all.
    """
    audit_mark, prospect_mark, supp_mark = snap.marks
    changed_ids = {
        int(entity_id)
        for (entity_id,) in session.execute(
            select(AuditEntry.entity_id).where(
                AuditEntry.id > audit_mark, AuditEntry.entity == "prospect"
            )
        )
        if entity_id and entity_id.isdigit()
    }
    new_keys = {
        key
        for (key,) in session.execute(select(Prospect.email_key).where(Prospect.id > prospect_mark))
        if key and key in keys
    }
    new_supp: dict[str, set[str]] = {}
    for d, channel in session.execute(
        select(Suppression.digest, Suppression.channel).where(Suppression.id > supp_mark)
    ):
        new_supp.setdefault(d, set()).add(channel)
    return changed_ids, new_keys, new_supp


def _group_addresses(group: _Group) -> Iterable[str]:
    for row in group.rows:
        yield from (a for a in (row.email, row.values["phone"], *row.emails, *row.phones) if a)


def _recheck(
    session: Session, plans: list[_Plan], snap: _Snapshot, opts: _Clean, user: str
) -> list[_Plan]:
    """Plan again, inside the write transaction, every group something changed under."""
    keys = {p.group.key for p in plans if p.group.key}
    changed_ids, new_keys, new_supp = _changes_since(session, snap, keys)
    for d, channels in new_supp.items():
        snap.suppressed[d] = frozenset(snap.suppressed.get(d, frozenset()) | channels)
    affected: list[int] = []
    for i, plan in enumerate(plans):
        existing = plan.existing
        if (
            (existing is not None and existing.id in changed_ids)
            or (plan.group.key is not None and plan.group.key in new_keys)
            or new_supp
            and any(snap.hasher(a) in new_supp for a in _group_addresses(plan.group))
        ):
            affected.append(i)
    if not affected:
        return plans
    wanted = {plans[i].group.key for i in affected if plans[i].group.key}
    fresh = _load_existing(session, keys=wanted)
    found = {e.email.lower(): e for e in fresh.values() if e.email}
    for key in wanted:
        if key in found:
            snap.by_key[key] = found[key]
        else:
            snap.by_key.pop(key, None)  # deleted meanwhile: created again
    out = list(plans)
    for i in affected:
        out[i] = _plan(plans[i].group, snap, opts, user)
    return out


class _Job:
    """The write transaction of one import."""

    def __init__(
        self,
        ctx: Context,
        table: SourceTable,
        opts: _Clean,
        layout: str | None,
        report: ImportReport,
        remember: dict[int, str] | None,
        check_cancel: Callable[[], None],
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        self.ctx, self.table, self.opts, self.layout = ctx, table, opts, layout
        self.report, self.remember = report, remember
        self.check_cancel, self.progress = check_cancel, progress
        self.rejected: list[_Rejected] = []
        self.rejects_target: Path | None = None
        self.published: Path | None = None
        self.staged: list = []  # what is freed after the batch (see _release)

    def _entries(self, plans: list[_Plan], batch_id: int) -> list[audit.PreparedEntry | None]:
        """The audit entry of each plan that creates or changes a prospect (None for the rest),
        hashed and stored as text: the slow part of auditing, done outside the lock."""
        wanted = [
            (i, p) for i, p in enumerate(plans)
            if p.outcome not in _NOT_IMPORTED and p.outcome != "unchanged"
        ]  # fmt: skip
        made: list[audit.PreparedEntry] = []
        for start in range(0, len(wanted), 5_000):  # Cancel is polled between chunks
            self.check_cancel()
            made += audit.prepare_entries(
                (
                    (
                        "prospect.created" if p.existing is None else "prospect.edited",
                        "prospect",
                        p.existing.id if p.existing else None,
                        _audit_values(p, self.opts),
                    )
                    for _, p in wanted[start : start + 5_000]
                ),
                reason=self.reason(batch_id),
            )
        out: list[audit.PreparedEntry | None] = [None] * len(plans)
        for (i, _), entry in zip(wanted, made, strict=True):
            out[i] = entry
        return out

    def reason(self, batch_id: int) -> str:
        return f"Import #{batch_id}: {self.opts.source}"

    def apply(
        self, plans: list[_Plan], snap: _Snapshot, next_batch: int
    ) -> tuple[int, list[_Plan]]:
        ctx, opts, table = self.ctx, self.opts, self.table
        total = self.report.total_rows
        # Everything that can be made before the write transaction is: the
        # transaction itself only inserts and updates, in a few statements.
        entries = self._entries(plans, next_batch)
        self.staged.append(entries)
        # The time of the batch's changes: taken as it is applied.
        now = utcnow()
        made = _NewRows(plans, opts, now, ctx.db.engine.dialect, self.staged)
        self.check_cancel()
        with ctx.db.transaction() as session:
            self.check_cancel()
            rechecked = _recheck(session, plans, snap, opts, ctx.user)
            again = [i for i, (a, b) in enumerate(zip(plans, rechecked, strict=True)) if a is not b]
            plans = rechecked
            if again:  # planned again: their entries are made again (a few)
                fresh = self._entries([plans[i] for i in again], next_batch)
                for i, entry in zip(again, fresh, strict=True):
                    entries[i] = entry
            live = [p for p in plans if p.outcome not in _NOT_IMPORTED]
            audits: list[tuple[str, str, object, dict]] = []
            # Schools and interests named: the existing one (any case), else created once.
            school_ids = _ensure_named(
                session, School,
                {p.values["school"] for p in live if p.values.get("school") and p.school_changed()},
                now, audits, "school.created", "school",
            )  # fmt: skip
            interest_ids = _ensure_named(
                session, Interest, {n for p in live for n in p.interests},
                now, audits, "interest.added", "interest",
            )  # fmt: skip
            self.check_cancel()
            batch = ImportBatch(
                file_name=table.path.name,
                sha256=table.sha256,
                format=self.layout if self.layout in _LAYOUT_FORMATS else table.format,
                source=opts.source,
                lawful_basis=opts.basis.value,
                consent_wording=opts.wording,
                consent_policy_version=opts.policy_version,
                li_note=opts.li_note,
                li_assessment_id=opts.li_assessment_id,
                on_duplicate=opts.on_duplicate,
                on_suppressed=opts.on_suppressed,
                counts="{}",
                created_by=ctx.user,
                created_at=now,
            )
            session.add(batch)
            session.flush()
            batch_id = batch.id
            if batch_id != next_batch:
                # Another import took that id meanwhile: the entries name this one.
                entries = self._entries(plans, batch_id)
                self.staged.append(entries)

            def school_id(p: _Plan) -> int | None:
                name = p.values.get("school")
                if not name:
                    return None
                if not p.school_changed():
                    return p.existing.school_id  # the same school, however it is spelt
                return school_ids[name.lower()]

            # Indexed for search by one statement, not a trigger per row.
            with search.index_new_prospects_at_end(session):
                _insert_new(session, [p for p in live if p.existing is None], school_id,
                            made, self.check_cancel, self.staged)  # fmt: skip
            if self.progress:
                self.progress(total // 2, total)
            _update_existing(session, [p for p in live if p.existing is not None], school_id,
                             opts, now)  # fmt: skip
            self.check_cancel()
            _insert_related(session, ctx, live, interest_ids, opts, batch_id, now)
            self.check_cancel()
            members = [
                {
                    "import_id": batch_id,
                    "prospect_id": p.prospect_id,
                    "outcome": "opted-out"
                    if p.outcome == "opted-out"
                    else ("created" if p.existing is None else "updated"),
                    "row_number": p.group.rows[0].number,
                }  # fmt: skip
                for p in live
                if p.outcome != "unchanged"
            ]
            self.staged.append(members)
            if members:
                bulk.insert_many(session, ImportMember.__table__, members)
            # The audit trail: one entry per prospect created or updated, in this
            # transaction, after the schools and interests it created.
            prospect_entries: list[audit.PreparedEntry] = []
            self.staged.append(prospect_entries)
            for plan, entry in zip(plans, entries, strict=True):
                if entry is not None:
                    entry.entity_id = str(plan.prospect_id)
                    prospect_entries.append(entry)
            skipped = [
                _Rejected(r.number, r.cells, p.reason or "Not imported", p.outcome)
                for p in plans
                if p.outcome in _NOT_IMPORTED
                for r in p.group.rows
            ]
            counts = _counts(plans, self.report.total_rows, len(self.rejected))
            completed = (
                "import.completed",
                "import",
                batch_id,
                {
                    "file": table.path.name,
                    "sha256": table.sha256,
                    "format": batch.format,
                    "basis": opts.basis.value,
                    "on_duplicate": opts.on_duplicate,
                    "on_suppressed": opts.on_suppressed,
                    **counts,
                },
            )
            reason = self.reason(batch_id)
            audit.record_prepared(
                session,
                ctx.user,
                audit.prepare_entries(audits, reason)
                + prospect_entries
                + audit.prepare_entries([completed], reason),
            )
            session.execute(
                update(ImportBatch.__table__)
                .where(ImportBatch.__table__.c.id == batch_id)
                .values(counts=json.dumps(counts, sort_keys=True))
            )
            if self.remember is not None:
                _remember(session, table.headers, self.remember)
            self.check_cancel()
            everything = self.rejected + skipped
            if everything:
                target = self.rejects_target or _default_rejects_path(table.path)
                with atomic_output(target, replace=False) as tmp:
                    _write_rejects(tmp, table.headers, everything)
                    publish_new(tmp, target)
                    self.published = target
        return batch_id, plans


def _insert_with_ids(session: Session, table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in a few statements and return their ids, in order.

    SQLite cannot say in which order a many-row INSERT's RETURNING comes
    back, so SQLAlchemy would insert one row per statement; the write
    transaction holds the only write lock, so the ids after the largest are
    free and given here. PostgreSQL returns them in order in batches.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        bulk.insert_many(session, table, rows)
        return ids
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows).all())


def _prospect_row(p: _Plan, opts: _Clean, now: datetime, today: date) -> dict:
    """A new prospect's row but its school; the id is given inside the write transaction."""
    v = p.values
    return {
        "first_name": v["first_name"], "last_name": v["last_name"],
        "email": p.group.email, "email_key": p.group.key, "phone": v["phone"],
        "role": v["role"], "stage": v["stage"],
        "owner": v["owner"], "source": DataSource.IMPORT.value,
        "source_detail": opts.source, "source_date": today,
        "last_contact_at": now if p.notes else None, "next_follow_up": None,
        "lawful_basis": opts.basis.value if p.basis else LawfulBasis.NONE.value,
        "li_assessment_id": opts.li_assessment_id if p.basis else None,
        "li_note": opts.li_note if p.basis else None,
        "subscriber_type_override": None, "personalisation_refused": False,
        "erased_at": None, "restricted_at": None, "restriction_reason": None,
        "retention_kept_at": None, "created_at": now, "updated_at": now, "version": 1,
    }  # fmt: skip


class _NewRows:
    """The new prospects' rows, made before the write transaction (on SQLite
    converted as the driver takes them), so that inside it only their ids and
    schools are added. A plan made again inside it gets its row then."""

    def __init__(self, plans: list[_Plan], opts: _Clean, now: datetime, dialect, staged: list):
        self.opts, self.now, self.today, self.dialect = opts, now, date.today(), dialect
        self.sqlite = dialect.name == "sqlite"
        new = [p for p in plans if p.outcome not in _NOT_IMPORTED and p.existing is None]
        rows = [_prospect_row(p, opts, now, self.today) for p in new]
        made = self._converted(rows)
        # The SQLite rows' columns: the row's, then the two given inside the transaction.
        self.names: list[str] = [*rows[0], "school_id", "id"] if rows else []
        # By the plan's identity: the plans stay alive (staged) until the end.
        self.by_plan: dict[int, tuple | dict] = {id(p): r for p, r in zip(new, made, strict=True)}
        staged += [rows, made, self.by_plan]

    def _converted(self, rows: list[dict]) -> list:
        return bulk.converted(self.dialect, Prospect.__table__, rows) if self.sqlite else rows

    def row(self, p: _Plan) -> tuple | dict:
        found = self.by_plan.get(id(p))
        if found is None:
            row = _prospect_row(p, self.opts, self.now, self.today)
            self.names = self.names or [*row, "school_id", "id"]
            found = self._converted([row])[0]
        return found


def _insert_new(
    session: Session, new: list[_Plan], school_id, made: _NewRows, check_cancel, staged: list
) -> None:
    """The new prospects, in a few statements; their ids in the order given."""
    rows = [made.row(p) for p in new]
    staged.append(rows)  # freed after the batch, not while it holds the write lock
    table = Prospect.__table__
    for start in range(0, len(rows), 20_000):
        chunk, plans = rows[start : start + 20_000], new[start : start + 20_000]
        if made.sqlite:
            # The write transaction holds the only write lock: the ids after
            # the largest are free (see _insert_with_ids).
            first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
            params = []
            for n, (p, row) in enumerate(zip(plans, chunk, strict=True)):
                p.prospect_id = first + n
                params.append((*row, school_id(p), first + n))
            staged.append(params)
            bulk.insert_converted(session, table, made.names, params)
        else:
            for row, p in zip(chunk, plans, strict=True):
                row["school_id"] = school_id(p)
            ids = _insert_with_ids(session, table, chunk)
            for p, pid in zip(plans, ids, strict=True):
                p.prospect_id = pid
        check_cancel()


def _update_existing(session: Session, plans: list[_Plan], school_id, opts: _Clean, now) -> None:
    """The existing prospects the file changes, in one executemany."""
    today = date.today()
    for p in plans:
        p.prospect_id = p.existing.id
    changed = [p for p in plans if p.outcome != "unchanged"]
    if not changed:
        return
    table = Prospect.__table__
    names = ("first_name", "last_name", "phone", "school_id", "role", "stage", "owner",
             "lawful_basis", "li_note", "li_assessment_id", "source", "source_detail",
             "source_date")  # fmt: skip
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            {n: bindparam(f"b_{n}") for n in names}
            | {"updated_at": now, "version": table.c.version + 1}
        )
    )
    params = []
    for p in changed:
        e, v = p.existing, p.values
        params.append(
            {
                "b_id": e.id, "b_first_name": v["first_name"], "b_last_name": v["last_name"],
                "b_phone": v["phone"], "b_school_id": school_id(p), "b_role": v["role"],
                "b_stage": v["stage"] or Stage.LEAD.value, "b_owner": v["owner"],
                "b_lawful_basis": opts.basis.value if p.basis else e.basis,
                "b_li_note": opts.li_note if p.basis else e.li_note,
                "b_li_assessment_id": opts.li_assessment_id if p.basis else e.li_assessment_id,
                # Where the record first came from stays; a blank one is filled.
                "b_source": e.source or DataSource.IMPORT.value,
                "b_source_detail": e.source_detail if e.source else opts.source,
                "b_source_date": e.source_date if e.source else today,
            }
        )  # fmt: skip
    session.execute(stmt, params)
    noted = [p.existing.id for p in changed if p.notes]
    for chunk in _chunks(noted):
        session.execute(update(table).where(table.c.id.in_(chunk)).values(last_contact_at=now))


def _counts(plans: list[_Plan], total: int, rejected: int) -> dict:
    counts = {"rows": total, "created": 0, "updated": 0, "unchanged": 0, "opted_out": 0,
              "merged": 0, "skipped": 0, "rejected": rejected}  # fmt: skip
    for p in plans:
        if p.outcome in _NOT_IMPORTED:
            counts["skipped" if p.outcome == "skip" else "rejected"] += len(p.group.rows)
            continue
        counts["merged"] += len(p.group.rows) - 1
        counts[p.outcome.replace("-", "_")] += 1
    return counts


def _audit_values(p: _Plan, opts: _Clean) -> dict:
    """What the audit trail records of one prospect the batch created or updated."""
    v = p.values
    if p.existing is None:
        # A new record: the values it was created with, as {field: value} (a new
        # record has no old ones; history and the access pack show "Field: value"),
        # only those it has. Where it came from is the entry's reason ("Import
        # #<batch>: <source>") and the batch: not repeated in every entry, which
        # at 100,000 prospects was a third of the bytes the import wrote.
        values: dict = {
            name: value
            for name, value in (
                ("first_name", v["first_name"]), ("last_name", v["last_name"]),
                ("email", p.group.email), ("phone", v["phone"]), ("school", v["school"]),
                ("role", v["role"]), ("stage", v["stage"]), ("owner", v["owner"]),
            )
            if value not in (None, "")
        }  # fmt: skip
    else:
        values = {name: {"old": old, "new": new} for name, (old, new) in p.changed.items()}
    values["row"] = p.group.rows[0].number
    if p.extras:
        values["other_addresses_added"] = ", ".join(value for _, value, _ in p.extras)
    if p.interests:
        values["interests_added"] = ", ".join(sorted(p.interests, key=str.lower))
    if p.notes:
        values["notes_added"] = len(p.notes)
    if p.opt_out:
        values["opted_out"] = ", ".join(c.value for c in p.opt_out)
    if p.consent:
        values["consent"] = ", ".join(c.value for c in p.consent)
    if p.basis:
        values["lawful_basis"] = opts.basis.value
    return values


def _ensure_named(
    session: Session, model, names: set[str], now: datetime, audits: list, action: str,
    entity: str,
) -> dict[str, int]:  # fmt: skip
    """name_key -> id for each name: the existing one (the oldest of that name), else a new one.

    Read inside the write transaction: someone may have added one since.
    """
    keys: dict[str, str] = {}
    for name in sorted(names):
        keys.setdefault(name.lower(), name)
    current = _names(session, model, set(keys.values()))
    out = {k: ids[0] for k, ids in current.items()}
    missing = [k for k in keys if k not in out]
    if missing:
        rows = []
        for key in missing:
            row = {"name": keys[key], "name_key": key}
            if model is School:
                row.update(created_at=now, updated_at=now, version=1)
            rows.append(row)
        ids = _insert_with_ids(session, model.__table__, rows)
        for key, new_id in zip(missing, ids, strict=True):
            out[key] = new_id
            audits.append((action, entity, new_id, {"name": keys[key]}))
    return out


def _insert_related(
    session: Session,
    ctx: Context,
    plans: list[_Plan],
    interest_ids: dict[str, int],
    opts: _Clean,
    batch_id: int,
    now: datetime,
) -> None:
    """Interests, extra addresses, notes, opt-outs, consent, basis: a few statements each."""
    pairs = [
        {"prospect_id": p.prospect_id, "interest_id": interest_ids[name.lower()]}
        for p in plans
        for name in p.interests
    ]
    if pairs:
        session.execute(insert(ProspectInterest.__table__), pairs)
    points = []
    for p in plans:
        position = p.existing.max_position + 1 if p.existing else 0
        for kind, value, key in p.extras:
            points.append(
                {
                    "prospect_id": p.prospect_id,
                    "kind": kind,
                    "value": value,
                    "value_key": key,
                    "position": position,
                    "created_at": now,
                }  # fmt: skip
            )
            position += 1
    if points:
        session.execute(insert(ContactPoint.__table__), points)
    notes = [
        {
            "prospect_id": p.prospect_id,
            "kind": "note",
            "occurred_at": now,
            "subject": None,
            "summary": text,
            "logged_by": ctx.user,
            "follow_up_on": None,
            "follow_up_done_at": None,
            "created_at": now,
        }  # fmt: skip
        for p in plans
        for text in p.notes
    ]
    if notes:
        bulk.insert_many(session, Correspondence.__table__, notes)

    events = []
    perm_inserts = []
    perm_opt_updates = []
    perm_consent_updates = []
    wording = {
        "method": CONSENT_METHOD, "wording": opts.wording, "policy_version": opts.policy_version,
        "given_by": opts.source, "given_at": now.isoformat(), "import_id": batch_id,
    }  # fmt: skip
    wording_json = json.dumps(wording, ensure_ascii=False, sort_keys=True)
    opt_json = json.dumps(
        {"reason": _SUPPRESSED_REASON, "source": OptOutSource.OTHER.value, "import_id": batch_id},
        ensure_ascii=False, sort_keys=True,
    )  # fmt: skip
    for p in plans:
        perms = p.perms
        pid = p.prospect_id
        for channel in p.opt_out:
            row = {"opted_out_at": now, "opt_out_source": OptOutSource.OTHER.value,
                   "opt_out_reason": _SUPPRESSED_REASON}  # fmt: skip
            if channel.value in perms:
                perm_opt_updates.append({"b_pid": pid, "b_ch": channel.value, **row})
            else:
                perm_inserts.append({"prospect_id": pid, "channel": channel.value,
                                     "consent": False, **_no_consent(), **row})  # fmt: skip
                perms.add(channel.value)
            events.append(_event(pid, "opted-out", channel.value, opt_json, ctx.user, now))
        for channel in p.consent:
            row = {"consent": True, "consent_at": now, "consent_method": CONSENT_METHOD,
                   "consent_wording": opts.wording,
                   "consent_policy_version": opts.policy_version,
                   "consent_given_by": opts.source[:MAX_TEXT], "consent_recorded_by": ctx.user}  # fmt: skip
            if channel.value in perms:
                perm_consent_updates.append({"b_pid": pid, "b_ch": channel.value, **row})
            else:
                perm_inserts.append({"prospect_id": pid, "channel": channel.value,
                                     "opted_out_at": None, "opt_out_source": None,
                                     "opt_out_reason": None, **row})  # fmt: skip
                perms.add(channel.value)
            events.append(
                _event(pid, "consent-granted", channel.value, wording_json, ctx.user, now)
            )
        if p.basis:
            old = p.existing.basis if p.existing else LawfulBasis.NONE.value
            details = json.dumps(
                {"old": old, "new": opts.basis.value, "assessment_id": opts.li_assessment_id,
                 "note": opts.li_note, "import_id": batch_id},
                ensure_ascii=False, sort_keys=True,
            )  # fmt: skip
            events.append(_event(pid, "basis-set", None, details, ctx.user, now))
    table = ChannelPermission.__table__
    if perm_inserts:
        session.execute(insert(table), perm_inserts)
    where = (table.c.prospect_id == bindparam("b_pid")) & (table.c.channel == bindparam("b_ch"))
    for updates in (perm_opt_updates, perm_consent_updates):
        if updates:
            columns = [k for k in updates[0] if k not in ("b_pid", "b_ch")]
            session.execute(
                update(table).where(where).values({c: bindparam(f"b_{c}") for c in columns}),
                [{**{f"b_{c}": r[c] for c in columns}, "b_pid": r["b_pid"], "b_ch": r["b_ch"]}
                 for r in updates],
            )  # fmt: skip
    if events:
        session.execute(insert(ConsentEvent.__table__), events)
    _suppress_opted_out(session, ctx, plans, now)


def _no_consent() -> dict:
    return {
        "consent_at": None, "consent_method": None, "consent_wording": None,
        "consent_policy_version": None, "consent_given_by": None, "consent_recorded_by": None,
    }  # fmt: skip


def _event(pid: int, action: str, channel: str | None, details: str, user: str, now) -> dict:
    return {"prospect_id": pid, "action": action, "channel": channel, "details": details,
            "recorded_by": user, "recorded_at": now}  # fmt: skip


def _suppress_opted_out(session: Session, ctx: Context, plans: list[_Plan], now: datetime) -> None:
    """The suppression entries an opt-out makes, for the people opted out now.

    As marketing's rule: each opted-out channel for every address of theirs
    the channel uses (ALL once they are opted out of every channel), so that
    deleting and importing them again can never undo it.
    """
    key = suppression.hmac_key(session)
    wanted: dict[tuple[str, str], tuple[str, int]] = {}
    for p in plans:
        if not p.opt_out:
            continue
        addresses = [("email", p.group.email), ("phone", p.values.get("phone"))]
        addresses += [(kind, k) for kind, _, k in p.extras]
        if p.existing is not None:
            addresses += sorted(p.existing.extras)
        channels = [ALL] if p.all_opted else [c.value for c in p.opt_out]
        for kind, address in addresses:
            if not address:
                continue
            try:
                d = digest(key, canonical_address(address))
            except ValueError:
                continue
            for channel in channels:
                if channel == ALL or kind in channel_address_kinds(Channel(channel)):
                    wanted.setdefault((d, channel), (kind, p.prospect_id))
    if not wanted:
        return
    there: set[tuple[str, str]] = set()
    digests = sorted({d for d, _ in wanted})
    for chunk in _chunks(digests):
        there.update(
            session.execute(
                select(Suppression.digest, Suppression.channel).where(Suppression.digest.in_(chunk))
            ).all()
        )
    rows = [
        {
            "kind": kind,
            "digest": d,
            "channel": channel,
            "reason": "opt-out",
            "source": f"prospect #{pid}",
            "created_by": ctx.user,
            "created_at": now,
        }  # fmt: skip
        for (d, channel), (kind, pid) in wanted.items()
        if (d, channel) not in there
    ]
    if rows:
        session.execute(insert(Suppression.__table__), rows)
