"""Data-subject rights on one person: restriction, objection and erasure.

Restriction keeps the data but blocks its use: the person is left out of
every export and their record cannot be changed until the restriction is
lifted (an opt-out is still always honoured). Erasure anonymises the person
irreversibly: the row stays as a tombstone so counts and history add up, the
addresses (extra ones included) go onto the suppression list as keyed hashes,
and the old values are removed from the record, its extra addresses, its
links to the imports that brought it, its correspondence, the consent ledger,
the audit trail's stored values, the search index and the database files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlmodel import Session

from ..domain.eligibility import ALL
from ..domain.models import (
    ChannelPermission,
    ConsentEvent,
    Correspondence,
    Prospect,
    ProspectInterest,
)
from ..domain.restriction import RestrictedError
from ..domain.roles import Action
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text
from ..errors import CrmError, NotFoundError
from . import audit, cleanup, contact_points, requests, suppression
from .cleanup import Cleanup
from .context import Context
from .prospects import get_prospect
from .results import ProspectView

ERASED_FIRST = "Erased"
ERASED_SUMMARY = "(erased)"


def _load(session: Session, prospect_id: int) -> Prospect:
    p = session.get(Prospect, prospect_id)
    if p is None:
        raise NotFoundError(f"No prospect with id {prospect_id}.")
    return p


def _reason(value: str | None) -> str:
    try:
        return clean_text(value, max_len=5000, required=True, multiline=True)  # type: ignore[return-value]
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None


def restrict(
    ctx: Context, prospect_id: int, reason: str, *, request_id: int | None = None
) -> ProspectView:
    """Restrict processing (the reason is required and shown on the record).

    ``request_id`` names the data-subject request this answers: the
    restriction is then recorded on that request too, in the same transaction.
    """
    ctx.require(Action.RESTRICT)
    why = _reason(reason)
    if request_id is not None:
        ctx.require(Action.DATA_SUBJECT_REQUESTS)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        if p.erased_at is not None:
            raise RestrictedError(f"Prospect #{p.id} was erased.")
        p.restricted_at, p.restriction_reason = utcnow(), why
        p.version += 1
        values = {} if request_id is None else {"request": request_id}
        audit.record(session, ctx.user, "prospect.restricted", "prospect", p.id, values, reason=why)
        if request_id is not None:
            requests.link_action(
                session, ctx, request_id, "restricted",
                {"prospect_id": p.id, "reason": why}, prospect_id=p.id,
            )  # fmt: skip
    return get_prospect(ctx, prospect_id)


def unrestrict(ctx: Context, prospect_id: int, reason: str) -> ProspectView:
    """Lift a restriction (recorded with its reason)."""
    ctx.require(Action.RESTRICT)
    why = _reason(reason)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        if p.restricted_at is None:
            raise CrmError(f"{p.first_name} {p.last_name} is not restricted.")
        p.restricted_at, p.restriction_reason = None, None
        p.version += 1
        audit.record(session, ctx.user, "prospect.unrestricted", "prospect", p.id, {}, reason=why)
    return get_prospect(ctx, prospect_id)


@dataclass(frozen=True)
class Erasure:
    """An erasure that was committed, and what its clean-up of the files achieved.

    ``cleanup`` is None when the caller left the clean-up for later
    (``scrub=False``: it is then owed, and the next start does it).
    """

    view: ProspectView
    cleanup: Cleanup | None

    def to_dict(self) -> dict[str, object]:
        return {**self.view.to_dict(), "cleanup": self.cleanup and self.cleanup.to_dict()}


def erase(
    ctx: Context,
    prospect_id: int,
    *,
    confirm: str,
    scrub: bool = True,
    request_id: int | None = None,
) -> Erasure:
    """Anonymise a person irreversibly. ``confirm`` must be their full name.

    The name must be typed exactly as shown, capitals and spaces included:
    a near miss ("jane smith" for "Jane Smith", or "Jane  Smith") may mean the
    wrong person is on screen. ``scrub`` then rewrites the database files so
    no trace of the old values remains (a VACUUM: the caller runs this off
    the GUI thread), and checks that it did. The erasure is committed first,
    with a mark that the clean-up is owed; a clean-up that fails or is held
    back by another program's read does not undo it or raise: the result
    says so, and the mark stays until a later clean-up finishes
    (:mod:`.cleanup`). ``request_id`` names the erasure request this answers;
    the erasure is recorded on it. The person's requests are not blanked:
    they keep who asked and how it was answered (``requests.keep_requester``).
    """
    ctx.require(Action.ERASE)
    if request_id is not None:
        ctx.require(Action.DATA_SUBJECT_REQUESTS)
    with ctx.db.transaction() as session:
        p = _load(session, prospect_id)
        if p.erased_at is not None:
            raise CrmError(f"Prospect #{p.id} was already erased.")
        full = f"{p.first_name} {p.last_name}"
        if confirm != full:
            raise ValidationError(
                {"confirm": f"type the person's full name exactly as shown ({full}) to confirm"}
            )
        # 1. Suppress first, while the addresses are still known (hashes only):
        # every one of them, the extra ones an import kept included, so a
        # re-import of any of them comes in opted out.
        for _kind, address in contact_points.addresses_of(session, p):
            suppression.add_entry(session, ctx, address, ALL, "erasure", f"prospect #{p.id}")
        contact_points.delete_all(session, p.id)
        contact_points.forget_origins(session, p.id)
        # Requests they made keep who asked (their own retention period), so
        # the manager can still answer them and show that they were answered.
        requests.keep_requester(session, p)
        if request_id is not None:
            requests.link_action(
                session, ctx, request_id, "erased", {"prospect_id": p.id}, prospect_id=p.id
            )
        # 2. The record becomes a tombstone.
        p.first_name, p.last_name = ERASED_FIRST, f"person #{p.id}"
        p.email = p.email_key = p.phone = None
        p.role = p.source_detail = p.li_note = p.restriction_reason = None
        p.school_id = None
        p.restricted_at = None
        p.erased_at = utcnow()
        p.version += 1
        session.execute(delete(ProspectInterest).where(ProspectInterest.prospect_id == p.id))
        # 3. Correspondence bodies, consent evidence and ledger details.
        session.execute(
            update(Correspondence)
            .where(Correspondence.prospect_id == p.id)
            .values(subject=None, summary=ERASED_SUMMARY)
        )
        session.execute(
            update(ChannelPermission)
            .where(ChannelPermission.prospect_id == p.id)
            .values(consent_wording=None, consent_given_by=None, opt_out_reason=None)
        )
        session.execute(
            update(ConsentEvent)
            .where(ConsentEvent.prospect_id == p.id)
            .values(details=json.dumps({"erased": True}))
        )
        # 4. Old values in the audit trail (their hashes keep the chain whole).
        audit.redact(session, "prospect", p.id)
        values = {} if request_id is None else {"request": request_id}
        audit.record(session, ctx.user, "prospect.erased", "prospect", p.id, values)
        cleanup.mark_owed(session)
    done = cleanup.run(ctx.db) if scrub else None
    return Erasure(get_prospect(ctx, prospect_id), done)


def erased_count(ctx: Context) -> int:
    ctx.require(Action.VIEW)
    from sqlalchemy import func

    with ctx.db.read() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Prospect).where(Prospect.erased_at.is_not(None))
            )
            or 0
        )
