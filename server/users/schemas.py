"""Request and response schemas for users."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.fields import Count, Schema, Text, WebhookUrl
from server.users.models import Role

MIN_PASSWORD = 10


class UserAlertsSchema(Schema):
    """How a person wants to hear about their new leads."""

    email = ma.fields.Boolean()
    webhook_url = WebhookUrl(allow_none=True)
    chat_webhook_url = WebhookUrl(allow_none=True)


class UserSchema(Schema):
    """A user as the API shows and accepts it; the password is write-only."""

    id = ma.fields.Integer(dump_only=True)
    email = Text(required=True, max_length=254)
    name = Text(required=True, min_length=1, max_length=200)
    role = ma.fields.Enum(Role, by_value=True, required=True)
    password = Text(load_only=True, min_length=MIN_PASSWORD, max_length=200)
    territory = ma.fields.List(
        Text(min_length=1, max_length=100), validate=validate.Length(max=200)
    )
    products = ma.fields.List(Text(min_length=1, max_length=40), validate=validate.Length(max=200))
    daily_capacity = Count(allow_none=True)
    alerts = ma.fields.Nested(UserAlertsSchema)
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(dump_only=True)


class UserSummarySchema(Schema):
    """The little a tablet or a colleague needs to know of a user."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    role = ma.fields.Enum(Role, by_value=True, dump_only=True)


class UserListArgsSchema(Schema):
    """Filters for the user list."""

    role = ma.fields.Enum(Role, by_value=True)
    active = ma.fields.Boolean()
