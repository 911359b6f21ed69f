"""Imports of contacts: batches, their members, extra addresses, dismissed duplicates.

``import_batch`` records each file brought in (source, lawful basis and its
evidence, who, when, counts); ``import_member`` links every prospect a batch
created or updated to it (the prospect's origin). ``contact_point`` keeps a
prospect's email addresses and phone numbers beyond the primary ones.
``duplicate_dismissal`` remembers pairs someone said are different people.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("lawful_basis", sa.String(length=30), nullable=False),
        sa.Column("consent_wording", sa.String(length=5000), nullable=True),
        sa.Column("consent_policy_version", sa.String(length=50), nullable=True),
        sa.Column("li_note", sa.String(length=5000), nullable=True),
        sa.Column(
            "li_assessment_id",
            sa.Integer(),
            sa.ForeignKey("li_assessment.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("on_duplicate", sa.String(length=20), nullable=False),
        sa.Column("on_suppressed", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.String(length=10000), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "import_member",
        sa.Column(
            "import_id",
            sa.Integer(),
            sa.ForeignKey("import_batch.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "prospect_id",
            sa.Integer(),
            sa.ForeignKey("prospect.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
    )
    op.create_index("ix_import_member_prospect", "import_member", ["prospect_id"])
    op.create_table(
        "contact_point",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "prospect_id",
            sa.Integer(),
            sa.ForeignKey("prospect.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("value_key", sa.String(length=254), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_point_prospect", "contact_point", ["prospect_id"])
    op.create_index("ix_contact_point_key", "contact_point", ["kind", "value_key"])
    op.create_table(
        "duplicate_dismissal",
        sa.Column(
            "low_id",
            sa.Integer(),
            sa.ForeignKey("prospect.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "high_id",
            sa.Integer(),
            sa.ForeignKey("prospect.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("dismissed_by", sa.String(length=100), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("duplicate_dismissal")
    op.drop_index("ix_contact_point_key", table_name="contact_point")
    op.drop_index("ix_contact_point_prospect", table_name="contact_point")
    op.drop_table("contact_point")
    op.drop_index("ix_import_member_prospect", table_name="import_member")
    op.drop_table("import_member")
    op.drop_table("import_batch")
