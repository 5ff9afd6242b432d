"""Add scoring (rubric versions, lead scores), routing rules and the alert outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:27:58.722662

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db_types

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "rubric",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rubric_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_rubric_versions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_versions")),
        sa.UniqueConstraint("event_id", "version", name=op.f("uq_rubric_versions_event_id")),
    )
    op.create_table(
        "alert_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "new_lead",
                "reminder",
                "escalated",
                name="alert_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "webhook",
                "chat",
                name="alert_channel",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "dead",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", server.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_alert_jobs_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(["rep_id"], ["users.id"], name=op.f("fk_alert_jobs_rep_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_jobs")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_alert_jobs_idempotency_key")),
    )
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_alert_jobs_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_jobs_lead_id"), ["lead_id"], unique=False)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "routing",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'{}'"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "alerts",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'{}'"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("escalation_minutes", sa.Integer(), server_default="15", nullable=False)
        )

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score_points", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "score_band",
                sa.Enum(
                    "hot",
                    "warm",
                    "cold",
                    name="score_band",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "score_reasons",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("rubric_version", sa.Integer(), nullable=True))
        for column in ("assigned_at", "alerted_at", "first_contact_at"):
            batch_op.add_column(
                sa.Column(column, server.db_types.UTCDateTime(timezone=True), nullable=True)
            )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alerts",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'{}'"),
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("alerts")

    with op.batch_alter_table("leads", schema=None) as batch_op:
        for column in ("assigned_at", "alerted_at", "first_contact_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("rubric_version")
        batch_op.drop_column("score_reasons")
        # SQLite rebuilds the table: the CHECK on the column must go first.
        batch_op.drop_constraint(batch_op.f("ck_leads_score_band"), type_="check")
        batch_op.drop_column("score_band")
        batch_op.drop_column("score_points")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("escalation_minutes")
        batch_op.drop_column("alerts")
        batch_op.drop_column("routing")

    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_jobs_lead_id"))
        batch_op.drop_index("ix_alert_jobs_due")

    op.drop_table("alert_jobs")
    op.drop_table("rubric_versions")
