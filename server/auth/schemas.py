"""Request and response schemas for logging in."""

from __future__ import annotations

import marshmallow as ma

from server.fields import Schema, Text
from server.users.schemas import UserSchema


class LoginSchema(Schema):
    """Credentials."""

    email = Text(required=True, max_length=254)
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=200))


class TokenSchema(Schema):
    """A bearer token, shown once; the server keeps only its hash."""

    token = ma.fields.String(dump_only=True)
    expires_at = ma.fields.AwareDateTime(dump_only=True)
    user = ma.fields.Nested(UserSchema, dump_only=True)
