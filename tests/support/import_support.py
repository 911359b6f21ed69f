"""Rows an import would leave behind, written straight through a session.

For tests of everything that reads a prospect's origin (import batches and
their members) and extra addresses (contact points) without running an
import: the subject access pack, history, erasure, opt-outs, the detail pane.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crm_desktop.domain.models import ContactPoint, ImportBatch, ImportMember
from crm_desktop.domain.suppression import canonical_address
from crm_desktop.domain.types import utcnow


def add_batch(
    ctx,
    members: dict[int, tuple[str, int]] | list[int],
    *,
    file_name: str = "bett-2026.csv",
    source: str = "Bett 2026 stand sign-ups",
    fmt: str = "csv",
    basis: str = "consent",
    consent_wording: str | None = "Tick to hear about our SEND tools",
    policy_version: str | None = "v3",
    li_note: str | None = None,
    li_assessment_id: int | None = None,
    created_by: str = "alice",
    created_at: datetime | None = None,
) -> int:
    """One import batch and its members; ``members``: ids (created, rows 1, 2, ...)
    or {prospect_id: (outcome, row_number)}. Returns the batch id."""
    if isinstance(members, list):
        members = {pid: ("created", n) for n, pid in enumerate(members, start=1)}
    with ctx.db.transaction() as session:
        batch = ImportBatch(
            file_name=file_name,
            sha256="0" * 64,
            format=fmt,
            source=source,
            lawful_basis=basis,
            consent_wording=consent_wording,
            consent_policy_version=policy_version,
            li_note=li_note,
            li_assessment_id=li_assessment_id,
            on_duplicate="fill",
            on_suppressed="opt-out",
            counts="{}",
            created_by=created_by,
            created_at=created_at or utcnow(),
        )
        session.add(batch)
        session.flush()
        for pid, (outcome, row) in members.items():
            session.add(
                ImportMember(import_id=batch.id, prospect_id=pid, outcome=outcome, row_number=row)
            )
        return batch.id


def add_address(ctx, prospect_id: int, value: str, *, position: int = 0) -> int:
    """An extra email or phone for a prospect, keyed as an import keys it. Returns its id."""
    key = canonical_address(value)
    kind = "email" if "@" in value else "phone"
    with ctx.db.transaction() as session:
        row = ContactPoint(
            prospect_id=prospect_id,
            kind=kind,
            value=value.strip() if kind == "email" else key,
            value_key=key,
            position=position,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row.id
