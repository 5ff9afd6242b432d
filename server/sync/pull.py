"""Read the changes a tablet has not seen yet (docs/sync-protocol.md, pull)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from server.attachments.suggestions import card_changes
from server.attendees.pull import attendee_changes
from server.db_types import utcnow
from server.devices.models import Device
from server.errors import fail
from server.events.models import Event, EventMember
from server.extensions import db
from server.leads.models import Lead
from server.privacy.tombstones import tombstone_changes
from server.routing.router import start_of_day
from server.sync.pages import LEADS_AFTER, lead_changes
from server.versioning import current_server_version


def _changed_event(device: Device, cursor: int) -> Event | None:
    """Return the tablet's event with its team when it changed after cursor, else None."""
    # The event came with the tablet's token check; only a changed one needs its team.
    if device.event.server_version <= cursor:
        return None
    return db.session.scalars(
        select(Event)
        .where(Event.id == device.event_id)
        .options(selectinload(Event.members).selectinload(EventMember.user))
    ).first()


def pull(device: Device, cursor: int, limit: int) -> dict[str, Any]:
    """Return up to limit changes after cursor, in server-version order.

    A lead change's data is its JSON as the database wrote it (server/sync/pages.py);
    the others carry their row for ChangeSchema to dump.
    """
    leads = db.session.execute(
        LEADS_AFTER, {"device_id": device.id, "cursor": cursor, "limit": limit + 1}
    ).all()
    changes = lead_changes(leads)
    event = _changed_event(device, cursor)
    if event is not None:
        changes.append({"kind": "event", "version": event.server_version, "row": event})
    # Leads erased on the server (a person's request, retention): the tablet deletes them.
    changes += tombstone_changes(device.id, cursor, limit + 1)
    # The event's attendee list, so a badge id fills the form offline (docs/attendees.md).
    changes += attendee_changes(device.event_id, cursor, limit + 1)
    # What card reading found on the photos of its leads: offered to staff as suggestions.
    changes += card_changes(device.id, cursor, limit + 1)
    # Nothing after the cursor may mean it is from the future: the server was restored from
    # a backup. (With changes after it, it cannot be; so busy pulls skip the look-up.)
    if not changes and cursor > current_server_version():
        fail(
            410,
            "The cursor is newer than this server's data; download again from 0.",
            errors={"min_cursor": 0},
        )
    changes.sort(key=lambda change: change["version"])
    page = changes[:limit]
    return {
        "changes": page,
        "next_cursor": page[-1]["version"] if page else cursor,
        "has_more": len(changes) > limit,
        "server_time": utcnow(),
    }


# Every status request runs it: built once (docs/performance.md).
_BOOTH_COUNTS = select(
    func.count(), func.count().filter(Lead.received_at >= bindparam("since"))
).where(Lead.event_id == bindparam("event_id"))


def booth_counts(event: Event) -> tuple[int, int]:
    """Return how many leads the whole booth captured: in total, and today in the event's zone."""
    total, today = db.session.execute(
        _BOOTH_COUNTS, {"since": start_of_day(event), "event_id": event.id}
    ).one()
    return total, today
