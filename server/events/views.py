"""REST resources for events and the people who work them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.auth.guard import ALL_ROLES, MANAGERS, authorize
from server.auth.principal import current_principal
from server.events.access import get_visible_event, visible_events
from server.events.models import Event, EventMember
from server.events.schemas import EventListArgsSchema, EventSchema, MemberSchema
from server.events.service import (
    add_member,
    create_event,
    delete_event,
    remove_member,
    update_event,
)
from server.extensions import db
from server.json_body import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Trade-show events.")


@blp.route("")
class Events(MethodView):
    @authorize(*ALL_ROLES, device=True)
    @blp.arguments(EventListArgsSchema, location="query")
    @blp.response(200, EventSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[Event]:
        """List the events you may see."""
        query = visible_events(current_principal()).order_by(Event.starts_on.desc(), Event.id)
        if "active" in args:
            query = query.where(Event.active == args["active"])
        return list(db.session.scalars(query))

    @authorize(*MANAGERS)
    @blp.arguments(EventSchema)
    @blp.response(201, EventSchema)
    def post(self, fields: dict[str, Any]) -> Event:
        """Create an event."""
        return create_event(fields, current_principal().user)


@blp.route("/<id:event_id>")
class EventById(MethodView):
    @authorize(*ALL_ROLES, device=True)
    @blp.response(200, EventSchema)
    def get(self, event_id: int) -> Event:
        """Show an event with its questions, products and consent text."""
        return get_visible_event(current_principal(), event_id)

    @authorize(*MANAGERS)
    @blp.arguments(EventSchema(partial=True))
    @blp.response(200, EventSchema)
    def patch(self, fields: dict[str, Any], event_id: int) -> Event:
        """Change an event."""
        principal = current_principal()
        return update_event(get_visible_event(principal, event_id), fields, principal.user)

    @authorize(*MANAGERS)
    @blp.response(204)
    def delete(self, event_id: int) -> None:
        """Delete an event that has no leads or tablets yet."""
        delete_event(get_visible_event(current_principal(), event_id))


@blp.route("/<id:event_id>/members")
class Members(MethodView):
    @authorize(*ALL_ROLES, device=True)
    @blp.response(200, MemberSchema(many=True))
    def get(self, event_id: int) -> list[EventMember]:
        """List the people working an event (a tablet offers these as 'who is capturing')."""
        return get_visible_event(current_principal(), event_id).members

    @authorize(*MANAGERS)
    @blp.arguments(MemberSchema)
    @blp.response(201, MemberSchema)
    def post(self, fields: dict[str, Any], event_id: int) -> EventMember:
        """Add a person to an event."""
        return add_member(get_visible_event(current_principal(), event_id), fields["user_id"])


@blp.route("/<id:event_id>/members/<id:user_id>")
class MemberById(MethodView):
    @authorize(*MANAGERS)
    @blp.response(204)
    def delete(self, event_id: int, user_id: int) -> None:
        """Remove a person from an event."""
        remove_member(get_visible_event(current_principal(), event_id), user_id)
