"""Attendee lists per event: the list's rows, its imports, and the event's badge rules.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:20:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("badge_rules", _JSON, server_default=sa.text("'{}'"), nullable=False)
        )
    op.create_table(
        "attendees",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("badge_id", sa.String(length=128), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("phone_tail", sa.String(length=8), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_attendees_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendees")),
        sa.UniqueConstraint("event_id", "badge_id", name=op.f("uq_attendees_event_id")),
    )
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.create_index("ix_attendees_event_version", ["event_id", "server_version"])
        batch_op.create_index(batch_op.f("ix_attendees_server_version"), ["server_version"])
        batch_op.create_index(batch_op.f("ix_attendees_email"), ["email"])
        batch_op.create_index(batch_op.f("ix_attendees_phone_tail"), ["phone_tail"])
    op.create_table(
        "attendee_imports",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mapping", _JSON, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "uploaded",
                "running",
                "done",
                "failed",
                name="import_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("erased_skipped", sa.Integer(), nullable=False),
        sa.Column("leads_filled", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_attendee_imports_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_attendee_imports_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendee_imports")),
    )
    with op.batch_alter_table("attendee_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendee_imports_event_id"), ["event_id"])


def downgrade():
    op.drop_table("attendee_imports")
    op.drop_table("attendees")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("badge_rules")
