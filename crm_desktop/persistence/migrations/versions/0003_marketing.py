"""Marketing permissions, consent ledger, LI assessments, suppression list, exports.

Revision ID: 0003
Revises: 0002
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=5000), nullable=True),
        sa.Column("personalised", sa.Boolean(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("filters", sa.String(length=10000), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("exclusions", sa.String(length=10000), nullable=False),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "li_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=5000), nullable=False),
        sa.Column("necessity", sa.String(length=5000), nullable=False),
        sa.Column("balancing", sa.String(length=5000), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest", "channel", name="uq_suppression_digest_channel"),
    )
    op.create_table(
        "export_member",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["export_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("export_id", "prospect_id"),
    )
    with op.batch_alter_table("export_member", schema=None) as batch_op:
        batch_op.create_index("ix_export_member_prospect", ["prospect_id"], unique=False)

    op.create_table(
        "channel_permission",
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_method", sa.String(length=30), nullable=True),
        sa.Column("consent_wording", sa.String(length=5000), nullable=True),
        sa.Column("consent_policy_version", sa.String(length=50), nullable=True),
        sa.Column("consent_given_by", sa.String(length=200), nullable=True),
        sa.Column("consent_recorded_by", sa.String(length=100), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opt_out_source", sa.String(length=30), nullable=True),
        sa.Column("opt_out_reason", sa.String(length=5000), nullable=True),
        sa.ForeignKeyConstraint(["prospect_id"], ["prospect.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("prospect_id", "channel"),
    )
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("details", sa.String(length=20000), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["prospect_id"], ["prospect.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index("ix_consent_event_prospect", ["prospect_id", "id"], unique=False)

    # Plain ADD COLUMN (not a batch table rebuild, which would drop the FTS
    # triggers on prospect).
    op.add_column(
        "prospect",
        sa.Column("lawful_basis", sa.String(length=30), nullable=False, server_default="none"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint later, but takes one inline.
        op.execute(
            "ALTER TABLE prospect ADD COLUMN li_assessment_id INTEGER "
            "REFERENCES li_assessment (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("prospect", sa.Column("li_assessment_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_prospect_li_assessment_id",
            "prospect",
            "li_assessment",
            ["li_assessment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("prospect", sa.Column("li_note", sa.String(length=5000), nullable=True))
    op.add_column(
        "prospect", sa.Column("subscriber_type_override", sa.String(length=20), nullable=True)
    )
    op.add_column(
        "prospect",
        sa.Column(
            "personalisation_refused", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.add_column("prospect", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("prospect", sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "prospect", sa.Column("restriction_reason", sa.String(length=5000), nullable=True)
    )

    # The per-database key for suppression-list hashes.
    setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(setting, [{"key": "suppression_hmac_key", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    raise RuntimeError(
        "Downgrading below 0003 is not supported: restore the backup written before the upgrade."
    )
