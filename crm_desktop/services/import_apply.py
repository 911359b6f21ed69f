"""Importing contacts, phase 3: applying the plans in one short write transaction.

Set-based statements (many rows each, never an ORM object per row), audited
in the same transaction; the rejects file is put in place inside it, so it
exists only when the batch commits.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from ..domain.eligibility import ALL, channel_address_kinds
from ..domain.enums import Channel, DataSource, LawfulBasis, OptOutSource, Stage
from ..domain.models import (
    MAX_TEXT,
    ChannelPermission,
    ConsentEvent,
    ContactPoint,
    Correspondence,
    ImportBatch,
    ImportMember,
    Interest,
    Prospect,
    ProspectInterest,
    School,
    Suppression,
)
from ..domain.suppression import canonical_address, digest
from ..domain.types import utcnow
from ..formats.atomic import atomic_output, publish_new
from ..formats.contact_files import SourceTable
from ..persistence import bulk, search
from . import audit, suppression
from .context import Context
from .import_planning import NOT_IMPORTED, Plan, Snapshot, chunks, recheck
from .import_reading import LAYOUT_FORMATS, CleanOptions, RejectedRow, remember_mapping

#: The consent method recorded for consent that came with an imported list.
CONSENT_METHOD = "import"
REASON_HEADER = "Reason"
_SUPPRESSED_REASON = "The address was already on the suppression list when it was imported"
# What a new prospect's staged row holds beside its columns (see _NewRows.stage_on).
_STAGE_EXTRA = ("crm_school", "crm_outcome", "crm_row")


def _default_rejects_path(path: Path) -> Path:
    stem = path.stem or "import"
    candidate = path.with_name(f"{stem} rejects.csv")
    n = 2
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{stem} rejects {n}.csv")
        n += 1
    return candidate


def _write_rejects(target: Path, headers: Sequence[str], rejected: list[RejectedRow]) -> None:
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


def _names(session: Session, model, names: set[str]) -> dict[str, list[int]]:
    """name_key -> ids of the schools (or interests) with that name (any case)."""
    keys = sorted({n.lower() for n in names})
    out: dict[str, list[int]] = {}
    for chunk in chunks(keys):
        for pid, key in session.execute(
            select(model.id, model.name_key).where(model.name_key.in_(chunk)).order_by(model.id)
        ):
            out.setdefault(key, []).append(pid)
    return out


class ImportJob:
    """The write transaction of one import."""

    def __init__(
        self,
        ctx: Context,
        table: SourceTable,
        opts: CleanOptions,
        layout: str | None,
        total_rows: int,
        remember: dict[int, str] | None,
        check_cancel: Callable[[], None],
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        self.ctx, self.table, self.opts, self.layout = ctx, table, opts, layout
        self.total_rows, self.remember = total_rows, remember
        self.check_cancel, self.progress = check_cancel, progress
        self.rejected: list[RejectedRow] = []
        self.rejects_target: Path | None = None
        self.published: Path | None = None
        self.staged: list = []  # what is freed after the batch (see _release)
        # The connection the rows are staged on and the transaction runs on
        # (Database.held_connection), and the new prospects' rows (dropped after).
        self.conn = None
        self.made: _NewRows | None = None

    def _entries(self, plans: list[Plan], batch_id: int) -> list[audit.PreparedEntry | None]:
        """The audit entry of each plan that creates or changes a prospect (None for the rest),
        hashed and stored as text: the slow part of auditing, done outside the lock."""
        wanted = [
            (i, p) for i, p in enumerate(plans)
            if p.outcome not in NOT_IMPORTED and p.outcome != "unchanged"
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

    def apply(self, plans: list[Plan], snap: Snapshot, next_batch: int) -> tuple[int, list[Plan]]:
        ctx, opts, table = self.ctx, self.opts, self.table
        total = self.total_rows
        # Everything that can be made before the write transaction is: the
        # transaction itself only inserts and updates, in a few statements.
        entries = self._entries(plans, next_batch)
        self.staged.append(entries)
        # The time of the batch's changes: taken as it is applied.
        now = utcnow()
        made = self.made = _NewRows(plans, opts, now, ctx.db.engine.dialect, self.staged)
        made.stage_on(self.conn)
        self.check_cancel()
        with ctx.db.transaction(connection=self.conn) as session:
            self.check_cancel()
            rechecked = recheck(session, plans, snap, opts, ctx.user)
            again = [i for i, (a, b) in enumerate(zip(plans, rechecked, strict=True)) if a is not b]
            plans = rechecked
            if again:  # planned again: their entries are made again (a few)
                fresh = self._entries([plans[i] for i in again], next_batch)
                for i, entry in zip(again, fresh, strict=True):
                    entries[i] = entry
            live = [p for p in plans if p.outcome not in NOT_IMPORTED]
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
                format=self.layout if self.layout in LAYOUT_FORMATS else table.format,
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

            def school_id(p: Plan) -> int | None:
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
            if made.first is not None:
                # The new prospects' member rows from the stage too.
                made.stage.insert_into(
                    session, ImportMember.__table__, (),
                    {"import_id": "?", "prospect_id": "? + s.seq - 1", "outcome": "s.crm_outcome",
                     "row_number": "s.crm_row"},
                    (batch_id, made.first),
                )  # fmt: skip
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
                if p.outcome != "unchanged" and (made.first is None or p.existing is not None)
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
                RejectedRow(r.number, r.cells, p.reason or "Not imported", p.outcome)
                for p in plans
                if p.outcome in NOT_IMPORTED
                for r in p.group.rows
            ]
            counts = _counts(plans, self.total_rows, len(self.rejected))
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
                remember_mapping(session, table.headers, self.remember)
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


def _prospect_row(p: Plan, opts: CleanOptions, now: datetime, today: date) -> dict:
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

    def __init__(self, plans: list[Plan], opts: CleanOptions, now: datetime, dialect, staged: list):
        self.opts, self.now, self.today, self.dialect = opts, now, date.today(), dialect
        self.sqlite = dialect.name == "sqlite"
        new = [p for p in plans if p.outcome not in NOT_IMPORTED and p.existing is None]
        rows = [_prospect_row(p, opts, now, self.today) for p in new]
        made = self._converted(rows)
        # The SQLite rows' columns: the row's, then the two given inside the transaction.
        self.names: list[str] = [*rows[0], "school_id", "id"] if rows else []
        # By the plan's identity: the plans stay alive (staged) until the end.
        self.by_plan: dict[int, tuple | dict] = {id(p): r for p, r in zip(new, made, strict=True)}
        staged += [rows, made, self.by_plan]
        self.new, self.made = new, made
        self.stage: bulk.Stage | None = None
        self.first: int | None = None  # the first new id, once inserted from the stage

    def stage_on(self, conn) -> None:
        """Put the rows in a stage on ``conn`` (before the write transaction), with what
        the transaction adds to them: the school by its name, the member row's outcome
        and row number (see bulk.Stage; where it is not active the rows go as they are)."""
        if not self.sqlite or not self.new:
            return
        extra = [
            (
                p.values["school"].lower() if p.values.get("school") else None,
                "opted-out" if p.outcome == "opted-out" else "created",
                p.group.rows[0].number,
            )
            for p in self.new
        ]
        rows = [(*row, *more) for row, more in zip(self.made, extra, strict=True)]
        self.stage = bulk.Stage(conn, [*self.names[:-2], *_STAGE_EXTRA], rows)

    def staged_for(self, new: list[Plan]) -> bool:
        """Whether ``new`` are the plans staged, in order (nothing planned again)."""
        return (
            self.stage is not None
            and self.stage.active
            and len(new) == len(self.new)
            and all(a is b for a, b in zip(new, self.new, strict=True))
        )

    def drop(self) -> None:
        if self.stage is not None:
            with contextlib.suppress(Exception):  # a connection that failed: it goes anyway
                self.stage.drop()

    def _converted(self, rows: list[dict]) -> list:
        return bulk.converted(self.dialect, Prospect.__table__, rows) if self.sqlite else rows

    def row(self, p: Plan) -> tuple | dict:
        found = self.by_plan.get(id(p))
        if found is None:
            row = _prospect_row(p, self.opts, self.now, self.today)
            self.names = self.names or [*row, "school_id", "id"]
            found = self._converted([row])[0]
        return found


def _insert_new(
    session: Session, new: list[Plan], school_id, made: _NewRows, check_cancel, staged: list
) -> None:
    """The new prospects, in a few statements; their ids in the order given."""
    table = Prospect.__table__
    if made.staged_for(new):
        # One INSERT ... SELECT from the stage: the write transaction holds the
        # only write lock, so the ids after the largest are free (see
        # _insert_with_ids); the school is the oldest of its name, as school_id gives.
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        for n, p in enumerate(new):
            p.prospect_id = first + n
        made.stage.insert_into(
            session, table, made.names[:-2],
            {"school_id": "(SELECT min(sc.id) FROM school AS sc WHERE sc.name_key = s.crm_school)",
             "id": "? + s.seq - 1"},
            (first,),
        )  # fmt: skip
        made.first = first
        check_cancel()
        return
    rows = [made.row(p) for p in new]
    staged.append(rows)  # freed after the batch, not while it holds the write lock
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


def _update_existing(
    session: Session, plans: list[Plan], school_id, opts: CleanOptions, now
) -> None:
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
    for chunk in chunks(noted):
        session.execute(update(table).where(table.c.id.in_(chunk)).values(last_contact_at=now))


def _counts(plans: list[Plan], total: int, rejected: int) -> dict:
    counts = {"rows": total, "created": 0, "updated": 0, "unchanged": 0, "opted_out": 0,
              "merged": 0, "skipped": 0, "rejected": rejected}  # fmt: skip
    for p in plans:
        if p.outcome in NOT_IMPORTED:
            counts["skipped" if p.outcome == "skip" else "rejected"] += len(p.group.rows)
            continue
        counts["merged"] += len(p.group.rows) - 1
        counts[p.outcome.replace("-", "_")] += 1
    return counts


def _audit_values(p: Plan, opts: CleanOptions) -> dict:
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
    plans: list[Plan],
    interest_ids: dict[str, int],
    opts: CleanOptions,
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
        {"reason": _SUPPRESSED_REASON, "source": OptOutSource.IMPORT.value, "import_id": batch_id},
        ensure_ascii=False, sort_keys=True,
    )  # fmt: skip
    for p in plans:
        perms = p.perms
        pid = p.prospect_id
        for channel in p.opt_out:
            row = {"opted_out_at": now, "opt_out_source": OptOutSource.IMPORT.value,
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


def _suppress_opted_out(session: Session, ctx: Context, plans: list[Plan], now: datetime) -> None:
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
    for chunk in chunks(digests):
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
