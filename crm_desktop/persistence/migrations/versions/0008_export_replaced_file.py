"""Export records say whether the export replaced an existing file.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN with a default. Earlier records did not note a
    # replacement, so they read as "did not replace" (as recorded then).
    op.add_column(
        "export_run",
        sa.Column("replaced_file", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("export_run", "replaced_file")
