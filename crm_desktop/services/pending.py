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
from datetime import datetime

from ..domain.dates import format_datetime
from ..domain.roles import Role
from ..domain.types import utcnow
from ..errors import CrmError, DatabaseError, NotFoundError
from ..persistence.db import Database
from ..persistence.pending_store import (
    OBJECTION,
    OPT_OUT,
    SIGN_IN,
    Pending,
    count,
    drop,
    folder,
    items,
    keep,
)
from . import marketing, merge, recovery, users
from .context import Context

# The store's names, so that callers keep and write kept items through this module.
__all__ = [
    "OBJECTION",
    "OPT_OUT",
    "RETRY_WAIT_SECONDS",
    "SIGN_IN",
    "START_WAIT_SECONDS",
    "Pending",
    "count",
    "drop",
    "folder",
    "items",
    "keep",
    "now_iso",
    "write",
    "write_all",
    "write_pending",
]

#: How long a retry waits for another program's write before leaving it for later.
RETRY_WAIT_SECONDS = 1.0
#: The same on start, where a command (crm prospect list) is waiting to run.
START_WAIT_SECONDS = 0.25


def _update_error(db: Database, item: Pending, error: str) -> None:
    if item.error == error:
        return
    item.error = error
    with contextlib.suppress(CrmError):
        keep(db, item)


def write(ctx: Context, item: Pending, *, wait: float = RETRY_WAIT_SECONDS) -> str:
    """Write one kept item now; its sentence. Raises DatabaseError if it still cannot."""
    acting = Context(ctx.db, user=item.user, role=Role(item.role))
    if item.kind == SIGN_IN:
        users.record_sign_in(ctx.db, item.user, item.asked, wait=wait, pending_id=item.id)
        drop(ctx.db, item)
        return f"Recorded the sign-in of {item.user} at {_local(item.asked)} in the audit trail."

    def honour(prospect_id: int) -> None:
        if item.kind == OBJECTION:
            marketing.object_to_marketing(
                acting, prospect_id, source=item.source or "other", reason=item.reason,
                wait=wait, pending_id=item.id, asked_at=item.asked,
            )  # fmt: skip
        else:
            marketing.opt_out(
                acting, prospect_id, item.channels, source=item.source or "other",
                reason=item.reason, wait=wait, pending_id=item.id, asked_at=item.asked,
            )  # fmt: skip

    try:
        honour(item.prospect_id)
    except NotFoundError:
        # Merged into another record meanwhile: the person lives on there.
        moved = merge.merged_into(acting, item.prospect_id)
        if moved is not None:
            honour(moved)
            drop(ctx.db, item)
            return (
                f"Saved {item.describe()}, asked for on {_local(item.asked)}, on prospect "
                f"#{moved}, which prospect #{item.prospect_id} was merged into."
            )
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
