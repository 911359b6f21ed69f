"""Sync opt-outs back from the email tool (unsubscribe and bounce files).

A file can hold 100,000 addresses, and while it is applied other people must
still be able to opt someone out, log a call or read. So the work is done in
bulk, in short transactions: the file is read and checked first (a malformed
file changes nothing), then applied :data:`BATCH_SIZE` addresses at a time,
each batch in one transaction of a few set-based statements that leaves the
database consistent (opt-out state, ledger event, suppression entry and
audit entry together). Between batches another program's write gets its
turn. A cancel stops after the batch in progress and says how much was
applied; running the same file again is harmless and applies the rest
(what was applied counts as already opted out or suppressed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from ..domain.eligibility import ALL
from ..domain.enums import Channel, OptOutSource
from ..domain.models import ChannelPermission, ConsentEvent, ContactPoint, Prospect, Suppression
from ..domain.roles import Action
from ..domain.suppression import address_kind, canonical_address, digest
from ..domain.types import utcnow
from ..domain.validation import normalise_email
from ..errors import Cancelled, CrmError
from ..formats.address_files import read_addresses
from . import audit, suppression
from .context import Context
from .marketing import apply_opt_out
from .results import Jsonable

MAX_EXAMPLES = 20
#: Addresses applied per transaction: each takes a fraction of a second.
BATCH_SIZE = 5_000
#: A pause between batches on SQLite, which has no queue for writers: another
#: program waiting for the write lock (an opt-out) polls every 100 ms at most.
BATCH_PAUSE_SECONDS = 0.12
_IN_CHUNK = 500  # values per IN (...) list, well inside every SQLite's limit
EMAIL = Channel.EMAIL.value


@dataclass
class SyncReport(Jsonable):
    file: str
    rows: int = 0
    matched: int = 0  # prospects opted out of email now
    already_opted_out: int = 0  # prospects who were opted out already
    new: int = 0  # unknown addresses put on the suppression list
    already_suppressed: int = 0  # unknown addresses that were on it already
    duplicates: int = 0  # the same address again in the file
    invalid: int = 0
    invalid_examples: list[str] = field(default_factory=list)
    # Stopped by a cancel: the first ``applied`` of the file's ``rows`` were
    # applied, and the counts above are theirs.
    cancelled: bool = False
    applied: int = 0

    @property
    def remaining(self) -> int:
        return self.rows - self.applied


def _checked(path: Path, report: SyncReport) -> Iterator[tuple[str, str]]:
    """(email, canonical key) of each new valid address; counts the rest in ``report``."""
    seen: set[str] = set()
    for raw in read_addresses(path):
        report.rows += 1
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
        yield email, key


def import_unsubscribes(
    ctx: Context,
    path: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
) -> SyncReport:
    """Opt out matching prospects (source "email tool"); suppress unknown addresses.

    The whole file is read and checked before anything is applied: a
    malformed file changes nothing. Then it is applied in batches (see the
    module's docstring); progress counts the file's rows. A cancel returns
    the report with ``cancelled`` set and ``applied`` rows applied.
    """
    ctx.require(Action.SYNC_EMAIL_TOOL)
    path = Path(path)
    report = SyncReport(file=path.name)
    try:
        return _import(ctx, path, report, progress, should_cancel, batch_size)
    except Cancelled:
        raise
    except CrmError as exc:
        # Say what stays applied: nothing, or the batches before the failure.
        if report.applied:
            tail = (
                f"The first {report.applied:,} rows of the file were applied before this; "
                "import the same file again to apply the rest."
            )
        else:
            tail = "Nothing was changed."
        exc.args = (f"{exc} {tail}", *exc.args[1:])
        raise


def _import(
    ctx: Context,
    path: Path,
    report: SyncReport,
    progress: Callable[[int, int], None] | None,
    should_cancel: Callable[[], bool] | None,
    batch_size: int,
) -> SyncReport:
    # The whole file is read once first: an error in it (binary, no email
    # column, a broken CSV line) is found before anything is applied.
    total = 0
    for _ in read_addresses(path):
        total += 1
        if should_cancel and total % 500 == 0 and should_cancel():
            raise Cancelled("Import cancelled while the file was read; nothing was changed.")
    reason = f"Unsubscribed or bounced in the email tool ({path.name})"
    batch: list[tuple[str, str]] = []
    number = 0
    done_rows = 0

    def apply(rows_so_far: int) -> None:
        nonlocal number, batch
        number += 1
        if number > 1 and ctx.db.is_sqlite:
            time.sleep(BATCH_PAUSE_SECONDS)
        _apply_batch(ctx, batch, reason, report, number, rows_so_far)
        report.applied = rows_so_far
        batch = []
        if progress:
            progress(rows_so_far, total)

    for item in _checked(path, report):
        batch.append(item)
        if len(batch) >= batch_size:
            done_rows = report.rows
            apply(done_rows)
            if should_cancel and should_cancel():
                report.cancelled = True
                report.rows = total  # the counts below cover the rows applied
                return report
    if batch or not number:
        apply(report.rows)
    report.applied = report.rows
    return report


def _chunks(values: list, size: int = _IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _apply_batch(
    ctx: Context,
    batch: list[tuple[str, str]],
    reason: str,
    report: SyncReport,
    number: int,
    rows_so_far: int,
) -> None:
    """One transaction: opt out the matched, suppress the unknown, one audit entry."""
    source = OptOutSource.EMAIL_TOOL.value
    counts = {"matched": 0, "already_opted_out": 0, "new": 0, "already_suppressed": 0}
    opted_ids: list[int] = []
    with ctx.db.transaction() as session:
        key = suppression.hmac_key(session)
        keys = [k for _, k in batch]
        # The people each address belongs to: as their email, else as one of
        # their other email addresses (an import keeps those), which opts them
        # out as their own address would.
        holders: dict[str, list[int]] = {}
        emails: dict[int, str | None] = {}  # their primary email
        for chunk in _chunks(keys):
            rows = session.execute(
                select(Prospect.id, Prospect.email_key, Prospect.email).where(
                    Prospect.email_key.in_(chunk)
                )
            )
            for pid, k, email in rows:
                holders.setdefault(k, []).append(pid)
                emails[pid] = email
        for chunk in _chunks([k for k in keys if k not in holders]):
            rows = session.execute(
                select(ContactPoint.prospect_id, ContactPoint.value_key, Prospect.email)
                .join(Prospect, Prospect.id == ContactPoint.prospect_id)
                .where(ContactPoint.kind == "email", ContactPoint.value_key.in_(chunk))
                .order_by(ContactPoint.prospect_id)
            )
            for pid, k, email in rows:
                if pid not in holders.get(k, ()):
                    holders.setdefault(k, []).append(pid)
                emails[pid] = email
        ids = list(emails)
        opted: dict[int, set[str]] = {pid: set() for pid in ids}
        has_email_row: set[int] = set()
        for chunk in _chunks(ids):
            rows = session.execute(
                select(
                    ChannelPermission.prospect_id,
                    ChannelPermission.channel,
                    ChannelPermission.opted_out_at,
                ).where(ChannelPermission.prospect_id.in_(chunk))
            )
            for pid, channel, at in rows:
                if channel == EMAIL:
                    has_email_row.add(pid)
                if at is not None:
                    opted[pid].add(channel)
        every = {c.value for c in Channel}
        simple: list[tuple[int, str]] = []  # (id, email): only the email channel changes
        whole: list[int] = []  # opted out of every channel after this: the full rule
        seen: set[int] = set()
        for k in keys:
            fresh_people = [pid for pid in holders.get(k, ()) if pid not in seen]
            seen.update(fresh_people)
            todo = [pid for pid in fresh_people if EMAIL not in opted[pid]]
            if k in holders and not todo:
                # Opted out already (or by an earlier address of theirs in this file).
                counts["already_opted_out"] += 1
            for pid in todo:
                if opted[pid] | {EMAIL} >= every:
                    whole.append(pid)
                else:
                    simple.append((pid, emails[pid]))
        now = utcnow()
        if simple:
            _opt_out_email(session, ctx, simple, has_email_row, source, reason, key, now)
        for pid in whole:
            p = session.get(Prospect, pid)
            apply_opt_out(session, ctx, p, [Channel.EMAIL], OptOutSource.EMAIL_TOOL, reason)
        opted_ids = sorted([pid for pid, _ in simple] + whole)
        counts["matched"] = len(opted_ids)

        unknown = [(email, k) for email, k in batch if k not in holders]
        digests = {digest(key, k): k for _, k in unknown}
        suppressed: set[str] = set()
        for chunk in _chunks(list(digests)):
            suppressed.update(
                session.scalars(
                    select(Suppression.digest).where(
                        Suppression.digest.in_(chunk), Suppression.channel.in_([ALL, EMAIL])
                    )
                )
            )
        fresh = [d for d in digests if d not in suppressed]
        counts["already_suppressed"] = len(digests) - len(fresh)
        counts["new"] = len(fresh)
        if fresh:
            session.execute(
                insert(Suppression.__table__),
                [
                    {
                        "kind": address_kind(digests[d]),
                        "digest": d,
                        "channel": EMAIL,
                        "reason": "email-tool",
                        "source": reason,
                        "created_by": ctx.user,
                        "created_at": now,
                    }  # fmt: skip
                    for d in fresh
                ],
            )
        # One entry per batch: who was opted out (by id, never an address);
        # each person's own history shows it from the consent ledger.
        audit.record(session, ctx.user, "unsubscribes.imported", "email-tool", None, {
            "file": report.file, "batch": number, "rows": rows_so_far, "reason": reason,
            **counts, "invalid": report.invalid, "duplicates": report.duplicates,
            "prospects": opted_ids,
        })  # fmt: skip
    for name, value in counts.items():
        setattr(report, name, getattr(report, name) + value)


def _opt_out_email(session, ctx: Context, people, has_email_row, source, reason, key, now) -> None:
    """The email opt-out of people whose other channels stay as they are, set-based.

    The same rows the one-person rule (marketing.apply_opt_out) writes: the
    channel's opt-out state, a ledger event, the email-channel suppression
    entry for each of their email addresses, extra ones included (reason
    "email-tool"), and a new version.
    """
    ids = [pid for pid, _ in people]
    existing = [pid for pid in ids if pid in has_email_row]
    for chunk in _chunks(existing):
        session.execute(
            update(ChannelPermission)
            .where(ChannelPermission.prospect_id.in_(chunk), ChannelPermission.channel == EMAIL)
            .values(opted_out_at=now, opt_out_source=source, opt_out_reason=reason)
            .execution_options(synchronize_session=False)
        )
    missing = [pid for pid in ids if pid not in has_email_row]
    if missing:
        session.execute(
            insert(ChannelPermission.__table__),
            [
                {
                    "prospect_id": pid,
                    "channel": EMAIL,
                    "consent": False,
                    "opted_out_at": now,
                    "opt_out_source": source,
                    "opt_out_reason": reason,
                }  # fmt: skip
                for pid in missing
            ],
        )
    details = json.dumps({"reason": reason, "source": source}, ensure_ascii=False, sort_keys=True)
    session.execute(
        insert(ConsentEvent.__table__),
        [
            {
                "prospect_id": pid,
                "action": "opted-out",
                "channel": EMAIL,
                "details": details,
                "recorded_by": ctx.user,
                "recorded_at": now,
            }  # fmt: skip
            for pid in ids
        ],
    )
    wanted = {digest(key, canonical_address(email)): pid for pid, email in people if email}
    # Their extra email addresses too, as the one-person rule suppresses them
    # (marketing._sync_opt_out_suppression): no way back in through a second address.
    for chunk in _chunks(ids):
        extra = session.execute(
            select(ContactPoint.prospect_id, ContactPoint.value_key).where(
                ContactPoint.prospect_id.in_(chunk), ContactPoint.kind == "email"
            )
        )
        for pid, value_key in extra:
            if value_key:
                wanted.setdefault(digest(key, canonical_address(value_key)), pid)
    there: set[str] = set()
    for chunk in _chunks(list(wanted)):
        there.update(
            session.scalars(
                select(Suppression.digest).where(
                    Suppression.digest.in_(chunk), Suppression.channel == EMAIL
                )
            )
        )
    rows = [
        {
            "kind": "email",
            "digest": d,
            "channel": EMAIL,
            "reason": "email-tool",
            "source": f"prospect #{pid}",
            "created_by": ctx.user,
            "created_at": now,
        }  # fmt: skip
        for d, pid in wanted.items()
        if d not in there
    ]
    if rows:
        session.execute(insert(Suppression.__table__), rows)
    for chunk in _chunks(ids):
        session.execute(
            update(Prospect)
            .where(Prospect.id.in_(chunk))
            .values(updated_at=now, version=Prospect.version + 1)
            .execution_options(synchronize_session=False)
        )
