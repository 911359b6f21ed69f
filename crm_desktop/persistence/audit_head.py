"""The audit trail's head (how many entries, the last one's hash), kept apart from it.

The hash chain shows an entry altered, removed from the middle or moved,
but not entries removed from its end (or all of them): what is left is still
a sound chain. So the head is kept where removing entries shows:

- SQLite: a small file beside the database, ``<database>.audit-head``
  (JSON, owner-only, written atomically). It is moved forward after every
  commit that appended entries, and only ever forward: under a lock file,
  and only when the trail still holds, at the head's place, the entry the
  head names; a head that disagrees with the trail is left as the evidence.
  It is written after the commit, so a process killed in between leaves it
  behind the trail, never ahead of it: a head that is behind is accepted
  when the entry at its length has its hash (the next write, the next start
  or ``verify`` catches it up).
- PostgreSQL: the one-row table ``audit_head``, moved forward in the same
  transaction by a trigger on every insert into ``audit_entry`` (migration
  0011). It belongs to the schema's owner; other roles may only read it (the
  trigger's function runs with its owner's rights). While the app connects
  as the schema's owner (until people have logins of their own), that login
  can still change the table, so the row shows a deletion made by ordinary
  means, not one made by someone who also rewrites the head on purpose.

Anyone who can write both the database and the head can remove the end of
the trail unseen; the head a person noted earlier (``crm audit verify``
prints it) catches that too.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from ..domain.audit import GENESIS
from ..formats.atomic import FileWriteError, atomic_output

SUFFIX = ".audit-head"
#: Key in ``Session.info``: how many entries the transaction appended.
APPENDED = "crm_audit_appended"

Rows = Callable[..., list]


class HeadUnreadable(ValueError):
    """The head record is there but cannot be read (it was damaged or altered)."""


@dataclass(frozen=True)
class Head:
    """The trail's length and last entry when the head was last moved forward.

    ``since`` is when this head record was started and ``started_at`` how many
    entries the trail had then (0: it has been kept from the trail's first
    entry; otherwise entries removed before ``since`` cannot be seen).
    """

    length: int
    hash: str
    last_id: int | None
    updated: str
    since: str
    started_at: int = 0

    @classmethod
    def from_json(cls, text_: str) -> Head:
        try:
            data = json.loads(text_)
            head = cls(
                length=data["length"],
                hash=data["hash"],
                last_id=data["last_id"],
                updated=data["updated"],
                since=data["since"],
                started_at=data.get("started_at", 0),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise HeadUnreadable(str(exc)) from None
        if not (
            isinstance(head.length, int)
            and head.length >= 0
            and isinstance(head.hash, str)
            and (head.last_id is None or isinstance(head.last_id, int))
            and isinstance(head.started_at, int)
        ):
            raise HeadUnreadable("wrong shape")
        return head

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def note_appended(session) -> None:
    """Count an entry appended in ``session``'s transaction (see Database.transaction)."""
    session.info[APPENDED] = session.info.get(APPENDED, 0) + 1


def appended(session) -> int:
    return session.info.get(APPENDED, 0)


def sidecar_path(database_file: Path) -> Path:
    return database_file.with_name(database_file.name + SUFFIX)


def read_sidecar(path: Path) -> Head | None:
    """The head kept in ``path``; None if there is none. Raises HeadUnreadable."""
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise HeadUnreadable(str(exc)) from None
    return Head.from_json(content)


