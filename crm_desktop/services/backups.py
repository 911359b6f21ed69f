"""Backup and restore as user actions (permission-checked, audited).

Every copy, asked for (File › Back up, ``crm backup``) or automatic (the
daily and weekly ones), is made in the order that keeps its record and its
file in agreement whenever the process stops, even by ``kill -9``:

1. a ``backup_run`` row is committed in state "writing", naming the hidden
   temporary file it is about to create (and this computer);
2. the copy is made into that file (created now, locked while in use),
   checked and fsynced; a SQLite copy holds its own row as complete;
3. its SHA-256 is committed;
4. the file is renamed into place;
5. the row becomes "complete" with the audit entry ``database.backed-up``.

The next start (:func:`finish_interrupted_backups`) gives a copy that was
put in place the entry it missed ("recorded on the next start"), and marks
any other unfinished one interrupted, deleting its temporary file.
"""

from __future__ import annotations

import contextlib
import glob
import os
import socket
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlmodel import Session

from ..domain.models import BackupRun
from ..domain.roles import Action
from ..domain.types import utcnow
from ..errors import Cancelled, ConflictError, CrmError, DatabaseError
from ..formats.atomic import (
    create_part,
    is_part_of,
    part_in_use,
    part_path_for,
    publish,
    sha256_of,
)
from ..persistence import audit_head, sqlite_copy
from ..persistence import backup as _backup
from ..persistence.folders import make_private_folder
from . import audit, recovery
from .context import Context

WRITING, COMPLETE, INTERRUPTED = "writing", "complete", "interrupted"
# SQLite's own files beside a copy being made (they hold its data too).
COMPANIONS = ("-journal", "-wal", "-shm")
# Makes the copy into the temporary file; given a hook that may change a SQLite copy.
# Makes the copy; returns the copy's audit head (SQLite), or None.
Copier = Callable[[Path, Callable | None], object]


def back_up(ctx: Context, out: str | Path | None = None, progress=None, should_cancel=None) -> Path:
    """A consistent, verified copy of the database (pg_dump for PostgreSQL).

    ``should_cancel()`` true stops the copy and leaves no file behind.
    """
    ctx.require(Action.BACKUP)
    ctx.db.check_writable()  # the backup could not be recorded: make no file
    _backup.check_can_back_up(ctx.db)

    def step(done: int, total: int) -> None:
        if should_cancel and should_cancel():
            raise Cancelled("Backup cancelled; no file was written.")
        if progress:
            progress(done, total)

    db = ctx.db
    if db.is_sqlite:

        def copy(part: Path, finish):
            return sqlite_copy.copy_sqlite(db.path, part, step, finish)
    else:

        def copy(part: Path, finish):
            _backup.pg_dump_to(db, part)

    dest = Path(out) if out else _backup.default_destination(db)
    return _recorded_copy(ctx, "manual", dest, copy)


def daily_backup(ctx: Context, today: date | None = None) -> _backup.AutoBackup:
    """The automatic daily/weekly copies of a local database (any role may trigger them).

    Each is recorded like any backup; the oldest beyond 7 daily and 4 weekly
    are deleted.
    """
    if ctx.db.read_only:
        return _backup.AutoBackup([], [])
    made = []
    for kind, dest, source in _backup.daily_plan(ctx.db, today):

        def copy(part: Path, finish, source=source):
            return sqlite_copy.copy_sqlite(source, part, None, finish)

        made.append(_recorded_copy(ctx, kind, dest, copy))
    removed = _backup.prune_copies(ctx.db) if ctx.db.is_sqlite else []
    return _backup.AutoBackup(made, removed)


def _reached(step: str) -> None:
    """A named point in :func:`_recorded_copy` (tests stop a real process at one)."""


def _recorded_copy(ctx: Context, kind: str, dest: Path, copy: Copier) -> Path:
    dest = Path(dest).absolute()
    try:
        make_private_folder(dest.parent)
    except OSError as exc:
        from ..formats.atomic import describe_os_error

        raise DatabaseError(describe_os_error(exc, dest)) from exc
    dest = dest.parent.resolve() / dest.name
    if dest.is_dir():
        raise DatabaseError(f"Cannot write {dest}: it is a folder.")
    part = part_path_for(dest)
    with ctx.db.transaction() as session:
        run = BackupRun(
            started_at=utcnow(),
            started_by=ctx.user,
            kind=kind,
            file_name=str(dest),
            part_file=str(part),
            host=socket.gethostname(),
            state=WRITING,
        )
        session.add(run)
        session.flush()
        run_id = run.id

    def mark_copy_complete(con) -> None:
        # The copy's own row: whoever restores it finds this backup complete.
        con.execute(
            "UPDATE backup_run SET state = ? WHERE id = ? AND file_name = ?",
            (COMPLETE, run_id, str(dest)),
        )

    _reached("recorded")
    published = False
    try:
        fd = create_part(part)
        try:
            head = copy(part, mark_copy_complete)  # the audit trail's head for the copy
            digest = sha256_of(part)
            _reached("copied")
            with ctx.db.transaction() as session:
                if not _set_if_writing(session, run_id, sha256=digest):
                    raise ConflictError(
                        "This backup was marked as interrupted while it was being made "
                        "(by another start of the program). No file was written; back up again."
                    )
            publish(part, dest, replace=True)
            published = True
            _reached("published")
            sqlite_copy.write_backup_head(dest, head)
            try:
                with ctx.db.transaction() as session:
                    _complete(session, run_id, ctx.user)
            except CrmError as exc:
                raise DatabaseError(
                    f"The backup was written to {dest}, but it could not be recorded ({exc}). "
                    "It will be recorded the next time the database is opened."
                ) from exc
        finally:
            os.close(fd)
    except BaseException:
        if not published:
            _remove_part(part)
            # If this fails the row stays "writing": the next start marks it.
            with contextlib.suppress(CrmError), ctx.db.transaction() as session:
                session.execute(
                    delete(BackupRun).where(BackupRun.id == run_id, BackupRun.state == WRITING)
                )
        raise
    return dest


