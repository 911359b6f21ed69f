"""The subject access pack: everything we hold on one person, and what we do with it.

UK GDPR article 15 gives a person the right to a copy of their personal
data together with where it came from, why we use it, who receives it, how
long we keep it and what their rights are; article 20 (portability) wants
the data they gave us in a structured, machine-readable form. One pack
answers both: :func:`build_pack` gathers it as a plain, JSON-ready dict
(ISO dates, stable keys, ``format_version``) from one read snapshot, so no
part of it disagrees with another; :func:`write_json` writes it as UTF-8
JSON, and ``ui.sar_pdf`` renders the same dict as a readable PDF.

Writing a pack is a disclosure, so it is recorded in the audit trail
(``sar.created``), and it may be done only by roles that handle data-subject
requests. Files are written completely or not at all, readable by their
owner only, and never replace an existing file: a pack is sent to a person,
and silently overwriting an earlier one would lose what they were sent.

The descriptive texts (purposes, recipients, processors, retention, rights)
are constants here, so the JSON and the PDF say the same words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from ..domain.dates import add_months
from ..domain.eligibility import exclusion_reasons
from ..domain.enums import Channel
from ..domain.models import (
    AuditEntry,
    ChannelPermission,
    ConsentEvent,
    Correspondence,
    DataSubjectRequest,
    ExportMember,
    ExportRun,
    Interest,
    LIAssessment,
    Prospect,
    ProspectInterest,
    School,
    Suppression,
)
from ..domain.roles import Action
from ..domain.subscribers import subscriber_type
from ..domain.types import utcnow
from ..errors import Cancelled, CrmError, NotFoundError
from ..formats.atomic import atomic_output
from . import audit, contact_points, requests, suppression
from .context import Context
from .marketing import facts_for
from .settings import require_controller, staff_names

FORMAT_VERSION = 3  # 2: the controller block, requests, staff by name; 3: imports, other addresses
PACK_KIND = "subject-access-pack"
FORMATS = ("json", "pdf")
AUDIT_ACTION = "sar.created"

Progress = Callable[[int, int], None]
CancelFn = Callable[[], bool]
# Writes a pack (the dict from build_pack) to a temporary file, reporting
# progress and checking for a cancel as it goes.
Renderer = Callable[[dict, Path, Progress | None, CancelFn | None], None]

# ------------------------------------------------------ descriptive texts

INTRODUCTION = (
    "This pack is a copy of all the personal data we hold about you, with where it came "
    "from, why we use it and on what lawful basis, who receives it, how long we keep it "
    "and your rights (UK GDPR, article 15). The same data is available as a "
    "machine-readable JSON file, which you may take to another organisation (article 20)."
)

CATEGORIES = (
    "Identity and contact details: your name, work email addresses and phone numbers.",
    "Professional details: your school, job role and the services you are interested in.",
    "Our sales record: the stage of our conversations and who in our team looks after you.",
    "Correspondence: a note of each call, email, meeting or other contact with you.",
    "Marketing preferences: your consent, opt-outs and objections, and their history.",
)

PURPOSES = (
    "Telling schools about our services and selling them: contacting you about the services "
    "you or your school are interested in, and following up.",
    "Direct marketing by email, SMS, phone or online audiences, only on the channels and "
    "lawful basis shown in this pack.",
    "Keeping a record of our correspondence, so that whoever in our team speaks to you "
    "knows what was said before.",
    "Respecting your choices: recording consent, opt-outs and objections, and keeping you "
    "on our suppression list so we never market to you against your wishes.",
)

SALES_BASIS = (
    "For selling to your school and keeping a record of our correspondence we rely on our "
    "legitimate interests (article 6(1)(f)) in telling schools about services that can help "
    "them. The lawful basis for marketing to you is shown per person and per channel below."
)

RECIPIENTS = (
    "Our sales and marketing staff, and the managers who oversee them.",
    "Our IT administrators, who look after the database and its backups.",
)

PROCESSORS = (
    {
        "name": "Email-marketing tool (Mailchimp)",
        "purpose": "Sends our marketing emails to the campaign lists we export to it.",
    },
    {
        "name": "Hosting and IT provider",
        "purpose": "Runs the server that holds our shared database.",
    },
    {
        "name": "Backup storage provider",
        "purpose": "Keeps backup copies of the database.",
    },
)

TRANSFERS = (
    "The email-marketing tool may store the campaign lists it is given outside the UK "
    "(in the United States). Such transfers are made under the safeguards in our contract "
    "with the provider (the UK International Data Transfer Addendum or the UK-US data "
    "bridge)."
)

RETENTION_MONTHS = 24
RETENTION_RULE = (
    f"We review your record after {RETENTION_MONTHS} months without contact with you, and "
    "delete it unless there is a reason to keep it (for example, you are a customer)."
)
RETENTION_SUPPRESSION = (
    "If you opt out, object or ask us to erase your data, we keep a keyed hash of your "
    "email address or phone number on our suppression list for as long as we market to "
    "anyone, so that you are never contacted again. The hash cannot be turned back into "
    "your address."
)
RETENTION_EXPORTS = (
    "Records of the campaign lists you were included in are kept with our records of "
    "each campaign, so we can show whom we contacted and why."
)

AUTOMATED_DECISIONS = (
    "We make no decisions about you by automated means that have legal or similarly "
    "significant effects. The app decides automatically only whether you may be included "
    "in a marketing list, from the choices shown in this pack."
)

SUPPRESSION_EXPLAINED = (
    "The suppression list holds keyed hashes of addresses that must never be marketed to; "
    "it outlives the record of the person, so a deleted and re-added person cannot be "
    "marketed to again."
)

RIGHTS = (
    {
        "right": "access",
        "title": "Right of access",
        "text": "You may ask for a copy of your personal data at any time; this pack is it.",
    },
    {
        "right": "rectification",
        "title": "Right to rectification",
        "text": "You may have inaccurate data about you corrected and incomplete data completed.",
    },
    {
        "right": "erasure",
        "title": "Right to erasure",
        "text": "You may ask us to delete your data where we have no overriding reason to "
        "keep it. We then keep only the suppression-list hash described above.",
    },
    {
        "right": "restriction",
        "title": "Right to restrict processing",
        "text": "You may ask us to keep your data but stop using it, for example while you "
        "contest its accuracy.",
    },
    {
        "right": "objection",
        "title": "Right to object",
        "text": "You may object at any time to direct marketing, and we will stop at once "
        "on every channel. You may also object to other uses based on our legitimate "
        "interests.",
    },
    {
        "right": "portability",
        "title": "Right to data portability",
        "text": "You may receive the data you gave us in a structured, commonly used, "
        "machine-readable format (the JSON version of this pack), and have it sent to "
        "another organisation.",
    },
    {
        "right": "withdraw-consent",
        "title": "Right to withdraw consent",
        "text": "Where we rely on your consent you may withdraw it at any time, as easily "
        "as you gave it. This does not affect what we did before.",
    },
)

HOW_TO_EXERCISE = (
    "To use any of these rights, reply to whoever sent you this pack or contact any of our "
    "staff. It is free, and we answer within one month."
)

COMPLAINT = {
    "organisation": "Information Commissioner's Office (ICO)",
    "text": "If you are unhappy with how we handle your data, you may complain to the "
    "Information Commissioner's Office, the UK's data-protection regulator.",
    "website": "https://ico.org.uk",
    "complaint_form": "https://ico.org.uk/make-a-complaint/",
    "phone": "0303 123 1113",
    "address": "Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF",
}


# -------------------------------------------------------------- building


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _load(session: Session, prospect_id: int) -> Prospect:
    p = session.get(Prospect, prospect_id)
    if p is None:
        raise NotFoundError(f"No prospect with id {prospect_id}.")
    return p


class _Staff:
    """Names staff as people know them (display names), not by their logins."""

    def __init__(self, session: Session):
        self._names = staff_names(session)

    def __call__(self, username: str | None) -> str | None:
        if username is None:
            return None
        return self._names.get(username, username)


def _subject(session: Session, p: Prospect, staff: _Staff) -> dict:
    others = contact_points.other_addresses(session, p.id)
    return {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "email": p.email,
        "phone": p.phone,
        "role": p.role,
        "stage": p.stage,
        "owner": staff(p.owner),
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
        "last_contact_at": _iso(p.last_contact_at),
        "next_follow_up": _iso(p.next_follow_up),
        "subscriber_type": subscriber_type(p.email, p.subscriber_type_override).value,
        "subscriber_type_inferred": p.subscriber_type_override is None,
        "personalisation_refused": p.personalisation_refused,
        "erased_at": _iso(p.erased_at),
        "restricted_at": _iso(p.restricted_at),
        "restriction_reason": p.restriction_reason,
        "other_emails": [a.value for a in others if a.kind == contact_points.EMAIL],
        "other_phones": [a.value for a in others if a.kind == contact_points.PHONE],
    }


def _source(session: Session, p: Prospect, staff: _Staff) -> dict:
    """Where their details came from: what was typed in, and each import that brought them."""
    return {
        "source": p.source,
        "detail": p.source_detail,
        "date": _iso(p.source_date),
        "imports": [
            {
                "file_name": o.file_name,
                "source": o.source,
                "format": o.format,
                "outcome": o.outcome,
                "row_number": o.row_number,
                "imported_at": _iso(o.imported_at),
                "imported_by": staff(o.imported_by),
                "lawful_basis": o.lawful_basis,
                "consent_wording": o.consent_wording,
                "consent_policy_version": o.consent_policy_version,
                "li_note": o.li_note,
                "li_assessment": o.li_assessment_name,
            }
            for o in contact_points.origins(session, p.id)
        ],
    }


def _school(session: Session, p: Prospect) -> dict | None:
    s = session.get(School, p.school_id) if p.school_id else None
    if s is None:
        return None
    return {
        "id": s.id,
        "name": s.name,
        "urn": s.urn,
        "phase": s.phase,
        "local_authority": s.local_authority,
        "postcode": s.postcode,
        "phone": s.phone,
        "website": s.website,
    }


def _interests(session: Session, p: Prospect) -> list[str]:
    return list(
        session.scalars(
            select(Interest.name)
            .join(ProspectInterest, ProspectInterest.interest_id == Interest.id)
            .where(ProspectInterest.prospect_id == p.id)
            .order_by(Interest.name_key)
        )
    )


def _lawful_basis(session: Session, p: Prospect) -> dict:
    a = session.get(LIAssessment, p.li_assessment_id) if p.li_assessment_id else None
    assessment = None
    if a is not None:
        assessment = {
            "id": a.id,
            "name": a.name,
            "purpose": a.purpose,
            "necessity": a.necessity,
            "balancing": a.balancing,
            "created_at": _iso(a.created_at),
        }
    return {
        "sales_basis": SALES_BASIS,
        "marketing_basis": p.lawful_basis,
        "assessment": assessment,
        "note": p.li_note,
    }


def _permissions(session: Session, p: Prospect, staff: _Staff) -> list[dict]:
    facts = facts_for(session, p)
    rows = {
        r.channel: r
        for r in session.scalars(
            select(ChannelPermission).where(ChannelPermission.prospect_id == p.id)
        )
    }
    out = []
    for channel in Channel:
        r = rows.get(channel.value) or ChannelPermission(prospect_id=p.id, channel=channel.value)
        reasons = [e.value for e in exclusion_reasons(facts, channel)]
        out.append(
            {
                "channel": channel.value,
                "consent": bool(r.consent),
                "consent_at": _iso(r.consent_at),
                "consent_method": r.consent_method,
                "consent_evidence": r.consent_wording,
                "consent_policy_version": r.consent_policy_version,
                "consent_given_by": r.consent_given_by,
                "consent_recorded_by": staff(r.consent_recorded_by),
                "opted_out": r.opted_out_at is not None,
                "opted_out_at": _iso(r.opted_out_at),
                "opt_out_source": r.opt_out_source,
                "opt_out_reason": r.opt_out_reason,
                "may_be_contacted": not reasons,
                "not_contacted_because": reasons,
            }
        )
    return out


def _consent_history(session: Session, p: Prospect, staff: _Staff) -> list[dict]:
    """The ledger, oldest first: a history reads forwards."""
    rows = session.scalars(
        select(ConsentEvent).where(ConsentEvent.prospect_id == p.id).order_by(ConsentEvent.id)
    )
    return [
        {
            "id": e.id,
            "at": _iso(e.recorded_at),
            "action": e.action,
            "channel": e.channel,
            "details": json.loads(e.details),
            "recorded_by": staff(e.recorded_by),
        }
        for e in rows
    ]


def _correspondence(session: Session, p: Prospect, staff: _Staff) -> list[dict]:
    rows = session.scalars(
        select(Correspondence)
        .where(Correspondence.prospect_id == p.id)
        .order_by(Correspondence.occurred_at, Correspondence.id)
    )
    return [
        {
            "id": c.id,
            "occurred_at": _iso(c.occurred_at),
            "kind": c.kind,
            "subject": c.subject,
            "summary": c.summary,
            "logged_by": staff(c.logged_by),
            "follow_up_on": _iso(c.follow_up_on),
            "follow_up_done_at": _iso(c.follow_up_done_at),
        }
        for c in rows
    ]


def _exports(session: Session, p: Prospect) -> list[dict]:
    """The campaign lists they were in, oldest first (as exports.exports_for_prospect)."""
    runs = session.scalars(
        select(ExportRun)
        .join(ExportMember, ExportMember.export_id == ExportRun.id)
        # Only lists that were sent: an interrupted export wrote no file.
        .where(ExportMember.prospect_id == p.id, ExportRun.state == "complete")
        .order_by(ExportRun.id)
    )
    return [
        {
            "id": r.id,
            "date": _iso(r.created_at),
            "campaign": r.campaign,
            "channel": r.channel,
            "purpose": r.purpose,
            "personalised": r.personalised,
            "format": r.format,
        }
        for r in runs
    ]


def _suppression(session: Session, p: Prospect) -> dict:
    """The entries for every address of theirs: "address" says which kind of address
    ("email", "phone", "other-email", "other-phone"), never the address itself."""
    hasher = suppression.Hasher(session)
    by_digest: dict[str | None, str] = {}
    for kind, address in contact_points.addresses_of(session, p):
        primary = (kind == contact_points.EMAIL and address == p.email) or (
            kind == contact_points.PHONE and address == p.phone
        )
        by_digest.setdefault(hasher(address), kind if primary else f"other-{kind}")
    by_digest.pop(None, None)
    entries = []
    if by_digest:
        rows = session.scalars(
            select(Suppression)
            .where(Suppression.digest.in_(list(by_digest)))
            .order_by(Suppression.id)
        )
        entries = [
            {
                "address": by_digest[r.digest],
                "channel": r.channel,
                "reason": r.reason,
                "source": r.source,
                "created_at": _iso(r.created_at),
            }
            for r in rows
        ]
    return {
        "suppressed": bool(entries),
        "channels": sorted({e["channel"] for e in entries}),
        "entries": entries,
        "explanation": SUPPRESSION_EXPLAINED,
    }


def _retention(p: Prospect) -> dict:
    since = (p.last_contact_at or p.created_at).date()
    return {
        "rule": RETENTION_RULE,
        "months_without_contact": RETENTION_MONTHS,
        "counted_from": since.isoformat(),
        "counted_from_event": "last contact" if p.last_contact_at else "record created",
        "review_due": add_months(since, RETENTION_MONTHS).isoformat(),
        "suppression_list": RETENTION_SUPPRESSION,
        "campaign_records": RETENTION_EXPORTS,
    }


def _requests(session: Session, p: Prospect, staff: _Staff) -> list[dict]:
    """The requests they made about their data (as the prospect's history lists
    them), oldest first, with what was done to answer each."""
    rows = session.scalars(
        select(DataSubjectRequest)
        .where(DataSubjectRequest.prospect_id == p.id)
        .order_by(DataSubjectRequest.received_on, DataSubjectRequest.id)
    )
    out = []
    for r in rows:
        actions = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == requests.ENTITY,
                AuditEntry.entity_id == str(r.id),
                AuditEntry.action.in_([f"request.{a}" for a in requests.ACTIONS]),
            )
            .order_by(AuditEntry.id)
        )
        out.append(
            {
                "id": r.id,
                "kind": r.kind,
                "status": r.status,
                "received_on": _iso(r.received_on),
                "due_on": _iso(r.due_on),
                "extended_at": _iso(r.extended_at),
                "extension_reason": r.extension_reason,
                "identity_verified": r.identity_verified,
                "closed_at": _iso(r.closed_at),
                "outcome": r.outcome,
                "handled_by": staff(r.handled_by),
                "actions": [
                    {
                        "at": _iso(e.at),
                        "action": e.action.removeprefix("request."),
                        "by": staff(e.actor),
                        "values": audit.stored_values(e.values) or {},
                    }
                    for e in actions
                ],
            }
        )
    return out


def _staff_values(values: dict, staff: _Staff) -> dict:
    """An audited edit's values with the owner (a user name) shown by name."""
    owner = values.get("owner")
    if isinstance(owner, dict):
        values["owner"] = {side: staff(name) for side, name in owner.items()}
    elif isinstance(owner, str):
        values["owner"] = staff(owner)
    return values


