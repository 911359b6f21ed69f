"""The suppression list: keyed hashes of addresses that must never be marketed to.

It outlives the prospects it came from. Exports and imports check it. Only
opt-out-derived entries are ever removed (by an explicit opt-in with
evidence); erasure and marketing's own entries stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..domain.eligibility import ALL
from ..domain.enums import Channel
from ..domain.models import Setting, Suppression
from ..domain.roles import Action
from ..domain.suppression import address_kind, canonical_address, digest
from ..domain.types import utcnow
from ..domain.validation import ValidationError, clean_text
from ..errors import Cancelled, DatabaseError
from ..formats.address_files import read_addresses
from . import audit
from .context import Context
from .results import Jsonable

KEY_SETTING = "suppression_hmac_key"
OPT_OUT_REASONS = ("opt-out", "objection", "email-tool")
REASONS = ("opt-out", "objection", "erasure", "email-tool", "manual")


@dataclass(frozen=True)
class SuppressionEntry(Jsonable):
    kind: str
    channel: str
    reason: str
    source: str | None
    created_by: str
    created_at: datetime


def hmac_key(session: Session) -> bytes:
    # Made once by migration 0003. Never invent one here: hashes under a new
    # key would silently stop matching the list.
    row = session.get(Setting, KEY_SETTING)
    if row is None:
        raise DatabaseError(
            "This database's suppression-list key is missing, so suppressed addresses "
            "cannot be checked. Restore the database from a backup."
        )
    return bytes.fromhex(row.value)


class Hasher:
    """Hashes addresses with one database's key (load once, use for many)."""

    def __init__(self, session: Session):
        self._key = hmac_key(session)

    def __call__(self, address: str | None) -> str | None:
        if not address:
            return None
        try:
            return digest(self._key, canonical_address(address))
        except ValueError:
            return None


def channels_suppressed(session: Session, address: str | None) -> frozenset[str]:
    """The channels (or ALL) this address is suppressed for."""
    d = Hasher(session)(address)
    if not d:
        return frozenset()
    return frozenset(session.scalars(select(Suppression.channel).where(Suppression.digest == d)))


def all_suppressed(session: Session) -> dict[str, frozenset[str]]:
    """Every suppressed digest -> its channels (for bulk checks, e.g. exports)."""
    out: dict[str, set[str]] = {}
    for d, channel in session.execute(select(Suppression.digest, Suppression.channel)):
        out.setdefault(d, set()).add(channel)
    return {d: frozenset(c) for d, c in out.items()}


def add_entry(
    session: Session, ctx: Context, address: str, channel: str, reason: str, source: str | None
) -> bool:
    """Add one entry inside the caller's transaction. False if it was already there."""
    canonical = canonical_address(address)
    d = digest(hmac_key(session), canonical)
    existing = session.scalars(
        select(Suppression).where(Suppression.digest == d, Suppression.channel == channel)
    ).first()
    if existing is not None:
        # An entry an opt-in may lift becomes a lasting one if marketing (or
        # erasure) suppresses the same address: the stronger reason wins.
        if existing.reason in OPT_OUT_REASONS and reason not in OPT_OUT_REASONS:
            existing.reason, existing.source = reason, source
            existing.created_by, existing.created_at = ctx.user, utcnow()
            session.flush()
        return False
    session.add(
        Suppression(
            kind=address_kind(canonical),
            digest=d,
            channel=channel,
            reason=reason,
            source=source,
            created_by=ctx.user,
            created_at=utcnow(),
        )
    )
    session.flush()
    return True


def remove_entries(
    session: Session,
    addresses: Iterable[str],
    *,
    reasons: Iterable[str],
    keep_channels: Iterable[str] = (),
) -> int:
    """Remove the entries for these addresses with these reasons, except kept channels."""
    hasher = Hasher(session)
    digests = [d for d in (hasher(a) for a in addresses) if d]
    if not digests:
        return 0
    stmt = delete(Suppression).where(
        Suppression.digest.in_(digests), Suppression.reason.in_(list(reasons))
    )
    keep = list(keep_channels)
    if keep:
        stmt = stmt.where(Suppression.channel.not_in(keep))
    return session.execute(stmt).rowcount or 0


def _channel(value: str | None) -> str:
    if not value or value.strip().lower() == ALL:
        return ALL
    return Channel.parse(value).value


