"""REST resources for admins: alert jobs (dead letters first) and putting one back to work."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.alerts.dead_letters import list_jobs, retry
from server.alerts.schemas import AlertJobSchema, AlertListArgsSchema, AlertPageSchema
from server.auth.guard import authorize
from server.json_body import Blueprint
from server.users.models import Role

blp = Blueprint(
    "alerts", __name__, url_prefix="/api/v1/alerts", description="Alert jobs and dead letters."
)


@blp.route("")
class Alerts(MethodView):
    @authorize(Role.ADMIN)
    @blp.arguments(AlertListArgsSchema, location="query")
    @blp.response(200, AlertPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List alert jobs in one status (dead by default), newest first."""
        return list_jobs(args)


@blp.route("/<id:job_id>/retry")
class AlertRetry(MethodView):
    @authorize(Role.ADMIN)
    @blp.response(200, AlertJobSchema)
    def post(self, job_id: int) -> dict[str, Any]:
        """Send a dead alert again: back to pending, attempts reset, due now."""
        return retry(job_id)
