"""REST resources for people's rights (admins) and per-event retention (managers).

Requests name the person in a JSON body, never in the URL, so no address or phone
number lands in access logs.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from server.auth.guard import MANAGERS, authorize
from server.auth.principal import current_principal
from server.events.access import get_visible_event
from server.extensions import db
from server.json_body import Blueprint
from server.leads.access import get_visible_lead
from server.privacy import consent, retention, service
from server.privacy.models import EventRetention
from server.privacy.schemas import (
    AuditEntrySchema,
    ConsentTextSchema,
    ErasureRequestSchema,
    ErasureResultSchema,
    ExportSchema,
    FoundSchema,
    LeadConsentSchema,
    RecaptureSchema,
    RetentionSchema,
    SubjectSchema,
)
from server.users.models import Role, User

ALL_USERS = tuple(Role)

blp = Blueprint(
    "privacy",
    __name__,
    url_prefix="/api/v1/privacy",
    description="A person's rights (find, access export, erasure), audit log and retention.",
)


def _admin() -> User:
    user = current_principal().user
    assert user is not None
    return user


@blp.route("/search")
class Search(MethodView):
    @authorize(Role.ADMIN)
    @blp.arguments(SubjectSchema)
    @blp.response(200, FoundSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Find every lead and alert about one email or phone, across events."""
        return service.find(service.subject_from(fields), _admin())


@blp.route("/export")
class Export(MethodView):
    @authorize(Role.ADMIN)
    @blp.arguments(SubjectSchema)
    @blp.response(200, ExportSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Export everything stored about a person as JSON (an access request)."""
        return service.export(service.subject_from(fields), _admin())


@blp.route("/erase")
class Erase(MethodView):
    @authorize(Role.ADMIN)
    @blp.arguments(ErasureRequestSchema)
    @blp.response(200, ErasureResultSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Erase everything about a person (an erasure request); keeps only keyed hashes."""
        return service.erase(service.subject_from(fields), _admin())


@blp.route("/audit")
class Audit(MethodView):
    @authorize(Role.ADMIN)
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self) -> list[Any]:
        """List the newest rights actions and retention runs."""
        return service.audit_log()


@blp.route("/recaptures")
class Recaptures(MethodView):
    @authorize(Role.ADMIN)
    @blp.response(200, RecaptureSchema(many=True))
    def get(self) -> list[Any]:
        """List leads captured after their person asked to be forgotten."""
        return service.recaptures()


@blp.route("/events/<id:event_id>/retention")
class Retention(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, RetentionSchema)
    def get(self, event_id: int) -> dict[str, Any]:
        """Show how long the event's idle leads are kept after it ends."""
        event = get_visible_event(current_principal(), event_id)
        setting = db.session.get(EventRetention, event.id)
        return {"retention_days": setting.retention_days if setting else None}

    @authorize(*MANAGERS)
    @blp.arguments(RetentionSchema)
    @blp.response(200, RetentionSchema)
    def put(self, fields: dict[str, Any], event_id: int) -> dict[str, Any]:
        """Set how many days after the event its idle leads are erased (null: keep)."""
        principal = current_principal()
        event = get_visible_event(principal, event_id)
        assert principal.user is not None
        retention.set_retention(event, fields["retention_days"], principal.user)
        return {"retention_days": fields["retention_days"]}


@blp.route("/events/<id:event_id>/consent-texts")
class ConsentTexts(MethodView):
    @authorize(*ALL_USERS, device=True)
    @blp.response(200, ConsentTextSchema(many=True))
    def get(self, event_id: int) -> list[Any]:
        """List the event's consent wordings, newest version first."""
        event = get_visible_event(current_principal(), event_id)
        return consent.consent_texts(event.id)

    @authorize(*MANAGERS)
    @blp.arguments(ConsentTextSchema)
    @blp.response(201, ConsentTextSchema)
    def post(self, fields: dict[str, Any], event_id: int) -> Any:
        """Add a wording in one language as the event's next consent version."""
        principal = current_principal()
        event = get_visible_event(principal, event_id)
        assert principal.user is not None
        return consent.add_consent_text(event, fields["language"], fields["text"], principal.user)


@blp.route("/leads/<uuid:lead_id>/consent")
class LeadConsent(MethodView):
    @authorize(*MANAGERS, Role.REP)
    @blp.response(200, LeadConsentSchema)
    def get(self, lead_id: uuid.UUID) -> dict[str, Any]:
        """Show what the lead's visitor agreed to (for the lead page)."""
        return consent.consent_of(get_visible_lead(current_principal(), lead_id))
