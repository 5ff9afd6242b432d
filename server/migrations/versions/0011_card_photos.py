"""Card photos of leads, and the card-reading job kind of the outbox.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ALERT_KINDS = ("new_lead", "reminder", "escalated", "thank_you", "crm_sync")
CHANNELS = ("email", "webhook", "chat", "crm")


def _checks(batch_op, kinds, channels):
    batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_kind"), type_="check")
    batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_channel"), type_="check")
    kind_names = ", ".join(f"'{kind}'" for kind in kinds)
    batch_op.create_check_constraint("alert_kind", sa.text(f"kind IN ({kind_names})"))
    channel_names = ", ".join(f"'{channel}'" for channel in channels)
    batch_op.create_check_constraint("alert_channel", sa.text(f"channel IN ({channel_names})"))


def upgrade():
    op.create_table(
        "card_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "suggestions",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("server_version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_card_photos_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_card_photos_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_photos")),
        sa.UniqueConstraint("lead_id", "sha256", name="uq_card_photos_lead_sha256"),
    )
    with op.batch_alter_table("card_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_photos_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_card_photos_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            "ix_card_photos_device_version", ["device_id", "server_version"], unique=False
        )
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        _checks(batch_op, (*ALERT_KINDS, "card_reading"), (*CHANNELS, "internal"))


def downgrade():
    op.execute("DELETE FROM alert_jobs WHERE kind = 'card_reading'")
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        _checks(batch_op, ALERT_KINDS, CHANNELS)
    with op.batch_alter_table("card_photos", schema=None) as batch_op:
        batch_op.drop_index("ix_card_photos_device_version")
        batch_op.drop_index(batch_op.f("ix_card_photos_sha256"))
        batch_op.drop_index(batch_op.f("ix_card_photos_lead_id"))
    op.drop_table("card_photos")
