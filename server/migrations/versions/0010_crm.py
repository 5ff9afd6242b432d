"""Add CRM connections, the CRM record of each pushed lead, and CRM outbox jobs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ALERT_KINDS = ("new_lead", "reminder", "escalated", "thank_you")
CHANNELS = ("email", "webhook", "chat")
ACTIVITY_KINDS = (
    "captured",
    "received",
    "scored",
    "routed",
    "alerted",
    "acknowledged",
    "status_changed",
    "reassigned",
    "edited",
    "merged",
    "recaptured",
)


def _check(batch_op, name, column, values):
    names = ", ".join(f"'{value}'" for value in values)
    batch_op.create_check_constraint(name, sa.text(f"{column} IN ({names})"))


def _kinds(alert_kinds, channels, activity_kinds):
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_channel"), type_="check")
        _check(batch_op, "alert_kind", "kind", alert_kinds)
        _check(batch_op, "alert_channel", "channel", channels)
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_activities_activity_kind"), type_="check")
        _check(batch_op, "activity_kind", "kind", activity_kinds)


def upgrade():
    op.create_table(
        "crm_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hubspot",
                "salesforce",
                "pipedrive",
                name="crm_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("base_url", sa.String(length=300), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("field_mapping", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("owner_mapping", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("poll_cursor", sa.String(length=200), nullable=True),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_crm_connections_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_connections")),
        sa.UniqueConstraint("event_id", name=op.f("uq_crm_connections_event_id")),
    )
    op.create_table(
        "crm_records",
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("note_owed", sa.Boolean(), nullable=False),
        sa.Column("last_outcome", sa.String(length=200), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_records_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_crm_records_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_crm_records")),
    )
    op.create_index(
        "ix_crm_records_connection_record", "crm_records", ["connection_id", "record_id"]
    )
    _kinds((*ALERT_KINDS, "crm_sync"), (*CHANNELS, "crm"), (*ACTIVITY_KINDS, "crm_synced"))


def downgrade():
    op.execute(sa.text("DELETE FROM alert_jobs WHERE kind = 'crm_sync'"))
    op.execute(sa.text("DELETE FROM activities WHERE kind = 'crm_synced'"))
    _kinds(ALERT_KINDS, CHANNELS, ACTIVITY_KINDS)
    op.drop_index("ix_crm_records_connection_record", table_name="crm_records")
    op.drop_table("crm_records")
    op.drop_table("crm_connections")