def _processing_log(session: Session, p: Prospect, staff: _Staff) -> list[dict]:
    """Audit-trail entries about this person's record (earlier packs, requests)."""
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "prospect", AuditEntry.entity_id == str(p.id))
        .order_by(AuditEntry.id)
    )
    return [
        {
            "at": _iso(e.at),
            "action": e.action,
            "actor": staff(e.actor),
            "reason": e.reason,
            "values": _staff_values(audit.stored_values(e.values) or {}, staff),
        }
        for e in rows
    ]


def build_pack(ctx: Context, prospect_id: int) -> dict:
    """Everything we hold on one person, as a JSON-ready dict (ISO dates, plain values).

    Read in one transaction, so every section describes the same moment.
    Only roles that handle data-subject requests may build one, and only
    once an admin has set the controller's details (which the pack names):
    :class:`~crm_desktop.services.settings.ControllerNotSetError` says what
    is missing. Staff appear by the names people know them by.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    with ctx.db.read() as session:
        controller = require_controller(session)
        p = _load(session, prospect_id)
        staff = _Staff(session)
        return {
            "format_version": FORMAT_VERSION,
            "kind": PACK_KIND,
            "generated_at": _iso(utcnow()),
            "generated_by": staff(ctx.user),
            "controller": controller.to_dict(),
            "introduction": INTRODUCTION,
            "subject": _subject(session, p, staff),
            "school": _school(session, p),
            "interests": _interests(session, p),
            "source": _source(session, p, staff),
            "categories": list(CATEGORIES),
            "purposes": list(PURPOSES),
            "lawful_basis": _lawful_basis(session, p),
            "marketing_permissions": _permissions(session, p, staff),
            "consent_history": _consent_history(session, p, staff),
            "correspondence": _correspondence(session, p, staff),
            "exports": _exports(session, p),
            "requests": _requests(session, p, staff),
            "suppression": _suppression(session, p),
            "recipients": list(RECIPIENTS),
            "processors": [dict(x) for x in PROCESSORS],
            "international_transfers": TRANSFERS,
            "retention": _retention(p),
            "automated_decisions": AUTOMATED_DECISIONS,
            "rights": [dict(r) for r in RIGHTS],
            "how_to_exercise_rights": HOW_TO_EXERCISE,
            "complaint": dict(COMPLAINT),
            "processing_log": _processing_log(session, p, staff),
        }


# --------------------------------------------------------------- writing


def format_for(path: str | Path) -> str | None:
    """The pack format a file name asks for: "json", "pdf", or None for any other."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def _refuse_existing(dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        raise CrmError(f"{dest} already exists; choose a new name (a pack never replaces a file).")