def suppress(
    ctx: Context,
    address: str,
    *,
    channel: str | None = ALL,
    reason: str = "manual",
    source: str | None = None,
) -> bool:
    """Put an email or phone number on the suppression list. False if already there."""
    ctx.require(Action.MANAGE_SUPPRESSION)
    try:
        canonical_address(address)
    except ValueError as exc:
        raise ValidationError({"address": str(exc)}) from None
    source = clean_text(source, max_len=200)
    try:
        with ctx.db.transaction() as session:
            added = add_entry(session, ctx, address, _channel(channel), reason, source)
            # The address itself is never recorded, here or anywhere.
            audit.record(session, ctx.user, "suppression.added", "suppression", None, {
                "kind": address_kind(canonical_address(address)), "channel": _channel(channel),
                "reason": reason, "new": added,
            })  # fmt: skip
            return added
    except IntegrityError:  # someone else added it at the same moment
        return False


@dataclass(frozen=True)
class BulkResult(Jsonable):
    added: int
    already: int
    invalid: list[str]


def lookup(ctx: Context, address: str) -> list[SuppressionEntry]:
    """The suppression entries for an address ([] when it is not suppressed)."""
    ctx.require(Action.MANAGE_SUPPRESSION)
    try:
        canonical = canonical_address(address)
    except ValueError as exc:
        raise ValidationError({"address": str(exc)}) from None
    with ctx.db.read() as session:
        d = digest(hmac_key(session), canonical)
        rows = session.scalars(
            select(Suppression).where(Suppression.digest == d).order_by(Suppression.id)
        )
        return [
            SuppressionEntry(r.kind, r.channel, r.reason, r.source, r.created_by, r.created_at)
            for r in rows
        ]


def count(ctx: Context) -> int:
    ctx.require(Action.MANAGE_SUPPRESSION)
    from sqlalchemy import func

    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(Suppression)) or 0


# ------------------------------------------- many at once (pasted, or a file)


def split_addresses(text: str) -> list[str]:
    """Addresses typed or pasted: one a line, or separated by commas, semicolons or tabs.

    Spaces do not separate: "01632 960123" is one phone number.
    """
    return [part.strip() for part in re.split(r"[\r\n,;\t]+", text or "") if part.strip()]


def read_address_file(
    path: str | Path, *, should_cancel: Callable[[], bool] | None = None
) -> list[str]:
    """The email addresses and phone numbers in a text or CSV file, in order.

    Read by :func:`crm_desktop.formats.address_files.read_addresses`, whose
    rules (columns, encodings, size) and messages (:class:`CrmError`) it
    keeps; blank cells are left out.
    """
    out: list[str] = []
    for n, address in enumerate(read_addresses(path, phones=True)):
        if n % 5_000 == 0 and should_cancel and should_cancel():
            raise Cancelled("Cancelled; nothing was added.")
        if address:
            out.append(address)
    return out


def suppress_many(
    ctx: Context,
    addresses: Iterable[str],
    *,
    reason: str = "manual",
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> BulkResult:
    """Suppress many addresses (pasted or from a file) in one transaction.

    Reports progress and can be cancelled: a cancel (``should_cancel()``
    true, raising :class:`~crm_desktop.errors.Cancelled`) adds nothing.
    An address repeated in the list counts as already on it.
    """
    ctx.require(Action.MANAGE_SUPPRESSION)
    items = [text for text in ((raw or "").strip() for raw in addresses) if text]
    source = clean_text(source, max_len=200)
    added = already = 0
    invalid: list[str] = []
    with ctx.db.transaction() as session:
        for n, text in enumerate(items):
            if n % 200 == 0:
                if should_cancel and should_cancel():
                    raise Cancelled("Cancelled; nothing was added to the suppression list.")
                if progress:
                    progress(n, len(items))
            try:
                canonical_address(text)
            except ValueError:
                invalid.append(text[:100])
                continue
            if add_entry(session, ctx, text, ALL, reason, source):
                added += 1
            else:
                already += 1
        audit.record(session, ctx.user, "suppression.added-many", "suppression", None,
                     {"added": added, "already": already, "invalid": len(invalid)})  # fmt: skip
    if progress:
        progress(len(items), len(items))
    return BulkResult(added, already, invalid)
