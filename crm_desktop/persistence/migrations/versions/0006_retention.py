"""Retention review: when a reviewer last decided to keep a prospect.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (not a batch table rebuild, which would drop the FTS
    # triggers on prospect).
    op.add_column(
        "prospect", sa.Column("retention_kept_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place, so no table rebuild here either.
    op.drop_column("prospect", "retention_kept_at")
