"""Audit entries name the key that signed them (keyed hash chain).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every earlier entry: those were hashed with plain SHA-256 and
    # still verify that way. New entries carry the fingerprint of their key.
    op.add_column("audit_entry", sa.Column("key_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("key_id")
