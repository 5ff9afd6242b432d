"""REST resources for an event's figures and for comparing events."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.auth.guard import MANAGERS, authorize
from server.auth.principal import current_principal
from server.events.access import get_visible_event
from server.json_body import Blueprint
from server.stats.schemas import CompareArgsSchema, EventStatsSchema
from server.stats.service import compare_events, live_event_stats

blp = Blueprint(
    "stats", __name__, url_prefix="/api/v1", description="Per-event figures for marketers."
)


@blp.route("/events/<id:event_id>/stats")
class EventStats(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, EventStatsSchema)
    def get(self, event_id: int) -> dict[str, Any]:
        """Show an event's live figures: capture, funnel, speed to lead, outcomes, cost."""
        get_visible_event(current_principal(), event_id)
        return live_event_stats(event_id)


@blp.route("/stats/compare")
class CompareStats(MethodView):
    @authorize(*MANAGERS)
    @blp.arguments(CompareArgsSchema, location="query")
    @blp.response(200, EventStatsSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Show the figures of several events side by side, in the order asked."""
        principal = current_principal()
        for event_id in args["event_id"]:
            get_visible_event(principal, event_id)
        return compare_events(args["event_id"])
