"""Retention: erase leads nobody worked on, a set number of days after their event ended.

The event's attendee list (server/attendees) is removed at the same time.

An event's retention_days (table event_retention; unset means keep) counts from the
day after the show's last day. A lead is kept when its owner acted on it (any timeline
entry by the owner), acknowledged it or recorded a first contact; every other lead of
an expired event is erased as an erasure request would erase it, tombstones included.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, select

from server.attendees.erasure import remove_event_list
from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db
from server.leads.models import Activity, Lead
from server.privacy.models import AuditAction, AuditEntry, EventRetention, ForgetReason
from server.privacy.service import forget
from server.users.models import User


def set_retention(event: Event, days: int | None, actor: User) -> EventRetention | None:
    """Set (or with None, clear) how many days after the event its idle leads are kept."""
    setting = db.session.get(EventRetention, event.id)
    if days is None:
        if setting is not None:
            db.session.delete(setting)
    elif setting is None:
        setting = EventRetention(event_id=event.id, retention_days=days)
        db.session.add(setting)
    else:
        setting.retention_days = days
    db.session.add(
        AuditEntry(
            actor_user_id=actor.id,
            action=AuditAction.RETENTION_SETTING,
            detail={"event_id": event.id, "retention_days": days},
        )
    )
    db.session.commit()
    return None if days is None else setting


def _idle_leads(event_id: int) -> list[Lead]:
    owner_acted = exists().where(
        and_(Activity.lead_id == Lead.id, Activity.actor_user_id == Lead.owner_id)
    )
    return list(
        db.session.scalars(
            select(Lead).where(
                Lead.event_id == event_id,
                Lead.acknowledged_at.is_(None),
                Lead.first_contact_at.is_(None),
                ~owner_acted,
            )
        )
    )


def erase_expired(today: date | None = None) -> list[dict[str, Any]]:
    """Erase the idle leads of every event past its retention; return what was done per event.

    One transaction per event, each written to the audit log.
    """
    day = today or utcnow().date()
    done = []
    settings = db.session.execute(
        select(EventRetention.event_id, EventRetention.retention_days, Event.ends_on).join(
            Event, Event.id == EventRetention.event_id
        )
    ).all()
    for event_id, days, ends_on in settings:
        if ends_on + timedelta(days=days) >= day:
            continue
        leads = _idle_leads(event_id)
        # The organiser's list served the show: it goes with the idle leads.
        attendees = remove_event_list(event_id)
        if not leads and not attendees:
            continue
        counts = forget(leads, ForgetReason.RETENTION)
        detail = {"event_id": event_id, "retention_days": days, "deleted": counts}
        if attendees:
            detail["attendees_removed"] = attendees
        db.session.add(
            AuditEntry(action=AuditAction.RETENTION, lead_count=len(leads), detail=detail)
        )
        db.session.commit()
        entry: dict[str, Any] = {"event_id": event_id, "leads_erased": len(leads)}
        if attendees:
            entry["attendees_removed"] = attendees
        done.append(entry)
    return done
