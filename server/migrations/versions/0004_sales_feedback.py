"""Add duplicate merging, outcomes, disqualification reasons and thank-you emails.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:40:00

"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# disqualification reasons: frozen here (server/events/models.py has the live list).
DEFAULT_DISQUALIFICATION_REASONS = [
    "No budget",
    "No need",
    "Competitor customer",
    "Student or job seeker",
    "Wrong contact",
    "Other",
]

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
)


def _activity_kind_check(batch_op, kinds):
    names = ", ".join(f"'{kind}'" for kind in kinds)
    batch_op.create_check_constraint("activity_kind", sa.text(f"kind IN ({names})"))


# thank-you emails
ALERT_KINDS = ("new_lead", "reminder", "escalated")


def _alert_kind_check(batch_op, kinds):
    names = ", ".join(f"'{kind}'" for kind in kinds)
    batch_op.create_check_constraint("alert_kind", sa.text(f"kind IN ({names})"))


def upgrade():
    # duplicate merging
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_merged_into_id_leads"), "leads", ["merged_into_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_leads_merged_into_id"), ["merged_into_id"])
        batch_op.create_index("ix_leads_event_phone", ["event_id", "phone"])
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_activities_activity_kind"), type_="check")
        _activity_kind_check(batch_op, (*ACTIVITY_KINDS, "merged", "recaptured"))

    # thank-you emails (alert jobs to the visitor: no rep, the consent version relied on)
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_version", sa.Integer(), nullable=True))
        batch_op.alter_column("rep_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_kind"), type_="check")
        _alert_kind_check(batch_op, (*ALERT_KINDS, "thank_you"))
    # end of thank-you emails

    # disqualification reasons (each event's list; existing events get the default one)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "disqualification_reasons",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text(f"'{json.dumps(DEFAULT_DISQUALIFICATION_REASONS)}'"),
                nullable=False,
            )
        )
    # end of disqualification reasons


def downgrade():
    # disqualification reasons
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("disqualification_reasons")
    # end of disqualification reasons

    # thank-you emails
    op.execute(sa.text("DELETE FROM alert_jobs WHERE kind = 'thank_you'"))
    with op.batch_alter_table("alert_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_alert_jobs_alert_kind"), type_="check")
        _alert_kind_check(batch_op, ALERT_KINDS)
        batch_op.alter_column("rep_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("consent_version")
    # end of thank-you emails

    # duplicate merging
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_activities_activity_kind"), type_="check")
        _activity_kind_check(batch_op, ACTIVITY_KINDS)
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_event_phone")
        batch_op.drop_index(batch_op.f("ix_leads_merged_into_id"))
        batch_op.drop_constraint(batch_op.f("fk_leads_merged_into_id_leads"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
