"""Create the initial schema: users, events, tablets, leads and their timeline.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:32:34.861447

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db_types

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    # The one server-version counter every writing transaction bumps (server/versioning.py).
    op.execute("INSERT INTO counters (name, value) VALUES ('server_version', 0)")
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("booth", sa.String(length=100), nullable=True),
        sa.Column("campaign_code", sa.String(length=100), nullable=True),
        sa.Column("cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("target_leads", sa.Integer(), nullable=True),
        sa.Column("target_hot_leads", sa.Integer(), nullable=True),
        sa.Column(
            "questions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "products",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.Integer(), nullable=False),
        sa.Column(
            "rubric",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_server_version"), ["server_version"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "marketer",
                "rep",
                "staff",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column(
            "territory",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "products",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("daily_capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("paired_by_id", sa.Integer(), nullable=True),
        sa.Column("paired_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_devices_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["paired_by_id"], ["users.id"], name=op.f("fk_devices_paired_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_devices_revoked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_members_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_members")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_members_event_id")),
    )
    with op.batch_alter_table("event_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_members_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "leads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("captured_by_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "badge",
                "manual",
                "card_photo",
                name="lead_source",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("badge_payload", sa.Text(), nullable=True),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "products",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "rating",
            sa.Enum(
                "hot",
                "warm",
                "cold",
                name="rating",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.Column("consent_given", sa.Boolean(), nullable=False),
        sa.Column("consent_version", sa.Integer(), nullable=True),
        sa.Column("consent_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consent_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "assigned",
                "acknowledged",
                "contacted",
                "meeting",
                "qualified",
                "disqualified",
                "won",
                "lost",
                name="lead_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("deal_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("server_version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["captured_by_id"], ["users.id"], name=op.f("fk_leads_captured_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["consent_by_id"], ["users.id"], name=op.f("fk_leads_consent_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_leads_device_id_devices")
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_leads_event_id_events")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_leads_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leads_device_id"), ["device_id"], unique=False)
        batch_op.create_index("ix_leads_event_email", ["event_id", "email"], unique=False)
        batch_op.create_index("ix_leads_event_received", ["event_id", "received_at"], unique=False)
        batch_op.create_index("ix_leads_event_status", ["event_id", "status"], unique=False)
        batch_op.create_index("ix_leads_owner_status", ["owner_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_leads_server_version"), ["server_version"], unique=False
        )

    op.create_table(
        "pairing_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pairing_codes_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_pairing_codes_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_pairing_codes_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_pairing_codes_code_hash")),
    )
    with op.batch_alter_table("pairing_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairing_codes_event_id"), ["event_id"], unique=False)

    op.create_table(
        "activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "captured",
                "received",
                "scored",
                "routed",
                "alerted",
                "acknowledged",
                "status_changed",
                "reassigned",
                "edited",
                name="activity_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_device_id", sa.Integer(), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_device_id"], ["devices.id"], name=op.f("fk_activities_actor_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_activities_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_activities_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_lead_id"), ["lead_id"], unique=False)


def downgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_lead_id"))

    op.drop_table("activities")
    with op.batch_alter_table("pairing_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairing_codes_event_id"))

    op.drop_table("pairing_codes")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_server_version"))
        batch_op.drop_index("ix_leads_owner_status")
        batch_op.drop_index("ix_leads_event_status")
        batch_op.drop_index("ix_leads_event_received")
        batch_op.drop_index("ix_leads_event_email")
        batch_op.drop_index(batch_op.f("ix_leads_device_id"))

    op.drop_table("leads")
    with op.batch_alter_table("event_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_event_members_event_id"))

    op.drop_table("event_members")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_event_id"))

    op.drop_table("devices")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_server_version"))

    op.drop_table("events")
    op.drop_table("counters")
