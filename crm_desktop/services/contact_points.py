"""A prospect's extra addresses and where their record came from.

An import keeps every email address and phone number a contact arrived
with: the first valid one of each kind is the prospect's own (on
:class:`~crm_desktop.domain.models.Prospect`), the others are
:class:`~crm_desktop.domain.models.ContactPoint` rows. Each import that
created or updated a prospect is an :class:`~crm_desktop.domain.models.ImportMember`:
the prospect's origin. This module reads both for the rest of the app (the
prospect view, the subject access pack, the history, the suppression of
every address an opt-out or erasure covers), and removes an extra address
someone says is wrong (rectification).

It imports no other service that imports it (marketing and rights use it),
so the package keeps no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlmodel import Session

from ..domain.dates import format_date
from ..domain.models import ContactPoint, ImportBatch, ImportMember, LIAssessment, Prospect
from ..domain.restriction import refuse_if_restricted
from ..domain.roles import Action
from ..domain.suppression import canonical_address
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text, format_phone
from ..errors import NotFoundError
from . import audit
from .context import Context
from .results import Jsonable, OriginView

EMAIL, PHONE = "email", "phone"

_ORIGIN_WORDS = {
    "created": "Imported from",
    "updated": "Updated by import of",
    "opted-out": "Imported (opted out: the address was suppressed) from",
}


def origin_text(o: OriginView) -> str:
    """One origin for people: "Imported from <file> (<source>) on <date> by <user>"."""
    when = format_date(o.imported_at.astimezone().date())
    words = _ORIGIN_WORDS.get(o.outcome, "Imported from")
    return f"{words} {o.file_name} ({o.source}) on {when} by {o.imported_by}"


@dataclass(frozen=True)
class OtherAddress(Jsonable):
    """One extra address: ``value`` as stored (an email, or a phone in E.164)."""

    id: int
    kind: str  # email | phone
    value: str

    @property
    def display(self) -> str:
        return format_phone(self.value) if self.kind == PHONE else self.value


def _shown_value(row: ContactPoint) -> str:
    # Phones are shown (and suppressed) from their E.164 key, as Prospect.phone is.
    return row.value_key if row.kind == PHONE and row.value_key else row.value


def other_addresses(session: Session, prospect_id: int) -> list[OtherAddress]:
    """The prospect's extra emails and phones, emails first, each in its order."""
    rows = session.scalars(
        select(ContactPoint)
        .where(ContactPoint.prospect_id == prospect_id)
        .order_by(ContactPoint.kind, ContactPoint.position, ContactPoint.id)
    )
    return [OtherAddress(r.id, r.kind, _shown_value(r)) for r in rows]


def addresses_of(session: Session, p: Prospect) -> list[tuple[str, str]]:
    """Every (kind, address) of a person: the primary ones, then the extra ones.

    What an opt-out, an objection or an erasure must suppress: a person who
    said no must not come back through their second email address.
    """
    out = [(EMAIL, p.email)] if p.email else []
    if p.phone:
        out.append((PHONE, p.phone))
    seen = {a.lower() for _, a in out}
    for extra in other_addresses(session, p.id):
        if not extra.value or extra.value.lower() in seen:
            continue
        try:
            canonical_address(extra.value)
        except ValueError:
            continue  # nothing a list could match (an opt-out is never refused for it)
        seen.add(extra.value.lower())
        out.append((extra.kind, extra.value))
    return out


def origins(session: Session, prospect_id: int) -> list[OriginView]:
    """Each import that created or updated the prospect, oldest first."""
    rows = session.execute(
        select(ImportBatch, ImportMember, LIAssessment.name)
        .join(ImportMember, ImportMember.import_id == ImportBatch.id)
        .outerjoin(LIAssessment, LIAssessment.id == ImportBatch.li_assessment_id)
        .where(ImportMember.prospect_id == prospect_id)
        .order_by(ImportBatch.created_at, ImportBatch.id)
    )
    return [
        OriginView(
            import_id=b.id,
            file_name=b.file_name,
            source=b.source,
            format=b.format,
            outcome=m.outcome,
            row_number=m.row_number,
            lawful_basis=b.lawful_basis,
            consent_wording=b.consent_wording,
            consent_policy_version=b.consent_policy_version,
            li_note=b.li_note,
            li_assessment_id=b.li_assessment_id,
            li_assessment_name=assessment,
            imported_by=b.created_by,
            imported_at=b.created_at,
        )
        for b, m, assessment in rows
    ]


def prospect_origins(ctx: Context, prospect_id: int) -> list[OriginView]:
    """:func:`origins` in its own read (for the history)."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        return origins(session, prospect_id)


def delete_all(session: Session, prospect_id: int) -> int:
    """Delete every extra address of a prospect (erasure, inside its transaction)."""
    result = session.execute(delete(ContactPoint).where(ContactPoint.prospect_id == prospect_id))
    return result.rowcount or 0


def forget_origins(session: Session, prospect_id: int) -> int:
    """Unlink a prospect from the imports that brought them (erasure).

    The link names a row of a file that may still be on someone's disk, so
    keeping it would let an erased person be found again; the batch keeps
    its counts, which hold no personal data.
    """
    result = session.execute(delete(ImportMember).where(ImportMember.prospect_id == prospect_id))
    return result.rowcount or 0


def _find(session: Session, prospect_id: int, address: int | str) -> ContactPoint | None:
    if isinstance(address, int):
        row = session.get(ContactPoint, address)
        return row if row is not None and row.prospect_id == prospect_id else None
    try:
        key = canonical_address(address)
    except ValueError:
        return None
    return session.scalars(
        select(ContactPoint).where(
            ContactPoint.prospect_id == prospect_id,
            ContactPoint.kind == (EMAIL if "@" in key else PHONE),
            ContactPoint.value_key == key,
        )
    ).first()


def remove_address(
    ctx: Context, prospect_id: int, address: int | str, *, reason: str | None = None
) -> OtherAddress:
    """Remove one extra address (a correction); audited, with an optional reason.

    ``address``: its id, or the address itself (an email in any case, a phone
    number as typed).

    Refused on a restricted person, as every other change is. The address's
    suppression entries, if any, stay: removing a wrong address never makes
    it marketable.
    """
    ctx.require(Action.EDIT_RECORDS)
    try:
        why = clean_text(reason, max_len=1000, multiline=True)
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None
    with ctx.db.transaction() as session:
        p = session.get(Prospect, prospect_id)
        if p is None:
            raise NotFoundError(f"No prospect with id {prospect_id}.")
        row = _find(session, prospect_id, address)
        if row is None:
            raise NotFoundError(
                f"{p.first_name} {p.last_name} has no such other address; "
                "someone may have removed it already."
            )
        refuse_if_restricted(p)
        removed = OtherAddress(row.id, row.kind, _shown_value(row))
        field = "other_email" if row.kind == EMAIL else "other_phone"
        session.delete(row)
        p.updated_at = utcnow()
        p.version += 1
        audit.record_change(
            session, ctx.user, "prospect.edited", "prospect", p.id,
            {field: removed.value}, {field: None}, reason=why,
        )  # fmt: skip
    return removed


def find_by_address(session: Session, address: str) -> list[int]:
    """Prospects holding this address as an extra one (exact, after normalising)."""
    try:
        key = canonical_address(address)
    except ValueError:
        return []
    kind = EMAIL if "@" in key else PHONE
    return list(
        session.scalars(
            select(ContactPoint.prospect_id)
            .where(ContactPoint.kind == kind, ContactPoint.value_key == key)
            .distinct()
        )
    )
