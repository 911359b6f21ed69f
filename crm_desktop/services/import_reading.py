"""Importing contacts, phase 1: reading a file into rows ready to plan.

The file is opened (:mod:`crm_desktop.formats.contact_files`), its columns
mapped (given, a known layout's, remembered for the same headers, or
suggested: :mod:`crm_desktop.domain.contact_mapping`) and each row validated
with the form's rules (``validate_prospect``) into a :class:`StagedRow`, or a
:class:`RejectedRow` with the reason it goes to the rejects file. No write
to the database; :mod:`crm_desktop.services.imports` runs the phases.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from ..domain import contact_mapping as cm
from ..domain.enums import Channel, LawfulBasis
from ..domain.models import MAX_SUMMARY, Setting
from ..domain.validation import (
    ProspectInput,
    ValidationError,
    clean_text,
    normalise_email,
    phone_e164,
    validate_prospect,
)
from ..formats.contact_files import SourceRow, SourceTable, open_contact_file

ON_DUPLICATE = ("keep", "fill", "overwrite")
ON_SUPPRESSED = ("opt-out", "skip")
#: File formats, and the known layouts (which are CSV files read with their layout's mapping).
FORMATS = ("auto", "csv", "xlsx", "vcard", "google", "outlook", "mailchimp")
LAYOUT_FORMATS = ("google", "outlook", "mailchimp")
#: Settings rows that remember a column mapping by the file's headers.
MAPPING_SETTING_PREFIX = "import.mapping."
MAX_WARNINGS = 50
POLL_ROWS = 500  # rows between polls of cancelled() and progress while reading


@dataclass(frozen=True)
class CleanOptions:
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


# ----------------------------------------------------------------- mapping


def _file_format(fmt: str) -> str:
    return "csv" if fmt in LAYOUT_FORMATS else fmt


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


def remember_mapping(session: Session, headers: Sequence[str], mapping: dict[int, str]) -> None:
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


def choose_mapping(
    session: Session, table: SourceTable, fmt: str, given: dict[int, str] | None
) -> tuple[str | None, dict[int, str], str]:
    """(layout, mapping, where the mapping came from): given > layout > remembered > suggested."""
    headers = table.headers
    if fmt in LAYOUT_FORMATS:
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
class StagedRow:
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
class RejectedRow:
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


def stage_row(
    row: SourceRow,
    mapping: dict[int, str],
    warnings: list[str],
    counter: list[int],
    phone_cache: dict | None = None,
) -> tuple[StagedRow | RejectedRow, cm.ContactCandidate | None]:
    if row.error:
        return RejectedRow(row.number, row.cells, row.error[:1].upper() + row.error[1:]), None
    try:
        cand = cm.map_row(row.cells, mapping)
    except ValueError as exc:
        return RejectedRow(row.number, row.cells, f"Cannot be read: {exc}"), None
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
        return RejectedRow(row.number, row.cells, f"{label}: {first_bad[1]}"), cand
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
            return RejectedRow(row.number, row.cells, str(exc)), cand
        # A row without a name can still update the prospect with its email.
        missing = str(exc)
        for name in exc.errors:
            setattr(data, name, "?")
        try:
            clean = validate_prospect(data)
        except ValidationError as again:
            return RejectedRow(row.number, row.cells, f"{missing}; {again}"), cand
        for name in exc.errors:
            setattr(clean, name, None)
    clean.phone = phones[0] if phones else None
    try:
        note = clean_text(cand.notes, max_len=MAX_SUMMARY, multiline=True)
    except ValueError as exc:
        return RejectedRow(row.number, row.cells, f"Notes {exc}"), cand
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
        StagedRow(
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


def open_table(path: Path, fmt: str, sheet: str | None) -> SourceTable:
    return open_contact_file(path, fmt=_file_format(fmt), sheet=sheet)
