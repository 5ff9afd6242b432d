"""Hot leads nobody acknowledged: remind the owner, then hand the lead to the backup owner.

After the event's escalation time (default 15 minutes) from assignment the owner gets a
reminder; after twice that the lead goes to the event's backup owner, who is alerted.
Both steps are on the lead's timeline, and the new owner reaches the tablets by pull.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from server.alerts.models import AlertKind
from server.alerts.outbox import alert_rows, insert_new_alerts
from server.events.models import Event
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead, LeadStatus, Rating
from server.users.models import User
from server.versioning import next_server_version

ROUND_LIMIT = 500


def _hot_and_waiting(now: datetime) -> list[Lead]:
    """Return hot unacknowledged leads assigned at least the shortest escalation time ago.

    This runs every round (twice a second); at a busy show most waiting leads are minutes
    old, not due, and loading them all each round cost the worker a third of its time.
    """
    shortest = db.session.scalar(select(func.min(Event.escalation_minutes)))
    if shortest is None:
        return []
    due_before = now - timedelta(minutes=shortest)
    return list(
        db.session.scalars(
            select(Lead)
            .where(Lead.status == LeadStatus.ASSIGNED, Lead.acknowledged_at.is_(None))
            .where(Lead.assigned_at.is_not(None), Lead.assigned_at <= due_before)
            .where(or_(Lead.rating == Rating.HOT, Lead.score_band == Rating.HOT))
            .order_by(Lead.assigned_at)
            .limit(ROUND_LIMIT)
        )
    )


def escalate_due(now: datetime) -> None:
    """Send due reminders and reassign overdue hot leads; commit."""
    for lead in _hot_and_waiting(now):
        event = lead.event
        waited = now - lead.assigned_at
        limit = timedelta(minutes=event.escalation_minutes)
        owner = db.session.get(User, lead.owner_id)
        backup = db.session.get(User, (event.routing or {}).get("backup_owner_id") or 0)
        if waited >= 2 * limit and backup is not None and backup.active and backup.id != owner.id:
            db.session.add(
                Activity(
                    lead_id=lead.id,
                    kind=ActivityKind.REASSIGNED,
                    at=now,
                    detail={
                        "from_owner_id": owner.id,
                        "to_owner_id": backup.id,
                        "rule": "escalation",
                    },
                )
            )
            lead.server_version = next_server_version()
            lead.owner_id, lead.assigned_at = backup.id, now
            insert_new_alerts(alert_rows(event, backup, lead.id, AlertKind.ESCALATED, now))
        elif waited >= limit and owner is not None:
            insert_new_alerts(alert_rows(event, owner, lead.id, AlertKind.REMINDER, now))
    db.session.commit()
