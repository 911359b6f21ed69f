"""Consistent copies of one SQLite file, checked before they appear (backups, upgrades).

The online backup API (never a plain file copy, which can catch the
database mid-write) into an owner-only temporary file beside the
destination, fsynced, ``integrity_check`` passed, then renamed into place;
the audit trail's head file goes with it. Opening a database copies it this
way before upgrading it, and backups build on it (see ``backup``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from ..errors import DatabaseError
from ..formats.atomic import FileWriteError, describe_os_error
from . import audit_head
from .folders import make_private_folder

Progress = Callable[[int, int], None]


def ro_uri(path: Path) -> str:
    return f"file:{quote(str(path))}?mode=ro"


def fsync_dir(folder: Path) -> None:
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


def temp_beside(dest: Path) -> Path:
    """An owner-only temporary file in the destination's folder (made if missing)."""
    try:
        make_private_folder(dest.parent)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise DatabaseError(describe_os_error(exc, dest)) from exc
    os.close(fd)
    os.chmod(name, 0o600)
    return Path(name)


def backup_sqlite_file(source: Path, dest: Path, progress: Progress | None = None) -> Path:
    """Consistent copy of ``source`` at ``dest`` (0600), verified before it appears."""
    tmp = temp_beside(dest)
    try:
        head = copy_sqlite(source, tmp, progress)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        write_backup_head(dest, head)
    except OSError as exc:
        raise DatabaseError(describe_os_error(exc, dest)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def copy_sqlite(
    source: Path,
    target: Path,
    progress: Progress | None = None,
    finish: Callable[[sqlite3.Connection], None] | None = None,
) -> audit_head.Head | None:
    """Copy ``source`` into the (new, empty) file ``target``, checked and fsynced.

    ``finish(connection)`` may change the copy before it is checked (a
    backup marks its own record complete in it: the copy is only ever seen
    once it is in place). Returns the audit trail's head for the copy (see
    :func:`write_backup_head`): the source's head file, read before the copy
    is taken so it is never ahead of it, moved forward to the copy's end.
    """
    source_head = head_of(source)
    copy_head = None
    try:
        src = sqlite3.connect(ro_uri(source), uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(
                    dst,
                    pages=1024,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total))
                    if progress
                    else None,
                )
                if finish:
                    finish(dst)
                    dst.commit()
                if source_head is not None:
                    copy_head = audit_head.moved_forward(
                        source_head, lambda sql, params=(): dst.execute(sql, params).fetchall()
                    )
                ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        if ok != "ok":
            raise DatabaseError(f"The backup copy of {source} failed its integrity check: {ok}")
        with target.open("rb") as fh:
            os.fsync(fh.fileno())
    except sqlite3.Error as exc:
        raise DatabaseError(f"Could not back up {source}: {exc}") from exc
    except OSError as exc:
        raise DatabaseError(describe_os_error(exc, target)) from exc
    return copy_head or source_head


def head_of(database_file: Path) -> audit_head.Head | None:
    """The head file beside ``database_file``; None if it has none or it cannot be read
    (then the copy gets none: the evidence stays with the source)."""
    try:
        return audit_head.read_sidecar(audit_head.sidecar_path(database_file))
    except audit_head.HeadUnreadable:
        return None


def write_backup_head(backup_file: Path, head: audit_head.Head | None) -> None:
    """Put the copy's head file beside the backup, once the backup is in place.

    A backup killed before this, or on a disk that refused the small file,
    has no head file: checking it then cannot see entries removed from its
    end, and never reports that any were.
    """
    if head is not None:
        with contextlib.suppress(FileWriteError):
            audit_head.write_sidecar(audit_head.sidecar_path(backup_file), head)
