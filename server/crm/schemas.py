"""Request and response schemas of an event's CRM connection (tokens are write-only)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.crm.lead_data import MAPPABLE_FIELDS
from server.crm.models import CrmKind
from server.fields import Schema, Text

# CRM field (property) names: what HubSpot, Salesforce and Pipedrive allow, no more.
FIELD_NAME = validate.Regexp(r"^[A-Za-z0-9_]{0,100}$", error="Letters, digits and _ only.")


class CrmConnectionSchema(Schema):
    """An event's CRM: which one, where, its credentials (write-only), mappings, on or off."""

    id = ma.fields.Integer(dump_only=True)
    event_id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.Enum(CrmKind, by_value=True, required=True)
    base_url = ma.fields.Url(
        allow_none=True,
        schemes={"http", "https"},
        require_tld=False,
        metadata={"description": "Empty for the CRM's public API; a sandbox's address otherwise."},
    )
    token = Text(
        load_only=True,
        max_length=4000,
        metadata={"description": "Private-app token, access token or API token. Never returned."},
    )
    refresh_token = Text(
        load_only=True,
        max_length=4000,
        metadata={
            "description": "OAuth refresh token of a Salesforce connected app or HubSpot OAuth "
            "app, instead of a token (with client_id and client_secret). Never returned."
        },
    )
    client_id = Text(
        load_only=True,
        max_length=500,
        metadata={"description": "The OAuth app's client id (consumer key). Never returned."},
    )
    client_secret = Text(
        load_only=True,
        max_length=500,
        metadata={
            "description": "The OAuth app's client secret (consumer secret). Never returned."
        },
    )
    webhook_secret = Text(
        load_only=True,
        max_length=500,
        metadata={"description": "HubSpot app client secret, or Pipedrive 'user:password'."},
    )
    field_mapping = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(tuple(MAPPABLE_FIELDS))),
        values=ma.fields.String(validate=FIELD_NAME),
    )
    owner_mapping = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")),
        values=ma.fields.Email(),
        metadata={"description": "Rep user id -> CRM user email (default: the rep's own)."},
    )
    enabled = ma.fields.Boolean(load_default=True)
    has_token = ma.fields.Boolean(dump_only=True)
    has_refresh_token = ma.fields.Boolean(dump_only=True)
    has_webhook_secret = ma.fields.Boolean(dump_only=True)
    webhook_path = ma.fields.String(dump_only=True)
    polled_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class CrmTestSchema(Schema):
    """The answer of a connection test."""

    ok = ma.fields.Boolean(dump_only=True)
    message = ma.fields.String(dump_only=True)
