"""Who may import and change an event's attendee list: its managers only."""

from __future__ import annotations

from sqlalchemy import select

from server.auth.principal import Principal
from server.errors import fail
from server.events.access import get_visible_event
from server.events.models import Event, EventMember
from server.extensions import db
from server.users.models import Role

MESSAGE = "Only admins, and marketers on this event's team, manage its attendee list."


def manages_list(principal: Principal, event: Event) -> bool:
    """Tell whether principal manages event's attendee list (admin, or marketer on its team)."""
    if principal.has_role(Role.ADMIN):
        return True
    if not principal.has_role(Role.MARKETER):
        return False
    assert principal.user is not None
    member = select(EventMember.id).where(
        EventMember.event_id == event.id, EventMember.user_id == principal.user.id
    )
    return db.session.scalar(member) is not None


def list_event(principal: Principal, event_id: int) -> Event:
    """Return the event whose list principal manages; 404 if unseen, 403 if not theirs."""
    event = get_visible_event(principal, event_id)
    if not manages_list(principal, event):
        fail(403, MESSAGE)
    return event
