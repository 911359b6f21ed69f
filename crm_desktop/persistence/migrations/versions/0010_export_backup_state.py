"""Exports and backups are recorded before their file is begun, with a state.

An export record is committed in state "writing" (with the name of its
temporary file and the computer it is on) before the file is created, and
becomes "complete" only once the file is in place; a backup likewise gets a
``backup_run`` row. A run killed in between is found on the next start and
either completed (its file is in place, with the recorded SHA-256) or marked
"interrupted" (its temporary file deleted).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: every export recorded so far had its file in place
    # when its record was committed, so they read as "complete".
    op.add_column(
        "export_run",
        sa.Column("state", sa.String(length=20), nullable=False, server_default="complete"),
    )
    op.add_column("export_run", sa.Column("part_file", sa.String(length=1000), nullable=True))
    op.add_column("export_run", sa.Column("host", sa.String(length=255), nullable=True))
    op.create_index("ix_export_run_state", "export_run", ["state"])
    op.create_table(
        "backup_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("part_file", sa.String(length=1000), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_backup_run_state", "backup_run", ["state"])


def downgrade() -> None:
    op.drop_index("ix_backup_run_state", table_name="backup_run")
    op.drop_table("backup_run")
    op.drop_index("ix_export_run_state", table_name="export_run")
    op.drop_column("export_run", "host")
    op.drop_column("export_run", "part_file")
    op.drop_column("export_run", "state")
