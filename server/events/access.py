"""Which events a caller may see."""

from __future__ import annotations

from sqlalchemy import Select, select

from server.auth.principal import Principal
from server.errors import fail
from server.events.models import Event, EventMember
from server.extensions import db


def visible_events(principal: Principal) -> Select[tuple[Event]]:
    """Return a query of the events principal may read."""
    query = select(Event)
    if principal.device is not None:
        return query.where(Event.id == principal.device.event_id)
    if principal.is_manager:
        return query
    assert principal.user is not None
    member_of = select(EventMember.event_id).where(EventMember.user_id == principal.user.id)
    return query.where(Event.id.in_(member_of))


def get_visible_event(principal: Principal, event_id: int) -> Event:
    """Return the event if principal may read it; otherwise answer 404 as if it did not exist."""
    event = db.session.scalars(visible_events(principal).where(Event.id == event_id)).first()
    if event is None:
        fail(404, "No such event.")
    return event
