"""Backups: consistent copies while the app is in use, daily rotation, restore.

SQLite copies use the online backup API (never a plain file copy, which can
catch the database mid-write), go to a temporary name, are fsynced and pass
``integrity_check`` before they are renamed into place. PostgreSQL backups
use ``pg_dump`` when it is installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from ..errors import DatabaseError, NotACrmDatabaseError, SchemaTooNewError
from ..formats.atomic import FileWriteError
from . import audit_head
from .db import Database, head_revision, known_revisions
from .sqlite_copy import (
    Progress,
    backup_sqlite_file,
    head_of,
    ro_uri,
    temp_beside,
)

DAILY_KEEP = 7
WEEKLY_KEEP = 4


def backup_folder(db: Database) -> Path:
    """Where automatic and default backups of a local database go."""
    if db.path is None:
        raise DatabaseError("Only a local database file has a backup folder.")
    return db.path.parent / "backups"


def default_destination(db: Database) -> Path:
    """Where a backup goes when no file is named: a timestamped file.

    In the backup folder beside a local database; in the current folder for
    PostgreSQL (``pg_dump``'s custom format).
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if db.is_sqlite:
        if db.path is None:
            raise DatabaseError("An in-memory database cannot be backed up.")
        return backup_folder(db) / f"{db.path.stem}-{stamp}.db"
    if db.dialect == "postgresql":
        return Path.cwd() / f"crm-{stamp}.dump"
    raise DatabaseError(f"Backups of {db.dialect} databases are not supported.")


def backup_database(
    db: Database, dest: Path | None = None, progress: Progress | None = None
) -> Path:
    """Back up ``db`` to ``dest`` (default: :func:`default_destination`), unrecorded.

    The user's backups go through ``services.backups``, which records them.
    """
    dest = Path(dest) if dest else default_destination(db)
    if db.is_sqlite:
        return backup_sqlite_file(db.path, dest, progress)
    tmp = temp_beside(dest)
    try:
        pg_dump_to(db, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _pg_dump_exe(db: Database) -> str:
    exe = shutil.which("pg_dump")
    if exe is None:
        url = make_url(db.url)
        raise DatabaseError(
            "pg_dump is not installed, so this PostgreSQL database cannot be backed up from "
            "here. Install the PostgreSQL client tools (Debian/Ubuntu: apt install "
            "postgresql-client) and run: pg_dump --format=custom --file=crm.dump "
            f"--host={url.host or 'localhost'} --port={url.port or 5432} "
            f"--username={url.username or ''} {url.database}"
        )
    return exe


def check_can_back_up(db: Database) -> None:
    """Refuse, before anything is recorded or written, a backup that cannot be made."""
    if db.is_sqlite:
        if db.path is None:
            raise DatabaseError("An in-memory database cannot be backed up.")
    elif db.dialect == "postgresql":
        _pg_dump_exe(db)
    else:
        raise DatabaseError(f"Backups of {db.dialect} databases are not supported.")


def pg_dump_to(db: Database, target: Path) -> None:
    """``pg_dump`` the database into the existing file ``target`` (custom format, 0600)."""
    exe = _pg_dump_exe(db)
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = [exe, "--format=custom", f"--file={target}", f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise DatabaseError(f"pg_dump failed: {result.stderr.strip()[:500]}")
    os.chmod(target, 0o600)
    with target.open("rb") as fh:
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class AutoBackup:
    made: list[Path]
    removed: list[Path]


def daily_plan(db: Database, today: date | None = None) -> list[tuple[str, Path, Path]]:
    """The automatic copies still to make today: (kind, file, copied from).

    A daily copy on the first start of a day, a weekly one each ISO week
    (made from the day's copy). Only for local databases.
    """
    if not db.is_sqlite or db.path is None or not db.path.exists():
        return []
    today = today or date.today()
    folder = backup_folder(db)
    day_file = folder / "daily" / f"{db.path.stem}-{today.isoformat()}.db"
    year, week, _ = today.isocalendar()
    week_file = folder / "weekly" / f"{db.path.stem}-{year}-W{week:02d}.db"
    plan = []
    if not day_file.exists():
        plan.append(("daily", day_file, db.path))
    if not week_file.exists():
        plan.append(("weekly", week_file, day_file))
    return plan


def prune_copies(db: Database) -> list[Path]:
    """Keep the newest 7 daily and 4 weekly copies; returns the ones deleted."""
    if db.path is None:
        return []
    folder = backup_folder(db)
    return _prune(folder / "daily", db.path.stem, DAILY_KEEP) + _prune(
        folder / "weekly", db.path.stem, WEEKLY_KEEP
    )


def _prune(folder: Path, stem: str, keep: int) -> list[Path]:
    # Names sort by date (ISO dates and ISO weeks), newest last.
    copies = sorted(folder.glob(f"{stem}-*.db"))
    old = copies[:-keep] if len(copies) > keep else []
    for path in old:
        path.unlink(missing_ok=True)
        audit_head.sidecar_path(path).unlink(missing_ok=True)
    return old


def check_backup(path: Path) -> str:
    """Check a backup file is a sound CRM Desktop database this app can open.

    Returns its schema revision; raises a DatabaseError saying what is wrong.
    """
    if not path.is_file():
        raise DatabaseError(f"{path} is not a file.")
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise NotACrmDatabaseError(f"{path.name} is not a CRM Desktop database.")
    try:
        con = sqlite3.connect(ro_uri(path), uri=True)
        try:
            ok = con.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise DatabaseError(f"{path.name} is damaged: {ok}")
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables or "prospect" not in tables:
                raise NotACrmDatabaseError(f"{path.name} is not a CRM Desktop database.")
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise NotACrmDatabaseError(f"{path.name} is not a CRM Desktop database ({exc}).") from exc
    if revision is None or revision[0] not in known_revisions():
        raise SchemaTooNewError(
            f"{path.name} was written by a newer version of CRM Desktop "
            f"(schema {revision[0] if revision else '?'}); update the app to restore it."
        )
    try:
        problem = audit_head.check_backup_head(path)
    except (audit_head.HeadUnreadable, sqlite3.Error) as exc:
        problem = f"has a head record that cannot be read ({exc})"
    if problem is not None:
        raise DatabaseError(
            f"The audit trail in {path.name} {problem}. It was not restored; use another backup."
        )
    return revision[0]


def restore_sqlite(target: Path, source: Path) -> Path:
    """Replace the database at ``target`` with the backup ``source``.

    The current database is first backed up beside it (``*.before-restore-*``),
    so a restore can itself be undone. Close every connection to ``target``
    first. Returns the safety copy's path.
    """
    check_backup(source)
    safety = target.with_name(
        f"{target.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}.bak"
    )
    if target.exists():
        backup_sqlite_file(target, safety)
    try:
        src = sqlite3.connect(ro_uri(source), uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # page-by-page copy into the live file, under its own lock
            if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise DatabaseError("The restored database failed its integrity check.")
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"Could not restore {target} from {source.name}: {exc}") from exc
    os.chmod(target, 0o600)
    _restore_head(target, source)
    return safety


def _restore_head(target: Path, source: Path) -> None:
    """The restored database's head file is the backup's (it goes back with the trail).

    Without one (a backup made before head files were kept), the old head
    file is removed, so the shorter trail is not reported as truncated;
    ``verify`` then says there is no head record and starts one.
    """
    side = audit_head.sidecar_path(target)
    head = head_of(source)
    try:
        with audit_head.locked(side):
            if head is None:
                side.unlink(missing_ok=True)
            else:
                audit_head.write_sidecar(side, head)
    except (OSError, FileWriteError) as exc:
        raise DatabaseError(
            f"{target} was restored, but its audit head file could not be put back ({exc}). "
            f"Delete {side.name} beside it, then run 'crm audit verify'."
        ) from exc


def is_current_schema(revision: str) -> bool:
    return revision == head_revision()
