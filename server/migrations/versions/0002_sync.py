"""Add sync state: mutation receipts, per-device mutation ids, per-field versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:53:33.266858

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db_types

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mutation_receipts",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("mutation_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", server.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_mutation_receipts_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "mutation_id", name=op.f("pk_mutation_receipts")),
    )
    with op.batch_alter_table("mutation_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mutation_receipts_lead_id"), ["lead_id"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_mutation_id", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "field_versions",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'{}'"),
                nullable=False,
            )
        )
        batch_op.drop_index(batch_op.f("ix_leads_device_id"))
        batch_op.create_index(
            "ix_leads_device_version", ["device_id", "server_version"], unique=False
        )


def downgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_device_version")
        batch_op.create_index(batch_op.f("ix_leads_device_id"), ["device_id"], unique=False)
        batch_op.drop_column("field_versions")

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("last_mutation_id")

    with op.batch_alter_table("mutation_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mutation_receipts_lead_id"))

    op.drop_table("mutation_receipts")
