"""Indexes that serve every sort of the prospect table.

Each column the prospect table sorts by gets an index ending in the id,
the table's tie-breaker, so ``ORDER BY column, id LIMIT n`` walks the index
and stops after ``n`` rows instead of sorting every prospect (SQLite keeps
the rowid in every index anyway; PostgreSQL needs it spelled out). The
school sort walks the schools by ``(name_key, id)`` and each school's
prospects by ``(school_id, id)``.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (index, table, columns before: the columns after are these plus the id)
_SORT_INDEXES = (
    ("ix_prospect_last_name", "prospect", ["last_name", "first_name"]),
    ("ix_prospect_last_contact_at", "prospect", ["last_contact_at"]),
    ("ix_prospect_next_follow_up", "prospect", ["next_follow_up"]),
    ("ix_prospect_stage", "prospect", ["stage"]),
    ("ix_prospect_owner", "prospect", ["owner"]),
    ("ix_prospect_role", "prospect", ["role"]),
    ("ix_prospect_school_id", "prospect", ["school_id"]),
    ("ix_school_name_key", "school", ["name_key"]),
)


def upgrade() -> None:
    for name, table, columns in _SORT_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [*columns, "id"])


def downgrade() -> None:
    for name, table, columns in _SORT_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
