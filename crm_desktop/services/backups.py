"""Backup and restore as user actions (permission-checked, audited)."""

from __future__ import annotations

from pathlib import Path

from ..domain.roles import Action
from ..errors import Cancelled, DatabaseError
from ..persistence import backup as _backup
from . import audit
from .context import Context


def back_up(ctx: Context, out: str | Path | None = None, progress=None, should_cancel=None) -> Path:
    """A consistent, verified copy of the database (pg_dump for PostgreSQL).

    ``should_cancel()`` true stops the copy and leaves no file behind.
    """
    ctx.require(Action.BACKUP)
    ctx.db.check_writable()  # the backup could not be recorded: make no file

    def step(done: int, total: int) -> None:
        if should_cancel and should_cancel():
            raise Cancelled("Backup cancelled; no file was written.")
        if progress:
            progress(done, total)

    path = _backup.backup_database(ctx.db, Path(out) if out else None, step)
    with ctx.db.transaction() as session:
        audit.record(session, ctx.user, "database.backed-up", "database", None,
                     {"file": str(path)})  # fmt: skip
    return path


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


def daily_backup(ctx: Context):
    """The automatic daily/weekly copies of a local database (any role may trigger them)."""
    return _backup.auto_backup(ctx.db)
