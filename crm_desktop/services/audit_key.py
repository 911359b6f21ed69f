"""What a person does with the audit trail's key: see whether it is here, export, import.

The key itself, its files and how entries are signed with it are
:mod:`crm_desktop.persistence.audit_keys`; exporting and importing are
recorded in the trail, so they live here, above ``services.audit``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..domain.roles import Action
from ..persistence.audit_keys import (
    AuditKeyError,
    Imported,
    KeyStatus,
    export_keys,
    import_keys,
    status,
)
from . import audit
from .context import Context

# The results (and refusal) of these actions, for their callers.
__all__ = ["AuditKeyError", "Imported", "KeyStatus", "export_key", "import_key", "key_status"]


def key_status(ctx: Context) -> KeyStatus:
    """Whether the database is keyed and this computer holds its key."""
    ctx.require(Action.VIEW_AUDIT)
    with ctx.db.read() as session:
        return status(session)


def export_key(ctx: Context, path: str | os.PathLike, *, overwrite: bool = False) -> int:
    """Write this computer's keys for the database to ``path``; recorded in the trail.

    Managers and admins only: whoever holds the file can rewrite the trail.
    Returns how many keys were written.
    """
    ctx.require(Action.VIEW_AUDIT)
    dest = Path(path).expanduser()
    written = False
    try:
        with ctx.db.transaction() as session:
            count = export_keys(session, dest, overwrite=overwrite)
            written = True
            audit.record(
                session, ctx.user, "audit.key-exported", "audit", None,
                {"file": str(dest), "keys": count},
            )  # fmt: skip
    except BaseException:
        if written:
            dest.unlink(missing_ok=True)  # no copy of the key without its record
        raise
    return count


def import_key(ctx: Context, path: str | os.PathLike) -> Imported:
    """Add the database's keys from a file made by :func:`export_key`; recorded."""
    ctx.require(Action.VIEW_AUDIT)
    with ctx.db.transaction() as session:
        result = import_keys(session, path)
        audit.record(
            session, ctx.user, "audit.key-imported", "audit", None,
            {"added": result.added, "already_held": result.already},
        )  # fmt: skip
    return result
