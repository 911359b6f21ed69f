"""The clean-up owed after an erasure, and what it truthfully achieved.

Erasing a person overwrites their values in the tables, but copies can
linger in the database files (free pages, the write-ahead log, the search
index's old segments) until the files are rewritten (``Database.scrub``).
That rewrite can fail after the erasure was committed (a full disk), or be
held back by another program reading the database. So the erasure records,
in its own transaction, that a clean-up is owed (a ``setting`` row), and
only a clean-up that finished and was checked clears it. Until then every
start finishes it (the ``cleanup`` recovery step), and
``crm erase --finish-cleanup`` does it on request.

Messages say what happened: erased, and either no trace left (checked), or
the clean-up still pending and why, with what finishes it. On PostgreSQL
the tables are vacuumed, but what the server keeps in its own files, its
write-ahead log and its backups cannot be checked from here; the messages
say so rather than promise it.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlmodel import Session

from ..domain.models import Setting
from ..domain.types import utcnow
from ..errors import CrmError
from ..persistence.db import Database, ScrubResult
from . import recovery
from .context import Context

OWED_KEY = "cleanup.owed"
FINISH_COMMAND = "crm erase --finish-cleanup"
#: The start-up clean-up waits at most this long for another program: it
#: runs before every command, which must not stall behind a writer.
START_WAIT_MS = 250


@dataclass(frozen=True)
class Cleanup:
    """The clean-up after an erasure: what it did, as the words to show."""

    finished: bool
    #: The server's files cannot be checked (PostgreSQL): say so, claim nothing.
    server: bool
    #: Another program's open transaction holds the old data back.
    reader: bool = False
    problem: str = ""

    @classmethod
    def of(cls, db: Database, result: ScrubResult) -> Cleanup:
        return cls(result.finished, not db.is_sqlite, result.reader, result.problem)

    @property
    def outcome(self) -> str:
        """What became of the old values in the files, to follow "Erased X: ..."."""
        if self.finished and self.server:
            return (
                "the server vacuumed the tables that held their details; copies the "
                "server keeps in its own files, write-ahead log and backups cannot be "
                "checked from here and go as the server reuses that space"
            )
        if self.finished:
            return "no trace is left in the database files (checked)"
        return "the clean-up of the database files has not finished: " + self.pending

    @property
    def pending(self) -> str:
        """Why the clean-up has not finished, and what will finish it."""
        if self.reader:
            return (
                "another program is reading the database and can still see their old "
                "details, so they stay in the files until it finishes; the next start of "
                f"CRM Desktop or crm command then finishes the clean-up (or run "
                f"'{FINISH_COMMAND}')"
            )
        return (
            f"{self.problem or 'it failed'}, so their old details may still be in the "
            f"files. Run '{FINISH_COMMAND}' once that is fixed (the next start of CRM "
            "Desktop or crm command also tries)"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "finished": self.finished,
            "checked": self.finished and not self.server,
            "waiting_for_reader": self.reader,
            "message": self.outcome,
        }


def mark_owed(session: Session) -> None:
    """Record, in the caller's transaction, that a clean-up is owed.

    Each mark is a new token, so a clean-up that began before this mark
    cannot clear it (see :func:`run`): the later erasure's data may not be
    covered by it.
    """
    token = f"{utcnow().isoformat()} {secrets.token_hex(8)}"
    # The dialect's own INSERT (for its upsert), imported here: the PostgreSQL package
    # loads every driver's module (~0.2 s), which a start on SQLite need not pay for.
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    stmt = insert(Setting).values(key=OWED_KEY, value=token)
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": token}))


def owed_token(db: Database) -> str | None:
    """The current mark, or None when no clean-up is owed (a read: takes no lock)."""
    with db.read() as session:
        return session.scalar(select(Setting.value).where(Setting.key == OWED_KEY))


def run(db: Database, *, wait_ms: int | None = None) -> Cleanup:
    """Clean the files; clear the owed mark only if it finished and checked out.

    A failure is in the result, never raised: the erasure itself stands.
    """
    try:
        token = owed_token(db)
    except CrmError:
        token = None  # cannot be read now: clean anyway, and leave any mark
    result = Cleanup.of(db, db.scrub(wait_ms=wait_ms))
    if result.finished and token is not None:
        # If this fails it stays marked: the next start cleans again, which is harmless.
        with contextlib.suppress(CrmError):
            _clear(db, token, None if wait_ms is None else wait_ms / 1000)
    return result


def _clear(db: Database, token: str, wait: float | None) -> None:
    with db.transaction(wait=wait) as session:
        session.execute(delete(Setting).where(Setting.key == OWED_KEY, Setting.value == token))


@recovery.register("cleanup")
def finish_owed(ctx: Context) -> list[str]:
    """Start-up step: finish a clean-up an earlier erasure could not."""
    try:
        if owed_token(ctx.db) is None:
            return []
    except CrmError:
        return []
    result = run(ctx.db, wait_ms=START_WAIT_MS)
    if not result.finished:
        return []
    return [f"Finished the clean-up after an earlier erasure: {result.outcome}."]
