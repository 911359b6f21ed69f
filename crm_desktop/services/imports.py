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

The phases live in sibling modules: :mod:`.import_reading` (file to
validated rows), :mod:`.import_planning` (what each person does) and
:mod:`.import_apply` (the write transaction); this module runs them and is
the public face (``ImportOptions``, ``run_import``, ``inspect_file``...).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ..domain import contact_mapping as cm
from ..domain.enums import Channel, LawfulBasis
from ..domain.models import MAX_NOTE, MAX_TEXT, ImportBatch, LIAssessment
from ..domain.roles import Action
from ..domain.validation import ValidationError, clean_text
from ..errors import Cancelled
from ..formats.contact_files import SourceRow, SourceTable
from . import duplicates
from .context import Context
from .gc_pause import gc_paused
from .import_apply import CONSENT_METHOD, REASON_HEADER, ImportJob
from .import_planning import NOT_IMPORTED, RowGroup, plan_group, snapshot
from .import_reading import (
    FORMATS,
    MAPPING_SETTING_PREFIX,
    MAX_WARNINGS,
    ON_DUPLICATE,
    ON_SUPPRESSED,
    POLL_ROWS,
    CleanOptions,
    RejectedRow,
    StagedRow,
    choose_mapping,
    mapping_problem,
    open_table,
    stage_row,
)
from .results import Jsonable

__all__ = [
    "CONSENT_METHOD",
    "FORMATS",
    "MAPPING_SETTING_PREFIX",
    "MAX_WARNINGS",
    "ON_DUPLICATE",
    "ON_SUPPRESSED",
    "REASON_HEADER",
    "ImportCancelled",
    "ImportOptions",
    "ImportPreview",
    "ImportReport",
    "PreviewRow",
    "inspect_file",
    "mapping_problem",
    "run_import",
]


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


def _check_options(ctx: Context, options: ImportOptions) -> CleanOptions:
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
    return CleanOptions(
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


# ------------------------------------------------------------------ reading


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
    table = open_table(Path(path), fmt, sheet)
    with ctx.db.read() as session:
        layout, chosen, source = choose_mapping(session, table, fmt, mapping)
    problem = mapping_problem(table.headers, chosen)
    staged: list[tuple[SourceRow, StagedRow | RejectedRow, cm.ContactCandidate | None]] = []
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
            staged.append((row, RejectedRow(row.number, row.cells, problem), cand))
            continue
        result, cand = stage_row(row, chosen, warnings, counter)
        staged.append((row, result, cand))
    opts = CleanOptions(
        "preview", LawfulBasis.NONE, None, None, (), None, None, "fill", "opt-out", fmt
    )
    keys = {r.key for _, r, _ in staged if isinstance(r, StagedRow) and r.key}
    with ctx.db.read() as session:
        snap = snapshot(session, keys)
    seen: dict[str, int] = {}
    rows: list[PreviewRow] = []
    for _row, result, cand in staged:
        if isinstance(result, RejectedRow):
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
        plan = plan_group(RowGroup([result]), snap, opts, ctx.user)
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

    table = open_table(path, opts.fmt, options.sheet)
    with ctx.db.read() as session:
        layout, mapping, mapping_source = choose_mapping(session, table, opts.fmt, options.mapping)
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
    rejected: list[RejectedRow] = []
    groups: list[RowGroup] = []
    by_key: dict[str, RowGroup] = {}
    counter = [0]
    phone_cache: dict = {}
    staged += [phone_cache, rejected, by_key, groups]
    for n, row in enumerate(table.rows(), 1):
        if n % POLL_ROWS == 0:
            check_cancel()
            if progress:
                progress(n, None)
        report.total_rows += 1
        result, _ = stage_row(row, mapping, report.warnings, counter, phone_cache)
        if isinstance(result, RejectedRow):
            rejected.append(result)
        elif result.key and result.key in by_key:
            by_key[result.key].rows.append(result)
        else:
            group = RowGroup([result])
            groups.append(group)
            if result.key:
                by_key[result.key] = group
    report.dropped = counter[0]
    check_cancel()

    # 2. What the database holds for them: one read-only pass, no write lock.
    with ctx.db.read() as session:
        snap = snapshot(session, by_key)
        # The batch's id as things stand: the audit entries name it in their
        # reason, and are made now, outside the write transaction.
        next_batch = (session.scalar(select(func.max(ImportBatch.id))) or 0) + 1
    staged += [snap.by_key, snap.suppressed]
    plans = [plan_group(g, snap, opts, ctx.user) for g in groups]
    staged.append(plans)
    check_cancel()

    # 3. One short write transaction (the rejects file is put in place inside it).
    remember = mapping if mapping_source == "given" and layout is None else None
    job = ImportJob(ctx, table, opts, layout, report.total_rows, remember, check_cancel, progress)
    job.rejected, job.rejects_target, job.staged = rejected, rejects_target, staged
    try:
        # One connection for the rows staged before the write transaction and for it.
        with ctx.db.held_connection() as conn:
            job.conn = conn
            try:
                batch_id, plans = job.apply(plans, snap, next_batch)
            finally:
                if job.made is not None:
                    job.made.drop()
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
        if plan.outcome in NOT_IMPORTED:
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


def _duplicates_among(ctx: Context, ids: list[int]) -> int:
    """How many probable duplicate pairs involve the prospects of this batch."""
    if not ids:
        return 0
    return len(duplicates.probable_duplicates(ctx, among=ids))
