"""Clear the band of leads scored by a rubric without rules (it was invented from 0 points).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00

"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

leads = sa.table(
    "leads",
    sa.column("event_id", sa.Integer),
    sa.column("rubric_version", sa.Integer),
    sa.column("score_band", sa.String),
)
rubric_versions = sa.table(
    "rubric_versions",
    sa.column("event_id", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("rubric", sa.Text),
)


def _has_rules(stored) -> bool:
    rubric = json.loads(stored) if isinstance(stored, str) else stored
    return bool(rubric and rubric.get("rules"))


def upgrade():
    connection = op.get_bind()
    # Version 0 is the empty rubric every event starts with (sync/scoring.py EMPTY_RUBRIC).
    connection.execute(
        leads.update()
        .where(sa.or_(leads.c.rubric_version.is_(None), leads.c.rubric_version == 0))
        .values(score_band=None)
    )
    # A rubric can also be saved with no rules; sync/scoring.py now gives those no band.
    empty = [
        (event_id, version)
        for event_id, version, rubric in connection.execute(sa.select(rubric_versions))
        if not _has_rules(rubric)
    ]
    for event_id, version in empty:
        connection.execute(
            leads.update()
            .where(leads.c.event_id == event_id, leads.c.rubric_version == version)
            .values(score_band=None)
        )


def downgrade():
    # Nothing to restore: the cleared bands were never a rubric's judgement.
    pass
