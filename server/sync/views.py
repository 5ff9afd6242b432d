"""Sync endpoints for paired tablets, under /api/v1/sync/."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from server.auth.guard import authorize
from server.auth.principal import current_principal
from server.db_types import utcnow
from server.devices.models import Device
from server.errors import fail
from server.json_body import Blueprint
from server.sync.answer import encode_push_answer
from server.sync.decode import decode_push
from server.sync.pages import encode_page
from server.sync.pull import booth_counts, pull
from server.sync.push import push
from server.sync.schemas import (
    PullArgsSchema,
    PullResultSchema,
    PushResultSchema,
    PushSchema,
    StatusSchema,
)

PROTOCOL_VERSIONS = (1,)
PROTOCOL_HEADER = "Leadbridge-Protocol"

blp = Blueprint(
    "sync", __name__, url_prefix="/api/v1/sync", description="Tablet sync (docs/sync-protocol.md)."
)


@blp.before_request
def _check_protocol() -> None:
    raw = request.headers.get(PROTOCOL_HEADER, str(PROTOCOL_VERSIONS[-1]))
    if not raw.isdigit() or len(raw) > 6:
        fail(400, f"{PROTOCOL_HEADER} must be a protocol version number.")
    if int(raw) < min(PROTOCOL_VERSIONS):
        fail(
            426,
            "This app is too old for the server: update it.",
            errors={"protocol_versions": list(PROTOCOL_VERSIONS)},
        )


def _this_device() -> Device:
    device = current_principal().device
    assert device is not None  # authorize(device=True) admits tablets only
    return device


@blp.route("/status")
class Status(MethodView):
    @authorize(device=True)
    @blp.response(200, StatusSchema)
    def get(self) -> dict[str, Any]:
        """Tell the tablet the server time, protocol versions and its last handled mutation."""
        device = _this_device()
        total, today = booth_counts(device.event)
        return {
            "server_time": utcnow(),
            "protocol_versions": list(PROTOCOL_VERSIONS),
            "device_id": device.id,
            "device_name": device.name,
            "event_id": device.event_id,
            "last_mutation_id": device.last_mutation_id,
            "booth_leads_total": total,
            "booth_leads_today": today,
        }


@blp.route("/push")
class Push(MethodView):
    @authorize(device=True)
    # PushSchema documents and defines the body; decode_push reads it (server/sync/decode.py).
    @blp.fast_body(PushSchema(), decode_push)
    @blp.response(200, PushResultSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any] | Response:
        """Apply a batch of up to 100 mutations exactly once."""
        answer = push(_this_device(), body["mutations"])
        # Encoded here, not dumped by the schema, unless it has conflicts (server/sync/answer.py).
        encoded = encode_push_answer(answer)
        return answer if encoded is None else Response(encoded, mimetype="application/json")


@blp.route("/pull")
class Pull(MethodView):
    @authorize(device=True)
    @blp.arguments(PullArgsSchema(), location="query")
    @blp.response(200, PullResultSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Return the changes after the cursor, in server-version order."""
        # Encoded here, not dumped by the schema: a page is up to 1,000 leads
        # (server/sync/pages.py); PullResultSchema still documents it.
        page = pull(_this_device(), args["cursor"], args["limit"])
        return Response(encode_page(page), mimetype="application/json")