def _part_files(part: Path) -> list[Path]:
    """The temporary file and any SQLite journal/WAL files a copy into it left, that exist."""
    paths = [part, *(part.with_name(part.name + suffix) for suffix in COMPANIONS)]
    return [p for p in paths if os.path.lexists(p)]


def _remove_part(part: Path) -> bool:
    """Delete the temporary file and its companions; True if there was any."""
    found = _part_files(part)
    for path in found:
        path.unlink(missing_ok=True)
    return bool(found)


def _remove_stale_head_parts(dest: Path) -> None:
    """Temporary files of the backup's audit head file that a kill left (named as ours)."""
    head = audit_head.sidecar_path(dest)
    for path in dest.parent.glob(f".{glob.escape(head.name)}.*.part"):
        if is_part_of(path, head) and not part_in_use(path):
            path.unlink(missing_ok=True)


def _set_if_writing(session: Session, run_id: int, **values) -> bool:
    """Update the row only while it is still "writing" (a run and a later start never both decide)."""
    result = session.execute(
        update(BackupRun)
        .where(BackupRun.id == run_id, BackupRun.state == WRITING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _complete(session: Session, run_id: int, actor: str, *, on_next_start: bool = False) -> bool:
    if not _set_if_writing(session, run_id, state=COMPLETE, finished_at=utcnow()):
        return False
    run = session.get(BackupRun, run_id, populate_existing=True)
    details = {"file": run.file_name, "sha256": run.sha256}
    if run.kind != "manual":
        details["automatic"] = run.kind
    if on_next_start:
        details["recorded_on_next_start_by"] = actor
        actor = run.started_by
    audit.record(session, actor, "database.backed-up", "database", None, details)
    return True


@recovery.register("backups")
def finish_interrupted_backups(ctx: Context) -> list[str]:
    """Settle backups a killed run left "writing" (see the module's docstring).

    On this computer only, and never one whose temporary file a running
    backup still holds. Nothing to do costs one indexed query, no write lock.
    """
    try:
        with ctx.db.read() as session:
            runs = session.execute(
                select(
                    BackupRun.id,
                    BackupRun.file_name,
                    BackupRun.part_file,
                    BackupRun.sha256,
                    BackupRun.host,
                )
                .where(BackupRun.state == WRITING)
                .order_by(BackupRun.id)
            ).all()
    except CrmError:
        return []
    here = socket.gethostname()
    done = []
    for run in runs:
        if run.host != here or part_in_use(run.part_file):
            continue
        sentence = _settle(ctx, run)
        if sentence:
            done.append(sentence)
    return done


def _settle(ctx: Context, run) -> str | None:
    dest = Path(run.file_name)
    part = Path(run.part_file) if is_part_of(run.part_file, dest) else None
    try:
        in_place = bool(run.sha256) and dest.is_file() and sha256_of(dest) == run.sha256
        had_part = part is not None and bool(_part_files(part))
        if not in_place and had_part:
            _remove_part(part)  # first: a kill now leaves the row "writing", settled next time
        with ctx.db.transaction() as session:
            if in_place:
                changed = _complete(session, run.id, ctx.user, on_next_start=True)
            else:
                changed = _set_if_writing(
                    session, run.id, state=INTERRUPTED, sha256="", finished_at=utcnow()
                )
        if in_place and part is not None:
            _remove_part(part)
        _remove_stale_head_parts(dest)
    except (CrmError, OSError):
        return None  # busy, read-only, unreadable: the next start tries again
    if not changed:
        return None
    if in_place:
        return (
            f"A backup stopped just after its file was put in place ({dest}) is now "
            "recorded in the audit trail."
        )
    deleted = "; its unfinished temporary file was deleted" if had_part else ""
    return f"A backup to {dest} was stopped before it was finished: no file was made{deleted}."


def restore(ctx: Context, source: str | Path) -> Path:
    """Replace this (local) database with a checked backup; returns the safety copy.

    Disposes ``ctx.db``: open the database again afterwards.
    """
    ctx.require(Action.BACKUP)
    if not ctx.db.is_sqlite or ctx.db.path is None:
        raise DatabaseError(
            "Restore works on a local database file. For PostgreSQL use pg_restore "
            "on the server (see README: team database)."
        )
    source = Path(source)
    _backup.check_backup(source)
    target = ctx.db.path
    ctx.db.dispose()
    return _backup.restore_sqlite(target, source)
