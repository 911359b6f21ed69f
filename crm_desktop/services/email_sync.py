"""Sync opt-outs back from the email tool (unsubscribe and bounce files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ..domain.eligibility import ALL
from ..domain.enums import Channel, OptOutSource
from ..domain.models import ChannelPermission, Prospect
from ..domain.roles import Action
from ..domain.suppression import canonical_address
from ..domain.validation import normalise_email
from ..errors import Cancelled
from ..formats.unsubscribes import read_addresses
from . import audit, suppression
from .context import Context
from .marketing import apply_opt_out
from .views import _Jsonable

MAX_EXAMPLES = 20


@dataclass
class SyncReport(_Jsonable):
    file: str
    rows: int = 0
    matched: int = 0  # prospects opted out of email now
    already_opted_out: int = 0  # prospects who were opted out already
    new: int = 0  # unknown addresses put on the suppression list
    already_suppressed: int = 0  # unknown addresses that were on it already
    duplicates: int = 0  # the same address again in the file
    invalid: int = 0
    invalid_examples: list[str] = field(default_factory=list)


def import_unsubscribes(
    ctx: Context,
    path: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> SyncReport:
    """Opt out matching prospects (source "email tool"); suppress unknown addresses.

    All in one transaction: a malformed file, a cancel or an error applies nothing.
    """
    ctx.require(Action.SYNC_EMAIL_TOOL)
    path = Path(path)
    report = SyncReport(file=path.name)
    total = path.stat().st_size if path.exists() else 0
    reason = f"Unsubscribed or bounced in the email tool ({path.name})"
    seen: set[str] = set()
    with ctx.db.transaction() as session:
        for raw in read_addresses(path):
            report.rows += 1
            if report.rows % 500 == 0:
                if should_cancel and should_cancel():
                    raise Cancelled("Import cancelled; nothing was changed.")
                if progress:
                    progress(min(total, report.rows * 40), total)
            try:
                email = normalise_email(raw)
                if not email:
                    raise ValueError("blank")
                key = canonical_address(email)
            except ValueError:
                report.invalid += 1
                if len(report.invalid_examples) < MAX_EXAMPLES:
                    report.invalid_examples.append(raw[:100])
                continue
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            p = session.scalars(select(Prospect).where(Prospect.email_key == key)).first()
            if p is None:
                if suppression.channels_suppressed(session, email) & {ALL, Channel.EMAIL.value}:
                    report.already_suppressed += 1
                else:
                    suppression.add_entry(
                        session, ctx, email, Channel.EMAIL.value, "email-tool", reason
                    )
                    report.new += 1
                continue
            perm = session.get(ChannelPermission, (p.id, Channel.EMAIL.value))
            if perm is not None and perm.opted_out_at is not None:
                report.already_opted_out += 1
                continue
            apply_opt_out(session, ctx, p, [Channel.EMAIL], OptOutSource.EMAIL_TOOL, reason)
            report.matched += 1
        audit.record(session, ctx.user, "unsubscribes.imported", "email-tool", None, {
            "file": report.file, "matched": report.matched,
            "already_opted_out": report.already_opted_out, "new": report.new,
            "invalid": report.invalid,
        })  # fmt: skip
    if progress:
        progress(total, total)
    return report