def write_pack(
    ctx: Context,
    prospect_id: int,
    path: str | Path,
    fmt: str,
    render: Renderer,
    *,
    progress: Progress | None = None,
    should_cancel: CancelFn | None = None,
    request_id: int | None = None,
) -> Path:
    """Build the pack, have ``render`` write it, and record the disclosure.

    ``request_id`` names the access (or portability) request the pack
    answers: the request then records that a pack was made, with the file's
    name and format, in the same transaction as the audit entry.

    The file appears complete or not at all (a cancel or failure leaves
    nothing), readable by its owner only, and only together with its
    ``sar.created`` audit entry. Renderers for other formats (the PDF lives
    in the UI layer, as it needs Qt) call this, so every format gets the same
    permission check, refusal of an existing file and audit entry.
    """
    ctx.require(Action.DATA_SUBJECT_REQUESTS)
    ctx.db.check_writable()  # the disclosure could not be recorded: write no file
    if fmt not in FORMATS:
        raise ValueError(f"unknown pack format {fmt!r}")
    dest = Path(path)
    _refuse_existing(dest)
    if request_id is not None:
        _check_request(ctx, request_id, prospect_id)
    pack = build_pack(ctx, prospect_id)
    with atomic_output(dest) as tmp:
        render(pack, tmp, progress, should_cancel)
        if should_cancel and should_cancel():
            raise Cancelled("Cancelled; no pack was written.")
        _refuse_existing(dest)  # someone may have made it meanwhile
        with ctx.db.transaction() as session:
            values = {"format": fmt, "file": dest.name}
            if request_id is not None:
                values["request"] = request_id
            audit.record(session, ctx.user, AUDIT_ACTION, "prospect", prospect_id, values)
            if request_id is not None:
                requests.link_action(
                    session, ctx, request_id, "pack-made",
                    {"format": fmt, "file": dest.name, "prospect_id": prospect_id},
                    prospect_id=prospect_id,
                )  # fmt: skip
    return dest


