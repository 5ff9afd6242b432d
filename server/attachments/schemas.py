"""Schemas of the card-photo upload API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.attachments.upload import CONTENT_TYPES, MAX_PHOTO_BYTES
from server.fields import Schema

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="A lower-case hex SHA-256.")


class PhotoDeclarationSchema(Schema):
    """A photo the tablet is about to send: whose, named how, how big."""

    lead_id = ma.fields.UUID(required=True)
    sha256 = ma.fields.String(required=True, validate=SHA256)
    size = ma.fields.Integer(required=True, validate=validate.Range(1, MAX_PHOTO_BYTES))
    content_type = ma.fields.String(
        load_default="image/jpeg", validate=validate.OneOf(CONTENT_TYPES)
    )


class ChunkArgsSchema(Schema):
    """Where in the photo the chunk in the body starts."""

    offset = ma.fields.Integer(required=True, validate=validate.Range(0, MAX_PHOTO_BYTES))


class PhotoStatusSchema(Schema):
    """How much of a photo the server holds."""

    lead_id = ma.fields.UUID(dump_only=True)
    sha256 = ma.fields.String(dump_only=True)
    size = ma.fields.Integer(dump_only=True)
    received = ma.fields.Integer(dump_only=True)
    complete = ma.fields.Boolean(dump_only=True)
