"""Initial schema: schools, prospects, interests, correspondence, settings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the starting list of services (the app may change its own).
DEFAULT_INTERESTS = (
    "MIS integration",
    "Assessment tracking",
    "Parent communications",
    "Attendance analytics",
    "SEND support",
    "Safeguarding",
    "Curriculum planning",
    "Staff CPD",
    "Finance & budgeting",
    "Trust-wide reporting",
)


def upgrade() -> None:
    op.create_table(
        "interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=True),
        sa.Column("phase", sa.String(length=40), nullable=True),
        sa.Column("local_authority", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("urn"),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_index("ix_school_name_key", ["name_key"], unique=False)

    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=10000), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "prospect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("source_detail", sa.String(length=200), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_follow_up", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email_key", name="uq_prospect_email_key"),
    )
    with op.batch_alter_table("prospect", schema=None) as batch_op:
        batch_op.create_index("ix_prospect_last_contact_at", ["last_contact_at"], unique=False)
        batch_op.create_index("ix_prospect_last_name", ["last_name", "first_name"], unique=False)
        batch_op.create_index("ix_prospect_next_follow_up", ["next_follow_up"], unique=False)
        batch_op.create_index("ix_prospect_owner", ["owner"], unique=False)
        batch_op.create_index("ix_prospect_role", ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_prospect_school_id"), ["school_id"], unique=False)
        batch_op.create_index("ix_prospect_stage", ["stage"], unique=False)

    op.create_table(
        "correspondence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.String(length=20000), nullable=False),
        sa.Column("logged_by", sa.String(length=100), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("follow_up_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["prospect_id"], ["prospect.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("correspondence", schema=None) as batch_op:
        batch_op.create_index("ix_correspondence_follow_up", ["follow_up_on"], unique=False)
        batch_op.create_index(
            "ix_correspondence_prospect", ["prospect_id", "occurred_at"], unique=False
        )

    op.create_table(
        "prospect_interest",
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("interest_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["interest_id"], ["interest.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["prospect_id"], ["prospect.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("prospect_id", "interest_id"),
    )
    with op.batch_alter_table("prospect_interest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prospect_interest_interest_id"), ["interest_id"], unique=False
        )

    interest = sa.table("interest", sa.column("name", sa.String), sa.column("name_key", sa.String))
    op.bulk_insert(interest, [{"name": n, "name_key": n.lower()} for n in DEFAULT_INTERESTS])


def downgrade() -> None:
    with op.batch_alter_table("prospect_interest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prospect_interest_interest_id"))

    op.drop_table("prospect_interest")
    with op.batch_alter_table("correspondence", schema=None) as batch_op:
        batch_op.drop_index("ix_correspondence_prospect")
        batch_op.drop_index("ix_correspondence_follow_up")

    op.drop_table("correspondence")
    with op.batch_alter_table("prospect", schema=None) as batch_op:
        batch_op.drop_index("ix_prospect_stage")
        batch_op.drop_index(batch_op.f("ix_prospect_school_id"))
        batch_op.drop_index("ix_prospect_role")
        batch_op.drop_index("ix_prospect_owner")
        batch_op.drop_index("ix_prospect_next_follow_up")
        batch_op.drop_index("ix_prospect_last_name")
        batch_op.drop_index("ix_prospect_last_contact_at")

    op.drop_table("prospect")
    op.drop_table("setting")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index("ix_school_name_key")

    op.drop_table("school")
    op.drop_table("interest")
