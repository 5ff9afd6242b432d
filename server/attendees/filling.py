"""Fill a badge-only lead from the event's attendee list, on arrival and after an import.

Only empty fields are filled: what staff typed at the booth always stays. A fill takes a
new server version, so the tablet that captured the lead receives the fields with its
next pull; field_versions are left alone, so a later edit on the tablet still wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, or_, select

from server.attendees.models import Attendee
from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from server.versioning import next_server_version
from sync.attendees import ATTENDEE_FIELDS, normalise_id
from sync.contact import ContactError, normalise_email, normalise_phone

_ON_LIST = select(Attendee).where(
    Attendee.event_id == bindparam("event_id"),
    Attendee.badge_id.in_(bindparam("badge_ids", expanding=True)),
    Attendee.removed.is_(False),
)
# Found in one query per this many leads.
_CHUNK = 500


def lead_values(attendee: Attendee, region: str | None) -> dict[str, Any]:
    """Return an attendee's fields as a lead stores them (normalised; unusable ones left out)."""
    values: dict[str, Any] = {}
    for name in ATTENDEE_FIELDS:
        value = getattr(attendee, name)
        if not value:
            continue
        try:
            if name == "email":
                value = normalise_email(value)
            elif name == "phone":
                value = normalise_phone(value, region)
        except ContactError:
            continue
        values[name] = value
    return values


def _attendees(event: Event, badge_ids: Iterable[str]) -> dict[str, Attendee]:
    wanted = sorted(set(badge_ids))
    found: dict[str, Attendee] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for attendee in db.session.scalars(_ON_LIST, {"event_id": event.id, "badge_ids": chunk}):
            found[attendee.badge_id or ""] = attendee
    return found


def fill_captured(event: Event, row: dict[str, Any]) -> list[str]:
    """Fill a newly captured lead's empty fields (a row about to be inserted); return them."""
    badge_id = normalise_id(row.get("badge_payload"), event.badge_rules)
    if badge_id is None:
        return []
    attendee = _attendees(event, [badge_id]).get(badge_id)
    if attendee is None:
        return []
    values = lead_values(attendee, event.country)
    filled = [name for name in values if not row.get(name)]
    for name in filled:
        row[name] = values[name]
    return filled


def fill_waiting_leads(event: Event) -> int:
    """Fill the event's badge leads whose attendee the list now has; return how many changed."""
    empty = or_(*(getattr(Lead, name).is_(None) for name in ATTENDEE_FIELDS))
    leads = list(
        db.session.scalars(
            select(Lead).where(
                Lead.event_id == event.id,
                Lead.badge_payload.is_not(None),
                Lead.merged_into_id.is_(None),
                empty,
            )
        )
    )
    by_lead = {lead.id: normalise_id(lead.badge_payload, event.badge_rules) for lead in leads}
    attendees = _attendees(event, [badge for badge in by_lead.values() if badge])
    changed = 0
    for lead in leads:
        attendee = attendees.get(by_lead[lead.id] or "")
        if attendee is None:
            continue
        values = lead_values(attendee, event.country)
        filled = [name for name, value in values.items() if getattr(lead, name) is None]
        if not filled:
            continue
        for name in filled:
            setattr(lead, name, values[name])
        lead.server_version = next_server_version()
        db.session.add(
            Activity(
                lead_id=lead.id,
                kind=ActivityKind.EDITED,
                at=utcnow(),
                detail={"fields": filled, "from": "attendee_list"},
            )
        )
        changed += 1
    db.session.commit()
    return changed