def write_sidecar(path: Path, head: Head) -> None:
    """Write ``path`` atomically, owner-only (FileWriteError if it cannot be)."""
    with atomic_output(path, mode=0o600) as tmp:
        tmp.write_text(head.to_json(), encoding="utf-8")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock file beside ``path`` (``<path>.lock``): one updater at a time."""
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def moved_forward(head: Head | None, rows: Rows, *, born: int = 0) -> Head | None:
    """``head`` moved forward to the trail's end, or None to leave it as it is.

    ``rows(sql, params)`` queries the trail (SQLite, ``?`` parameters). A
    missing head is started (``born``: how many of the entries the current
    transaction made, so a trail begun now is kept from its first entry). A
    head the trail no longer holds (its entry gone or changed) is left alone:
    it is the evidence ``verify`` reports.
    """
    tail = rows("SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1")
    if not tail:
        return None
    last_id, last_hash = tail[0]
    now = _now()
    if head is None:
        total = rows("SELECT count(*) FROM audit_entry")[0][0]
        return Head(total, last_hash, last_id, now, now, max(0, total - born))
    if head.last_id == last_id:
        return None
    if head.last_id is None:
        if head.length != 0 or head.hash != GENESIS:
            return None
        after = rows("SELECT count(*) FROM audit_entry")[0][0]
    else:
        found = rows("SELECT hash FROM audit_entry WHERE id = ?", (head.last_id,))
        if not found or found[0][0] != head.hash:
            return None
        after = rows("SELECT count(*) FROM audit_entry WHERE id > ?", (head.last_id,))[0][0]
    if not after:
        return None
    return replace(head, length=head.length + after, hash=last_hash, last_id=last_id, updated=now)


def advance(db, *, born: int = 0, create: bool = True) -> None:
    """Move a SQLite database's head file forward after a commit (never backwards).

    Never raises for the disk or the database: the commit has happened, and
    a head left behind is caught up by the next write or start. ``create``
    False leaves a missing head file missing (``verify`` reports it first).
    """
    path = getattr(db, "path", None)
    if path is None or db.read_only:
        return
    side = sidecar_path(path)
    problems = (OSError, sqlite3.Error, DBAPIError, FileWriteError, HeadUnreadable)
    with contextlib.suppress(*problems), locked(side):
        head = read_sidecar(side)
        if head is None and not create:
            return
        with db.engine.connect() as conn:
            new = moved_forward(
                head, lambda sql, params=(): conn.exec_driver_sql(sql, params).all(), born=born
            )
        if new is not None:
            write_sidecar(side, new)


def read(db, session) -> Head | None:
    """The head record of ``db`` (the file, or the server's row). Raises HeadUnreadable."""
    if db.dialect == "postgresql":
        try:
            row = session.execute(
                text(
                    "SELECT length, hash, last_id, updated, since, started_at "
                    "FROM audit_head WHERE id = 1"
                )
            ).first()
        except (OperationalError, DBAPIError) as exc:
            raise HeadUnreadable(str(exc)) from None
        if row is None:
            return None
        return Head(
            row.length, row.hash, row.last_id, row.updated.isoformat(), row.since.isoformat(),
            row.started_at,
        )  # fmt: skip
    if db.path is None:
        return None
    return read_sidecar(sidecar_path(db.path))


def short(hash_: str) -> str:
    """A head hash as people note it: its first 16 characters."""
    return hash_[:16]


def _entries(count: int) -> str:
    return f"{count:,} {'entry' if count == 1 else 'entries'}"


def compare(head: Head, length: int, hash_at_head: str | None) -> str | None:
    """What is wrong between a sound chain of ``length`` entries and its head, if anything.

    ``hash_at_head``: the hash of the chain's entry number ``head.length``.
    A head that is behind is accepted when that entry is the one it noted.
    """
    noted = f"{_entries(head.length)} ending {short(head.hash)} on {when(head.updated)}"
    if length < head.length:
        removed = head.length - length
        return (
            f"ends after {_entries(length)}, but its head record says {noted}: "
            f"{removed:,} {'entry was' if removed == 1 else 'entries were'} removed from the end"
        )
    if (head.hash != GENESIS) if head.length == 0 else (hash_at_head != head.hash):
        return (
            f"does not match its head record ({noted}): entry number {head.length:,} is "
            "another entry now (entries were removed and others put in their place), or "
            "the head record was altered"
        )
    return None


def _ro_uri(path: Path) -> str:
    return f"file:{quote(str(path))}?mode=ro"


def when(iso: str) -> str:
    try:
        at = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    from ..domain.dates import format_date

    return f"{format_date(at.date())} {at:%H:%M} UTC"


def copy_for_backup(source_head: Head | None, backup_file: Path) -> None:
    """Give a fresh backup copy the head of its source, moved forward to the copy's end.

    ``source_head`` must be read before the copy was taken (so it is never
    ahead of it). A source head the copy does not hold is copied as it is:
    the backup keeps the evidence.
    """
    if source_head is None:
        return
    con = sqlite3.connect(_ro_uri(backup_file), uri=True)
    try:
        new = moved_forward(source_head, lambda sql, params=(): con.execute(sql, params).fetchall())
    finally:
        con.close()
    write_sidecar(sidecar_path(backup_file), new or source_head)


def check_backup_head(backup_file: Path) -> str | None:
    """What is wrong between a backup copy's trail and its head file, if anything.

    Checks the length and the entry at the head's place (the hashes
    themselves are checked by ``crm audit verify`` once restored).
    """
    head = read_sidecar(sidecar_path(backup_file))
    if head is None:
        return None
    con = sqlite3.connect(_ro_uri(backup_file), uri=True)
    try:
        length = con.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        at_head = None
        if head.length:
            row = con.execute(
                "SELECT hash FROM audit_entry ORDER BY id LIMIT 1 OFFSET ?", (head.length - 1,)
            ).fetchone()
            at_head = row[0] if row else None
    finally:
        con.close()
    return compare(head, length, at_head)
