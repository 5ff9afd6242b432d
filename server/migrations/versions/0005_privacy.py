"""Add consent records, data-subject rights, audit log and retention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db_types

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at() -> sa.Column:
    return sa.Column("at", server.db_types.UTCDateTime(timezone=True), nullable=False)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        _at(),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "action",
            _enum(
                "audit_action",
                "search",
                "consent_text",
                "access_export",
                "erasure",
                "retention",
                "retention_setting",
            ),
            nullable=False,
        ),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "erasures",
        sa.Column("id", BIG_ID, nullable=False),
        _at(),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("email_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_erasures_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasures_email_hash"), ["email_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_erasures_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "lead_tombstones",
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=False),
        sa.Column("reason", _enum("forget_reason", "erased", "retention"), nullable=False),
        _at(),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_lead_tombstones_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_tombstones")),
    )
    with op.batch_alter_table("lead_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_tombstones_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lead_tombstones_server_version"), ["server_version"], unique=False
        )

    op.create_table(
        "recaptures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("erasure_id", sa.BigInteger(), nullable=False),
        _at(),
        sa.ForeignKeyConstraint(
            ["erasure_id"], ["erasures.id"], name=op.f("fk_recaptures_erasure_id_erasures")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_recaptures_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recaptures")),
    )
    with op.batch_alter_table("recaptures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recaptures_lead_id"), ["lead_id"], unique=False)

    op.create_table(
        "event_retention",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_retention_event_id_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_retention")),
    )

    op.create_table(
        "consent_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_consent_texts_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_consent_texts_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_texts")),
        sa.UniqueConstraint(
            "event_id", "version", "language", name=op.f("uq_consent_texts_event_id")
        ),
    )
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_texts_event_id"), ["event_id"], unique=False)

    op.create_table(
        "consent_records",
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("text_version", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("purposes", JSON, nullable=False),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["captured_by_id"], ["users.id"], name=op.f("fk_consent_records_captured_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_consent_records_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_consent_records_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_consent_records")),
    )


def downgrade():
    op.drop_table("consent_records")
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_texts_event_id"))
    op.drop_table("consent_texts")
    op.drop_table("event_retention")
    with op.batch_alter_table("recaptures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recaptures_lead_id"))
    op.drop_table("recaptures")
    with op.batch_alter_table("lead_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_tombstones_server_version"))
        batch_op.drop_index(batch_op.f("ix_lead_tombstones_device_id"))
    op.drop_table("lead_tombstones")
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasures_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_erasures_email_hash"))
    op.drop_table("erasures")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
