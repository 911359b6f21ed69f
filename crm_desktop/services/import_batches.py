"""Past imports: the batches brought in, and who each one brought.

Each import (``crm import`` or File > Import) is one
:class:`~crm_desktop.domain.models.ImportBatch`; the prospects it created,
updated or imported as opted out are its
:class:`~crm_desktop.domain.models.ImportMember` rows. This module reads
them for listings (``crm imports``) and for the prospect list's filter by
import (:attr:`ProspectQuery.import_id <crm_desktop.services.prospects.ProspectQuery>`),
which shows "Imported from <file> (<source>) on <date>: N people".

``people`` counts the batch's people as they are now: someone deleted,
erased or merged into another record since is no longer one of them (their
link goes with them), while ``counts`` keeps what the import itself did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..domain.dates import format_date
from ..domain.models import ImportBatch, ImportMember
from ..domain.roles import Action
from ..errors import NotFoundError
from .context import Context
from .results import Jsonable

# The lawful basis as people read it.
BASIS_LABELS = {
    "consent": "Consent",
    "legitimate-interest": "Legitimate interest",
    "none": "None recorded",
}


@dataclass(frozen=True)
class ImportBatchView(Jsonable):
    """One past import, without personal data."""

    id: int
    file_name: str
    source: str
    format: str
    lawful_basis: str  # consent | legitimate-interest | none
    on_duplicate: str
    imported_by: str
    imported_at: datetime
    people: int  # prospects it brought in who are still on record
    counts: dict[str, int] = field(default_factory=dict)  # what the import did: rows, created…

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS.get(self.lawful_basis, self.lawful_basis)

    @property
    def date_text(self) -> str:
        return format_date(self.imported_at.astimezone().date())

    def title(self) -> str:
        """'Imported from bett.csv (Bett 2026 stand sign-ups) on 7 Dec 2026'."""
        return f"Imported from {self.file_name} ({self.source}) on {self.date_text}"

    def summary(self) -> str:
        """:meth:`title` and how many people: '…: 120 people'."""
        return f"{self.title()}: {people(self.people)}"


def people(n: int) -> str:
    return f"{n:,} " + ("person" if n == 1 else "people")


def _counts(text: str | None) -> dict[str, int]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _query():
    members = (
        select(ImportMember.import_id, func.count().label("people"))
        .group_by(ImportMember.import_id)
        .subquery()
    )
    stmt = select(ImportBatch, func.coalesce(members.c.people, 0)).outerjoin(
        members, members.c.import_id == ImportBatch.id
    )
    return stmt


def _view(batch: ImportBatch, n: int) -> ImportBatchView:
    return ImportBatchView(
        id=batch.id,
        file_name=batch.file_name,
        source=batch.source,
        format=batch.format,
        lawful_basis=batch.lawful_basis,
        on_duplicate=batch.on_duplicate,
        imported_by=batch.created_by,
        imported_at=batch.created_at,
        people=int(n or 0),
        counts=_counts(batch.counts),
    )


def list_batches(ctx: Context, *, limit: int | None = None) -> list[ImportBatchView]:
    """Every import, newest first (the first ``limit`` only, if given)."""
    ctx.require(Action.VIEW)
    stmt = _query().order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with ctx.db.read() as session:
        return [_view(batch, n) for batch, n in session.execute(stmt)]


def get_batch(ctx: Context, import_id: int) -> ImportBatchView:
    """One import, by its id (``crm import`` prints it: "import #12")."""
    ctx.require(Action.VIEW)
    with ctx.db.read() as session:
        row = session.execute(_query().where(ImportBatch.id == import_id)).first()
    if row is None:
        raise NotFoundError(f"No import with id {import_id}.")
    return _view(*row)
