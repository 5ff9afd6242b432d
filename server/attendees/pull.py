"""Attendee rows as pull changes: a tablet receives its event's list in the ordered pull."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from server.attendees.models import Attendee
from server.extensions import db
from sync.attendees import ATTENDEE_FIELDS

# Run by every pull: built once (docs/performance.md).
_ATTENDEES_AFTER = (
    select(Attendee)
    .where(
        Attendee.event_id == bindparam("event_id"),
        Attendee.server_version > bindparam("cursor"),
    )
    .order_by(Attendee.server_version)
    .limit(bindparam("limit"))
)


def attendee_changes(event_id: int, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Return up to limit attendee changes of event_id after cursor, in version order."""
    rows = db.session.scalars(
        _ATTENDEES_AFTER, {"event_id": event_id, "cursor": cursor, "limit": limit}
    ).all()
    return [{"kind": "attendee", "version": row.server_version, "row": row} for row in rows]


def attendee_data(attendee: Attendee) -> dict[str, Any]:
    """Return what a tablet stores of an attendee; a removed one is only its id."""
    if attendee.removed:
        return {"id": attendee.id, "removed": True}
    return {
        "id": attendee.id,
        "removed": False,
        "badge_id": attendee.badge_id,
        **{name: getattr(attendee, name) for name in ATTENDEE_FIELDS},
    }
