"""Blank the details that deletions made before this version left in the audit trail.

Deleting a prospect now blanks their details in their earlier audit
entries, as erasure does. Deletions made before it did left names,
addresses and notes there. This blanks them once, on upgrade, the same way
(``domain.audit.blank_values``: the value hashes stay, so the chain still
verifies, the later ``prospect.deleted`` entry accounting for the blanks).
Only entries older than the deletion are touched: a record id used again
afterwards belongs to someone else.

Revision ID: 0012
Revises: 0011
"""

import json

import sqlalchemy as sa
from alembic import op

from crm_desktop.domain.audit import blank_values, stored_object

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

entry = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("reason", sa.String),
    sa.column("values", sa.String),
    sa.column("value_hashes", sa.String),
)


def upgrade() -> None:
    conn = op.get_bind()
    c = entry.c
    deletions = conn.execute(
        sa.select(c.entity_id, sa.func.max(c.id))
        .where(c.action == "prospect.deleted", c.entity == "prospect")
        .group_by(c.entity_id)
    ).all()
    for entity_id, deleted_at in deletions:
        rows = conn.execute(
            sa.select(c.id, c["values"], c.value_hashes, c.reason).where(
                c.entity == "prospect", c.entity_id == entity_id, c.id < deleted_at
            )
        ).all()
        for entry_id, values, value_hashes, reason in rows:
            blank = blank_values(value_hashes, values)
            if stored_object(values) != blank or reason is not None:
                conn.execute(
                    sa.update(entry)
                    .where(c.id == entry_id)
                    .values({"values": json.dumps(blank, sort_keys=True), "reason": None})
                )


def downgrade() -> None:
    pass  # blanked details cannot be brought back (that is the point)
