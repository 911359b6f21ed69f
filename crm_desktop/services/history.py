"""One prospect's history: everything that happened to them, newest first.

A manager reviewing a person wants one timeline, not five screens. This
module merges the correspondence log, the consent ledger, the audit trail
of the record (edits with old -> new values, restriction, erasure), the
imports that created or updated it, the campaign exports they were in and
the data-subject requests linked to them.

Several sources record the same happening twice (logging a contact writes a
correspondence row *and* a ``correspondence.logged`` audit entry; every
consent change writes a ledger row *and* a ``consent.*`` audit entry). The
richer source is shown and the audit echo is skipped, so each happening
appears once. Seeing the audit trail needs ``Action.VIEW_AUDIT``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import PurePath

from ..domain.consent_wording import ARROW, action_title, enum_label, event_facts
from ..domain.dates import format_date
from ..domain.enums import Channel, ContactKind, LawfulBasis
from ..domain.requests import RequestKind, RequestStatus
from ..domain.roles import Action
from ..domain.validation import ValidationError, field_label
from . import (
    assessments,
    audit,
    contact_points,
    correspondence,
    exports,
    marketing,
    prospects,
    requests,
)
from .context import Context
from .results import Jsonable

KINDS = ("correspondence", "consent", "edit", "export", "request")
KIND_LABELS = {
    "correspondence": "Correspondence",
    "consent": "Consent",
    "edit": "Edit",
    "export": "Export",
    "request": "Request",
}
# Audit actions whose happening another source shows in full.
_SHOWN_ELSEWHERE = ("correspondence.logged", "consent.")
_AUDIT_LIMIT = 1_000_000

_EDIT_TITLES = {
    "prospect.created": "Record created",
    "prospect.edited": "Record edited",
    "prospect.deleted": "Record deleted",
    "prospect.restricted": "Processing restricted",
    "prospect.unrestricted": "Restriction lifted",
    "prospect.erased": "Personal data erased",
    "prospect.merged": "Merged with a duplicate record",
    "prospect.duplicate-dismissed": "Marked as not a duplicate",
}


@dataclass(frozen=True)
class HistoryEvent(Jsonable):
    """One happening: when (aware UTC), which kind (one of ``KINDS``), what, who."""

    at: datetime
    kind: str
    title: str
    detail: str
    actor: str


# ------------------------------------------------------------------ text


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _value(value: object) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _field(name: str) -> str:
    label = field_label(name)
    return label if label != name else name.replace("_", " ").capitalize()


def _changes(values: dict, *, created: bool = False) -> str:
    """``Field: old → new`` lines for the {field: {"old", "new"}} values of an edit.

    A new record has no old values, so ``created`` shows ``Field: value``.
    """
    lines = []
    for key, change in sorted(values.items()):
        if isinstance(change, dict) and set(change) <= {"old", "new"}:
            old, new = change.get("old"), change.get("new")
            if created:
                lines.append(f"{_field(key)}: {_value(new)}")
            else:
                lines.append(f"{_field(key)}: {_value(old)} {ARROW} {_value(new)}")
        elif change not in (None, ""):
            lines.append(f"{_field(key)}: {_value(change)}")
    return "\n".join(lines)


# --------------------------------------------------------------- sources


def _correspondence(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    for c in correspondence.list_correspondence(ctx, prospect_id):
        title = enum_label(ContactKind, c.kind)
        if c.subject:
            title = f"{title}: {c.subject}"
        detail = c.summary or ""
        if c.follow_up_on:
            detail += f"\nFollow up on {format_date(c.follow_up_on)}"
        yield HistoryEvent(_aware(c.occurred_at), "correspondence", title, detail, c.logged_by)


def _consent(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    names: dict[int, str] = {}

    def assessment_name(ident: int) -> str:
        if not names:  # read only when an entry names one
            names.update((a.id, a.name) for a in assessments.list_assessments(ctx))
        return names.get(ident, f"#{ident} (deleted)")

    for e in marketing.consent_history(ctx, prospect_id):
        title = action_title(e.action)
        if e.channel:
            title = f"{title} ({enum_label(Channel, e.channel)})"
        facts = event_facts(e.action, e.details, assessment_name=assessment_name)
        detail = "\n".join(f"{f.label}: {f.value}" for f in facts)
        yield HistoryEvent(_aware(e.recorded_at), "consent", title, detail, e.recorded_by)


# An import audits each prospect it creates or edits with the reason
# "Import #<batch>: <source>" (services.imports); the import's own event shows
# those values with the file, source and basis, so the echo is not repeated.
_IMPORT_REASON = re.compile(r"Import #(\d+): ")


def _import_echo(e: audit.AuditView, batches: Collection[int]) -> int | None:
    """The batch an audited create or edit was made by, if it is one of ``batches``."""
    if e.action not in ("prospect.created", "prospect.edited") or not e.reason:
        return None
    found = _IMPORT_REASON.match(e.reason)
    batch = int(found.group(1)) if found else None
    return batch if batch in batches else None


def _audit(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    batches = {o.import_id for o in contact_points.prospect_origins(ctx, prospect_id)}
    for e in audit.entries(ctx, entity="prospect", entity_id=prospect_id, limit=_AUDIT_LIMIT):
        if e.action.startswith(_SHOWN_ELSEWHERE):
            continue
        if e.readable and _import_echo(e, batches) is not None:
            continue
        at = _aware(e.at)
        if not e.readable:  # altered: say so, never fail the whole history
            title = _EDIT_TITLES.get(e.action) or e.action
            yield HistoryEvent(at, "edit", title, audit.UNREADABLE, e.actor)
        elif e.action == "followup.done":
            due = e.values.get("due")
            detail = f"Follow-up due {due}" if due else ""
            yield HistoryEvent(at, "correspondence", "Follow-up done", detail, e.actor)
        elif e.action == "sar.created":
            fmt = str(e.values.get("format") or "").upper()
            detail = f"Format: {fmt}\nFile: {e.values.get('file') or '—'}"
            yield HistoryEvent(at, "request", "Subject access pack written", detail, e.actor)
        else:
            title = _EDIT_TITLES.get(e.action) or e.action
            detail = _changes(e.values, created=e.action == "prospect.created")
            if e.reason:
                detail = f"{detail}\nReason: {e.reason}".strip()
            yield HistoryEvent(at, "edit", title, detail, e.actor)


_IMPORT_TITLES = {
    "created": "Created by import of",
    "updated": "Updated by import of",
    "opted-out": "Imported, opted out (suppressed address), from",
}


def _imports(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    """Each import that created or updated the record: where it came from, what it set."""
    origins = contact_points.prospect_origins(ctx, prospect_id)
    echoes: dict[int, audit.AuditView] = {}
    if origins and ctx.may(Action.VIEW_AUDIT):
        batches = {o.import_id for o in origins}
        for e in audit.entries(ctx, entity="prospect", entity_id=prospect_id, limit=_AUDIT_LIMIT):
            batch = _import_echo(e, batches) if e.readable else None
            if batch is not None:
                echoes.setdefault(batch, e)
    for o in origins:
        title = f"{_IMPORT_TITLES.get(o.outcome, 'Imported from')} {o.file_name} ({o.source})"
        lines = [
            f"Row {o.row_number} of the file ({o.format.upper()})",
            f"Lawful basis: {enum_label(LawfulBasis, o.lawful_basis)}",
        ]
        if o.consent_wording:
            lines.append(f"What they were told: {o.consent_wording}")
        if o.consent_policy_version:
            lines.append(f"Privacy notice version: {o.consent_policy_version}")
        if o.li_assessment_name:
            lines.append(f"Assessment: {o.li_assessment_name}")
        if o.li_note:
            lines.append(f"Note: {o.li_note}")
        echo = echoes.get(o.import_id)
        if echo is not None and echo.values:
            lines.append(_changes(echo.values, created=echo.action == "prospect.created"))
        yield HistoryEvent(_aware(o.imported_at), "edit", title, "\n".join(lines), o.imported_by)


def _exports(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    for x in exports.exports_for_prospect(ctx, prospect_id):
        lines = [
            f"Channel: {enum_label(Channel, x.channel)}",
            f"File: {PurePath(x.file_name).name}",
        ]
        if x.purpose:
            lines.append(f"Purpose: {x.purpose}")
        lines.append(f"{x.included} included, {x.excluded} excluded")
        title = f"In campaign export #{x.id}: {x.campaign}"
        yield HistoryEvent(_aware(x.created_at), "export", title, "\n".join(lines), x.created_by)


def _requests(ctx: Context, prospect_id: int) -> Iterable[HistoryEvent]:
    for r in requests.requests_for_prospect(ctx, prospect_id):
        kind = enum_label(RequestKind, r.kind)
        lines = [f"Received {format_date(r.received_on)}, due {format_date(r.due_on)}"]
        if r.extended_at:
            lines.append(f"Extended by {r.extension_months} months: {r.extension_reason or ''}")
        status = f"Status: {enum_label(RequestStatus, r.status)}"
        yield HistoryEvent(
            _aware(r.created_at),
            "request",
            f"{kind} request #{r.id} received",
            "\n".join([*lines, status]),
            r.created_by,
        )
        if r.closed_at:
            outcome = enum_label(RequestStatus, r.status)
            yield HistoryEvent(
                _aware(r.closed_at),
                "request",
                f"{kind} request #{r.id} {outcome.lower()}",
                f"Outcome: {r.outcome or '—'}",
                r.handled_by,
            )


_SOURCES = {
    "correspondence": (_correspondence, _audit),
    "consent": (_consent,),
    "edit": (_audit, _imports),
    "export": (_exports,),
    "request": (_requests, _audit),
}


# ------------------------------------------------------------------ public


def parse_kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    """The kinds asked for (all when None); ValidationError names an unknown one."""
    if kinds is None:
        return frozenset(KINDS)
    chosen = frozenset(k.strip().lower() for k in kinds)
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise ValidationError(
            {"kind": f"unknown kind '{unknown[0][:40]}' (use {', '.join(KINDS)})"}
        )
    return chosen


def _bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Local-day bounds as aware datetimes: ``since`` from its start, ``until`` to its end."""
    tz = datetime.now().astimezone().tzinfo
    lo = datetime.combine(since, time.min, tz) if since else None
    hi = datetime.combine(until, time.max, tz) if until else None
    return lo, hi


def history(
    ctx: Context,
    prospect_id: int,
    *,
    kinds: Iterable[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[HistoryEvent]:
    """Everything that happened to one prospect, newest first.

    ``kinds`` narrows to some of ``KINDS``; ``since`` and ``until`` are
    inclusive local days. Refused without ``Action.VIEW_AUDIT``.
    """
    ctx.require(Action.VIEW_AUDIT)
    chosen = parse_kinds(kinds)
    if since and until and since > until:
        raise ValidationError({"since": "the start date is after the end date"})
    prospects.get_prospect(ctx, prospect_id)  # NotFoundError for a wrong id
    sources = {src for kind in chosen for src in _SOURCES[kind]}
    order = [_correspondence, _consent, _audit, _imports, _exports, _requests]
    lo, hi = _bounds(since, until)
    events = [
        e
        for source in order
        if source in sources
        for e in source(ctx, prospect_id)
        if e.kind in chosen and (lo is None or e.at >= lo) and (hi is None or e.at <= hi)
    ]
    events.sort(key=lambda e: e.at, reverse=True)
    return events
