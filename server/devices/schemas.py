"""Request and response schemas for tablets and pairing."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.events.schemas import EventSchema
from server.fields import Id, Schema, Text

MAX_CODE_MINUTES = 14 * 24 * 60


class DeviceSchema(Schema):
    """A paired tablet."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    event_id = ma.fields.Integer(dump_only=True)
    paired_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    paired_at = ma.fields.AwareDateTime(dump_only=True)
    last_seen_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class DeviceListArgsSchema(Schema):
    """Filters for the tablet list."""

    event_id = Id(strict=False)
    revoked = ma.fields.Boolean()


class PairingCodeRequestSchema(Schema):
    """Ask for a pairing code for an event."""

    event_id = Id(required=True)
    valid_minutes = ma.fields.Integer(
        strict=True, validate=validate.Range(min=1, max=MAX_CODE_MINUTES)
    )


class PairingCodeSchema(Schema):
    """A pairing code, shown once; the server keeps only its hash."""

    code = ma.fields.String(dump_only=True)
    event_id = ma.fields.Integer(dump_only=True)
    expires_at = ma.fields.AwareDateTime(dump_only=True)


class PairRequestSchema(Schema):
    """A tablet's request to pair."""

    code = Text(required=True, min_length=1, max_length=40)
    name = Text(required=True, min_length=1, max_length=100)


class PairedSchema(Schema):
    """What a tablet receives when it pairs: its token (shown once) and its event."""

    token = ma.fields.String(dump_only=True)
    device = ma.fields.Nested(DeviceSchema, dump_only=True)
    event = ma.fields.Nested(EventSchema, dump_only=True)
