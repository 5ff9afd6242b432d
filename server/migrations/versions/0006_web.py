"""Add what the web pages and dashboard need.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:40:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # --- indexes for the dashboard figures and exports ---
    op.create_index("ix_leads_event_captured", "leads", ["event_id", "captured_at"])
    # --- end of the stats indexes ---


def downgrade():
    # --- indexes for the dashboard figures and exports ---
    op.drop_index("ix_leads_event_captured", table_name="leads")
    # --- end of the stats indexes ---
