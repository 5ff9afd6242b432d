"""Index leads by email and by phone across events (a person's earlier touches, rights requests).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Every alert lists the person's earlier touches at any event: without these, each
    # alert read the whole leads table (the per-event indexes lead with event_id).
    op.create_index("ix_leads_email", "leads", ["email"])
    op.create_index("ix_leads_phone", "leads", ["phone"])


def downgrade():
    op.drop_index("ix_leads_phone", table_name="leads")
    op.drop_index("ix_leads_email", table_name="leads")
