"""Opt-outs and sign-ins kept outside the database, one file each, until it can take them.

The files: one small JSON file per item, readable by its owner only, in a
folder of the app's data folder that belongs to that database. What is kept,
and when it is written, is ``services.pending``'s business; this module only
stores, lists and removes the items, so that the services that keep them
(``services.users`` for sign-ins) and the one that writes them need not
import each other.
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

from ..errors import CrmError
from .db import Database, default_database_path
from .folders import make_private_folder

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
