"""REST resources for leads and their timeline."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from server.auth.guard import MANAGERS, authorize
from server.auth.principal import current_principal
from server.json_body import Blueprint
from server.leads.access import get_visible_lead
from server.leads.models import Activity, Lead
from server.leads.schemas import (
    ActivitySchema,
    LeadCreateSchema,
    LeadListArgsSchema,
    LeadPageSchema,
    LeadSchema,
    LeadUpdateSchema,
)
from server.leads.service import change_lead, ingest_lead, list_leads, timeline
from server.users.models import Role

blp = Blueprint("leads", __name__, url_prefix="/api/v1/leads", description="Captured leads.")

READERS = (*MANAGERS, Role.REP)


@blp.route("")
class Leads(MethodView):
    @authorize(*READERS, device=True)
    @blp.arguments(LeadListArgsSchema(), location="query")
    @blp.response(200, LeadPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the leads you may see, newest first."""
        return list_leads(current_principal(), args)

    @authorize(device=True)
    @blp.arguments(LeadCreateSchema)
    @blp.response(201, LeadSchema)
    @blp.alt_response(200, schema=LeadSchema, description="The lead was already stored.")
    def post(self, fields: dict[str, Any]) -> tuple[Lead, int]:
        """Store a lead captured on this tablet (idempotent by lead id)."""
        device = current_principal().device
        assert device is not None
        lead, created = ingest_lead(device, fields)
        return lead, 201 if created else 200


@blp.route("/<uuid:lead_id>")
class LeadById(MethodView):
    @authorize(*READERS, device=True)
    @blp.response(200, LeadSchema)
    def get(self, lead_id: uuid.UUID) -> Lead:
        """Show a lead."""
        return get_visible_lead(current_principal(), lead_id)

    @authorize(*READERS)
    @blp.arguments(LeadUpdateSchema(partial=True))
    @blp.response(200, LeadSchema)
    def patch(self, changes: dict[str, Any], lead_id: uuid.UUID) -> Lead:
        """Correct a lead's details, move it along the funnel, or give it another owner."""
        principal = current_principal()
        # With its event: a status change checks the event's disqualification reasons.
        lead = get_visible_lead(principal, lead_id, with_event=True)
        return change_lead(principal, lead, changes)


@blp.route("/<uuid:lead_id>/timeline")
class LeadTimeline(MethodView):
    @authorize(*READERS)
    @blp.response(200, ActivitySchema(many=True))
    def get(self, lead_id: uuid.UUID) -> list[Activity]:
        """Show what happened to a lead, oldest first."""
        return timeline(get_visible_lead(current_principal(), lead_id).id)
