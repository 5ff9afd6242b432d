"""REST resources: an event's CRM connection (managers), its test, and the CRMs' webhooks."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from flask import request
from flask.views import MethodView
from hubspot.exceptions import InvalidSignatureTimestampError
from hubspot.utils.signature import Signature

from server.auth.guard import MANAGERS, authorize
from server.crm import outcomes, service
from server.crm.models import CrmConnection, CrmKind
from server.crm.schemas import CrmConnectionSchema, CrmTestSchema
from server.errors import fail
from server.extensions import db
from server.json_body import Blueprint

blp = Blueprint("crm", __name__, url_prefix="/api/v1", description="CRM connections.")


@blp.route("/events/<id:event_id>/crm")
class EventCrm(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, CrmConnectionSchema)
    def get(self, event_id: int) -> dict[str, Any]:
        """Show the event's CRM connection (never its token)."""
        connection = service.connection_of(event_id)
        if connection is None:
            fail(404, "This event has no CRM connection.")
        return service.describe(connection)

    @authorize(*MANAGERS)
    @blp.arguments(CrmConnectionSchema)
    @blp.response(200, CrmConnectionSchema)
    def put(self, data: dict[str, Any], event_id: int) -> dict[str, Any]:
        """Connect the event to a CRM, or change its connection."""
        return service.describe(service.save(event_id, data))

    @authorize(*MANAGERS)
    @blp.response(204)
    def delete(self, event_id: int) -> None:
        """Disconnect the event from its CRM."""
        service.remove(event_id)


@blp.route("/events/<id:event_id>/crm/test")
class EventCrmTest(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, CrmTestSchema)
    def post(self, event_id: int) -> dict[str, Any]:
        """Make one authenticated call to the event's CRM and say how it went."""
        return service.test(event_id)


def _hubspot_signed(secret: str) -> bool:
    """Check HubSpot's v3 signature: HMAC-SHA256 of method, URI, body and timestamp."""
    signature = request.headers.get("X-HubSpot-Signature-v3")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp")
    if not signature or not signature.isascii():
        return False  # a base64 digest is ASCII; the comparison would raise on anything else
    try:
        return Signature.is_valid(
            signature=signature,
            client_secret=secret,
            request_body=request.get_data(as_text=True),
            http_uri=request.url,
            http_method=request.method,
            signature_version="v3",
            timestamp=timestamp,
        )
    except InvalidSignatureTimestampError:
        return False  # older than five minutes: a replay, or a clock far off


def _basic_auth_matches(secret: str) -> bool:
    """Check Pipedrive's webhook HTTP basic auth against the stored 'user:password'."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


@blp.route("/crm/webhooks/<id:connection_id>")
class CrmWebhook(MethodView):
    @blp.response(204)
    def post(self, connection_id: int) -> None:
        """Take a CRM's change notification (signed); the connection is polled at once."""
        connection = db.session.get(CrmConnection, connection_id)
        if connection is None or connection.kind == CrmKind.SALESFORCE:
            fail(404, "No such CRM webhook.")
        secret = service.webhook_secret(connection)
        if secret is None:
            fail(404, "No such CRM webhook.")
        if connection.kind == CrmKind.HUBSPOT:
            valid = _hubspot_signed(secret)
        else:
            valid = _basic_auth_matches(secret)
        if not valid:
            fail(401, "The webhook's signature does not match.")
        # Read the records as they stand rather than trust the notification's order.
        outcomes.poll_soon(connection.id)
        db.session.commit()
        outcomes.wake_pollers()
