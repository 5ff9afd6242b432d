"""Card-photo upload for paired tablets, under /api/v1/sync/attachments/.

POST declares a photo, GET asks how much of it the server holds, PUT sends a chunk at an
offset (raw bytes, application/octet-stream). docs/business-cards.md describes the protocol.
"""

from __future__ import annotations

import re
import uuid

from flask import request
from flask.views import MethodView

from server.attachments.models import CardPhoto
from server.attachments.schemas import (
    ChunkArgsSchema,
    PhotoDeclarationSchema,
    PhotoStatusSchema,
)
from server.attachments.upload import MAX_CHUNK_BYTES, append, declare, find_photo
from server.auth.guard import authorize
from server.auth.principal import current_principal
from server.devices.models import Device
from server.errors import fail
from server.json_body import Blueprint

SHA256_NAME = re.compile(r"[0-9a-f]{64}")

blp = Blueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1/sync/attachments",
    description="Card photos sent by tablets, in resumable chunks (docs/business-cards.md).",
)


def _device() -> Device:
    device = current_principal().device
    if device is None:
        fail(403, "Only paired tablets upload card photos.")
    return device


def _photo(lead_id: uuid.UUID, sha256: str) -> CardPhoto:
    if not SHA256_NAME.fullmatch(sha256):
        fail(404, "No such photo.")
    return find_photo(_device(), lead_id, sha256)


@blp.route("")
class Photos(MethodView):
    @authorize(device=True)
    @blp.arguments(PhotoDeclarationSchema())
    @blp.response(200, PhotoStatusSchema)
    def post(self, body: dict) -> CardPhoto:
        """Declare a card photo of one of the tablet's leads (again: the same photo)."""
        return declare(_device(), **body)


@blp.route("/<uuid:lead_id>/<sha256>")
class Photo(MethodView):
    @authorize(device=True)
    @blp.response(200, PhotoStatusSchema)
    def get(self, lead_id: uuid.UUID, sha256: str) -> CardPhoto:
        """Tell how many bytes of the photo the server holds, and whether it is whole."""
        return _photo(lead_id, sha256)

    @authorize(device=True)
    @blp.arguments(ChunkArgsSchema(), location="query")
    @blp.response(200, PhotoStatusSchema)
    def put(self, args: dict, lead_id: uuid.UUID, sha256: str) -> CardPhoto:
        """Store the chunk in the body at offset; the last one is checked against the SHA-256."""
        if (request.content_length or 0) > MAX_CHUNK_BYTES:
            fail(413, f"Send chunks of at most {MAX_CHUNK_BYTES} bytes.")
        photo = _photo(lead_id, sha256)
        return append(photo, args["offset"], request.get_data(cache=False))
