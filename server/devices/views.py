"""REST resources for pairing, listing and revoking tablets."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.auth.guard import MANAGERS, authorize
from server.auth.principal import current_principal
from server.devices.models import Device
from server.devices.schemas import (
    DeviceListArgsSchema,
    DeviceSchema,
    PairedSchema,
    PairingCodeRequestSchema,
    PairingCodeSchema,
    PairRequestSchema,
)
from server.devices.service import issue_pairing_code, list_devices, pair_device, revoke_device
from server.errors import fail
from server.events.access import get_visible_event
from server.extensions import db
from server.json_body import Blueprint

blp = Blueprint("devices", __name__, url_prefix="/api/v1/devices", description="Booth tablets.")


def _get_device(device_id: int) -> Device:
    device = db.session.get(Device, device_id)
    if device is None:
        fail(404, "No such tablet.")
    return device


@blp.route("")
class Devices(MethodView):
    @authorize(*MANAGERS)
    @blp.arguments(DeviceListArgsSchema, location="query")
    @blp.response(200, DeviceSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[Device]:
        """List tablets."""
        return list_devices(args.get("event_id"), args.get("revoked"))


@blp.route("/pairing-codes")
class PairingCodes(MethodView):
    @authorize(*MANAGERS)
    @blp.arguments(PairingCodeRequestSchema)
    @blp.response(201, PairingCodeSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Issue a single-use pairing code for an event."""
        principal = current_principal()
        event = get_visible_event(principal, fields["event_id"])
        return issue_pairing_code(event, principal.user, fields.get("valid_minutes"))


@blp.route("/pair")
class Pair(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PairRequestSchema)
    @blp.response(201, PairedSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Pair a tablet with a pairing code; the answer holds its token, shown only once."""
        return pair_device(fields["code"], fields["name"])


@blp.route("/me")
class ThisDevice(MethodView):
    @authorize(device=True)
    @blp.response(200, DeviceSchema)
    def get(self) -> Device:
        """Show the calling tablet."""
        device = current_principal().device
        assert device is not None
        return device


@blp.route("/<id:device_id>")
class DeviceById(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, DeviceSchema)
    def get(self, device_id: int) -> Device:
        """Show a tablet."""
        return _get_device(device_id)


@blp.route("/<id:device_id>/revoke")
class RevokeDevice(MethodView):
    @authorize(*MANAGERS)
    @blp.response(200, DeviceSchema)
    def post(self, device_id: int) -> Device:
        """Revoke a tablet; its next request gets 401."""
        return revoke_device(_get_device(device_id), current_principal().user)
