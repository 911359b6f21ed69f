"""Opt-outs and sign-in records kept outside the database until they can be written.

An opt-out is never refused and never lost. When the database cannot take
it now (another program holds the write lock beyond the short wait, the file
is read-only for the moment, the disk is full), the window keeps it here: one
small JSON file per opt-out, readable by its owner only, in a folder of the
app's data folder that belongs to that database. It is written as soon as the
database allows (the window retries in the background, and every start runs
:func:`write_pending` as a recovery step), and the file is removed then.

A sign-in is recorded the same way when the database is busy, so that a
read (``crm prospect list``) never waits for another program's write.

Writing a kept item twice (two programs retrying at once) does nothing the
second time: its id goes into what it writes, and is looked for first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ..domain.dates import format_datetime
from ..domain.roles import Role
from ..domain.types import utcnow
from ..errors import CrmError, DatabaseError, NotFoundError
from ..persistence.db import Database, default_database_path
from ..persistence.folders import make_private_folder
from . import recovery
from .context import Context

#: How long a retry waits for another program's write before leaving it for later.
RETRY_WAIT_SECONDS = 1.0
#: The same on start, where a command (crm prospect list) is waiting to run.
START_WAIT_SECONDS = 0.25
OPT_OUT = "opt-out"
OBJECTION = "objection"
SIGN_IN = "sign-in"


@dataclass
class Pending:
    """One action the database could not take yet."""

    kind: str  # OPT_OUT, OBJECTION or SIGN_IN
    user: str
    role: str
    asked_at: str  # ISO 8601, UTC: when the person asked (or signed in)
    prospect_id: int | None = None
    prospect_name: str = ""
    channels: str | list[str] = "all"
    source: str | None = None
    reason: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    error: str = ""  # why it could not be written the last time it was tried

    @property
    def asked(self) -> datetime:
        return datetime.fromisoformat(self.asked_at)

    def describe(self) -> str:
        """'the opt-out of Jane Smith (#12) from email' (no trailing full stop)."""
        who = f"{self.prospect_name} (#{self.prospect_id})".strip()
        if self.kind == OBJECTION:
            return f"the objection to marketing of {who}"
        if self.kind == SIGN_IN:
            return f"the sign-in of {self.user}"
        chosen = self.channels if isinstance(self.channels, list) else [self.channels]
        what = "all channels" if "all" in chosen else ", ".join(chosen)
        return f"the opt-out of {who} from {what}"


def folder(db: Database) -> Path:
    """Where this database's kept items live (one folder per database)."""
    name = hashlib.sha256(db.display_name.encode("utf-8")).hexdigest()[:20]
    return default_database_path().parent / "pending" / name


def keep(db: Database, item: Pending) -> Path:
    """Store ``item`` (0600, written atomically); raises CrmError if even that fails."""
    where = folder(db)
    target = where / f"{item.id}.json"
    temp = where / f".{item.id}.tmp"
    try:
        make_private_folder(where)
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(item), fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise CrmError(
            f"{item.describe().capitalize()} could not be kept on this computer either "
            f"({exc.strerror or exc}): it is NOT saved. Note it down and record it again "
            "when the database is free."
        ) from None
    return target


def items(db: Database) -> list[Pending]:
    """Everything kept for this database, oldest first (unreadable files are skipped)."""
    where = folder(db)
    try:
        names = sorted(p for p in where.iterdir() if p.suffix == ".json")
    except OSError:
        return []
    found: list[Pending] = []
    for path in names:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(Pending(**data))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(found, key=lambda item: item.asked_at)


def count(db: Database) -> int:
    try:
        return sum(1 for p in folder(db).iterdir() if p.suffix == ".json")
    except OSError:
        return 0


def drop(db: Database, item: Pending) -> None:
    with contextlib.suppress(FileNotFoundError):
        (folder(db) / f"{item.id}.json").unlink()


def _update_error(db: Database, item: Pending, error: str) -> None:
    if item.error == error:
        return
    item.error = error
    with contextlib.suppress(CrmError):
        keep(db, item)


def write(ctx: Context, item: Pending, *, wait: float = RETRY_WAIT_SECONDS) -> str:
    """Write one kept item now; its sentence. Raises DatabaseError if it still cannot."""
    from . import marketing, users

    acting = Context(ctx.db, user=item.user, role=Role(item.role))
    if item.kind == SIGN_IN:
        users.record_sign_in(ctx.db, item.user, item.asked, wait=wait, pending_id=item.id)
        drop(ctx.db, item)
        return f"Recorded the sign-in of {item.user} at {_local(item.asked)} in the audit trail."
    try:
        if item.kind == OBJECTION:
            marketing.object_to_marketing(
                acting, item.prospect_id, source=item.source or "other", reason=item.reason,
                wait=wait, pending_id=item.id, asked_at=item.asked,
            )  # fmt: skip
        else:
            marketing.opt_out(
                acting, item.prospect_id, item.channels, source=item.source or "other",
                reason=item.reason, wait=wait, pending_id=item.id, asked_at=item.asked,
            )  # fmt: skip
    except NotFoundError:
        drop(ctx.db, item)
        return (
            f"{item.describe().capitalize()} could not be saved: prospect #{item.prospect_id} "
            "was deleted meanwhile. Check their address is on the suppression list."
        )
    drop(ctx.db, item)
    return f"Saved {item.describe()}, asked for on {_local(item.asked)}."


def _local(at: datetime) -> str:
    return format_datetime(at.astimezone())


def write_all(ctx: Context, *, wait: float = RETRY_WAIT_SECONDS) -> tuple[list[str], list[str]]:
    """Write what can be written: (sentences for the saved, sentences for the still kept).

    Stops at the first item the database still refuses (it would refuse the
    rest too); those stay kept for the next try.
    """
    done: list[str] = []
    kept = items(ctx.db)
    for n, item in enumerate(kept):
        try:
            done.append(write(ctx, item, wait=wait))
        except DatabaseError as exc:
            _update_error(ctx.db, item, str(exc))
            return done, [i.describe() for i in kept[n:]]
        except CrmError as exc:
            # Refused for good (the role no longer may): say so, do not retry forever.
            drop(ctx.db, item)
            done.append(f"{item.describe().capitalize()} could not be saved: {exc}")
    return done, []


@recovery.register("pending opt-outs and sign-ins")
def write_pending(ctx: Context) -> list[str]:
    """On start: write the opt-outs and sign-ins kept while the database was busy."""
    if not count(ctx.db):
        return []
    done, _still = write_all(ctx, wait=START_WAIT_SECONDS)
    return done


def now_iso() -> str:
    return utcnow().isoformat()
