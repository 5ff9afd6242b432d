"""Take a person off every attendee list when they ask to be forgotten (server/privacy)."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update

from server.attendees.matching import phone_tail, same_phone
from server.attendees.models import Attendee
from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db
from server.versioning import reserve_server_versions
from sync.attendees import ATTENDEE_FIELDS


def remove_person(email: str | None, phone: str | None) -> int:
    """Empty and mark removed every attendee row of the person; return how many.

    email and phone are normalised (sync/contact.py). Call inside the erasure's
    transaction; the rows take new versions, so tablets holding them delete them.
    """
    conditions = []
    if email:
        conditions.append(Attendee.email == email)
    tail = phone_tail(phone)
    if tail:
        conditions.append(Attendee.phone_tail == tail)
    if not conditions:
        return 0
    candidates = db.session.execute(
        select(Attendee, Event.country)
        .join(Event, Event.id == Attendee.event_id)
        .where(Attendee.removed.is_(False), or_(*conditions))
        .order_by(Attendee.id)
    ).all()
    matches = [
        attendee
        for attendee, country in candidates
        if (email and attendee.email == email)
        or (phone and same_phone(attendee.phone, phone, country))
    ]
    if not matches:
        return 0
    first = reserve_server_versions(len(matches))
    now = utcnow()
    for offset, attendee in enumerate(matches):
        for name in (*ATTENDEE_FIELDS, "badge_id", "phone_tail"):
            setattr(attendee, name, None)
        attendee.removed = True
        attendee.server_version = first + offset
        attendee.updated_at = now
    return len(matches)


def remove_event_list(event_id: int) -> int:
    """Empty and mark removed every attendee of an event (its retention ran out); return how many.

    One UPDATE however long the list: each row still takes a version of its own (pages of
    a pull must never split rows sharing one), taken as a block spanning the rows' ids.
    """
    low, high, count = db.session.execute(
        select(func.min(Attendee.id), func.max(Attendee.id), func.count()).where(
            Attendee.event_id == event_id, Attendee.removed.is_(False)
        )
    ).one()
    if not count:
        return 0
    first = reserve_server_versions(high - low + 1)
    db.session.execute(
        update(Attendee)
        .where(Attendee.event_id == event_id, Attendee.removed.is_(False))
        .values(
            {name: None for name in (*ATTENDEE_FIELDS, "badge_id", "phone_tail")}
            | {
                "removed": True,
                "server_version": Attendee.id - low + first,
                "updated_at": utcnow(),
            }
        ),
        execution_options={"synchronize_session": False},
    )
    return int(count)