def _check_request(ctx: Context, request_id: int, prospect_id: int) -> None:
    """Refuse before any work a request that is closed or about someone else."""
    r = requests.get_request(ctx, request_id)
    if r.closed:
        raise CrmError(f"Request #{r.id} is closed; a pack made now cannot answer it.")
    if r.prospect_id is not None and r.prospect_id != prospect_id:
        raise CrmError(f"Request #{r.id} is about prospect #{r.prospect_id}, not #{prospect_id}.")


def pack_json(pack: dict) -> bytes:
    """The pack as UTF-8 JSON: keys sorted, so the same pack gives the same bytes."""
    return (json.dumps(pack, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _render_json(
    pack: dict, tmp: Path, progress: Progress | None, should_cancel: CancelFn | None
) -> None:
    tmp.write_bytes(pack_json(pack))
    if progress:
        progress(1, 1)


def write_json(
    ctx: Context,
    prospect_id: int,
    path: str | Path,
    *,
    progress: Progress | None = None,
    should_cancel: CancelFn | None = None,
    request_id: int | None = None,
) -> Path:
    """Write the machine-readable pack (also the portable copy of their data)."""
    return write_pack(
        ctx, prospect_id, path, "json", _render_json,
        progress=progress, should_cancel=should_cancel, request_id=request_id,
    )  # fmt: skip
