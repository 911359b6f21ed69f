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
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url

from ..errors import DatabaseError, NotACrmDatabaseError, SchemaTooNewError
from .db import Database, _known_revisions, head_revision
from .folders import make_private_folder

Progress = Callable[[int, int], None]
DAILY_KEEP = 7
WEEKLY_KEEP = 4


def _ro_uri(path: Path) -> str:
    return f"file:{quote(str(path))}?mode=ro"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_beside(dest: Path) -> Path:
    """An owner-only temporary file in the destination's folder (made if missing)."""
    try:
        make_private_folder(dest.parent)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        from ..formats.atomic import describe_os_error

        raise DatabaseError(describe_os_error(exc, dest)) from exc
    os.close(fd)
    os.chmod(name, 0o600)
    return Path(name)


def backup_sqlite_file(source: Path, dest: Path, progress: Progress | None = None) -> Path:
    """Consistent copy of ``source`` at ``dest`` (0600), verified before it appears."""
    tmp = _temp_beside(dest)
    try:
        src = sqlite3.connect(_ro_uri(source), uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(
                    dst,
                    pages=1024,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total))
                    if progress
                    else None,
                )
                ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        if ok != "ok":
            raise DatabaseError(f"The backup copy of {source} failed its integrity check: {ok}")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except sqlite3.Error as exc:
        raise DatabaseError(f"Could not back up {source}: {exc}") from exc
    except OSError as exc:
        from ..formats.atomic import describe_os_error

        raise DatabaseError(describe_os_error(exc, dest)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def backup_folder(db: Database) -> Path:
    """Where automatic and default backups of a local database go."""
    if db.path is None:
        raise DatabaseError("Only a local database file has a backup folder.")
    return db.path.parent / "backups"


def backup_database(
    db: Database, dest: Path | None = None, progress: Progress | None = None
) -> Path:
    """Back up ``db`` to ``dest`` (default: a timestamped file in the backup folder)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if db.is_sqlite:
        if db.path is None:
            raise DatabaseError("An in-memory database cannot be backed up.")
        dest = dest or backup_folder(db) / f"{db.path.stem}-{stamp}.db"
        return backup_sqlite_file(db.path, Path(dest), progress)
    if db.dialect == "postgresql":
        return _pg_dump(db, Path(dest) if dest else Path.cwd() / f"crm-{stamp}.dump")
    raise DatabaseError(f"Backups of {db.dialect} databases are not supported.")


def _pg_dump(db: Database, dest: Path) -> Path:
    exe = shutil.which("pg_dump")
    url = make_url(db.url)
    if exe is None:
        raise DatabaseError(
            "pg_dump is not installed, so this PostgreSQL database cannot be backed up from "
            "here. Install the PostgreSQL client tools (Debian/Ubuntu: apt install "
            "postgresql-client) and run: pg_dump --format=custom --file=crm.dump "
            f"--host={url.host or 'localhost'} --port={url.port or 5432} "
            f"--username={url.username or ''} {url.database}"
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    tmp = _temp_beside(dest)
    args = [exe, "--format=custom", f"--file={tmp}", f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise DatabaseError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


@dataclass(frozen=True)
class AutoBackup:
    made: list[Path]
    removed: list[Path]


def auto_backup(db: Database, today: date | None = None) -> AutoBackup:
    """On the first start of a day: a daily copy, a weekly one each ISO week.

    Keeps the newest 7 daily and 4 weekly copies. Only for local databases.
    """
    if not db.is_sqlite or db.path is None or not db.path.exists():
        return AutoBackup([], [])
    today = today or date.today()
    folder = backup_folder(db)
    daily, weekly = folder / "daily", folder / "weekly"
    made: list[Path] = []
    day_file = daily / f"{db.path.stem}-{today.isoformat()}.db"
    if not day_file.exists():
        made.append(backup_sqlite_file(db.path, day_file))
    year, week, _ = today.isocalendar()
    week_file = weekly / f"{db.path.stem}-{year}-W{week:02d}.db"
    if not week_file.exists():
        make_private_folder(weekly)
        source = day_file if day_file.exists() else db.path
        made.append(backup_sqlite_file(source, week_file))
    removed = _prune(daily, db.path.stem, DAILY_KEEP) + _prune(weekly, db.path.stem, WEEKLY_KEEP)
    return AutoBackup(made, removed)


def _prune(folder: Path, stem: str, keep: int) -> list[Path]:
    # Names sort by date (ISO dates and ISO weeks), newest last.
    copies = sorted(folder.glob(f"{stem}-*.db"))
    old = copies[:-keep] if len(copies) > keep else []
    for path in old:
        path.unlink(missing_ok=True)
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
        con = sqlite3.connect(_ro_uri(path), uri=True)
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
    if revision is None or revision[0] not in _known_revisions():
        raise SchemaTooNewError(
            f"{path.name} was written by a newer version of CRM Desktop "
            f"(schema {revision[0] if revision else '?'}); update the app to restore it."
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
        src = sqlite3.connect(_ro_uri(source), uri=True)
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
    return safety


def is_current_schema(revision: str) -> bool:
    return revision == head_revision()
