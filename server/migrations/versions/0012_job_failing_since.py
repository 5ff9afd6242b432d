"""Remember since when an outbox job has been failing, so CRM pushes retry for hours, not tries.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 18:40:00

"""

import sqlalchemy as sa
from alembic import op

import server.db_types

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", server.db_types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
