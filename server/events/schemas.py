"""Request and response schemas for events."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import validate

from server.fields import Count, Id, Money, Schema, Slug, Text
from server.fields import Country as CountryField
from server.users.schemas import UserSummarySchema
from sync.questions import CHOICE_TYPES, QUESTION_TYPES

_TIMEZONES = frozenset(available_timezones())


def _timezone(name: str) -> None:
    if name not in _TIMEZONES:
        raise ma.ValidationError("Use an IANA time zone name, like Europe/Berlin.")


def _unique_ids(items: list[dict[str, Any]]) -> None:
    ids = [item["id"] for item in items]
    if len(ids) != len(set(ids)):
        raise ma.ValidationError("Ids must be unique.")


class QuestionSchema(Schema):
    """A qualification question asked at the booth."""

    id = Slug(required=True)
    label = Text(required=True, min_length=1, max_length=300)
    type = ma.fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    required = ma.fields.Boolean(load_default=False)
    options = ma.fields.List(
        Text(min_length=1, max_length=200), load_default=list, validate=validate.Length(max=50)
    )

    @ma.validates_schema
    def _options_fit_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        options = data.get("options", [])
        if data.get("type") in CHOICE_TYPES:
            if not options:
                raise ma.ValidationError("Choice questions need options.", "options")
            if len(set(options)) != len(options):
                raise ma.ValidationError("Options must be unique.", "options")
        elif options:
            raise ma.ValidationError("Only choice questions have options.", "options")


class ProductSchema(Schema):
    """A product visitors can be interested in."""

    id = Slug(required=True)
    name = Text(required=True, min_length=1, max_length=200)


class EventSchema(Schema):
    """An event as the API shows and accepts it."""

    id = ma.fields.Integer(dump_only=True)
    name = Text(required=True, min_length=1, max_length=200)
    venue = Text(max_length=200, allow_none=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    timezone = Text(required=True, max_length=64, validate=_timezone)
    country = CountryField(allow_none=True, metadata={"description": "Default region for phones."})
    booth = Text(max_length=100, allow_none=True)
    campaign_code = Text(max_length=100, allow_none=True)
    cost = Money(allow_none=True)
    currency = Text(max_length=3, validate=validate.Regexp(r"^[A-Z]{3}$"))
    target_leads = Count(allow_none=True)
    target_hot_leads = Count(allow_none=True)
    questions = ma.fields.List(
        ma.fields.Nested(QuestionSchema), validate=[validate.Length(max=50), _unique_ids]
    )
    products = ma.fields.List(
        ma.fields.Nested(ProductSchema), validate=[validate.Length(max=200), _unique_ids]
    )
    consent_text = Text(max_length=5000, allow_none=True)
    consent_version = ma.fields.Integer(
        dump_only=True, metadata={"description": "Bumped whenever consent_text changes."}
    )
    rubric = ma.fields.Dict(dump_only=True, metadata={"description": "Scoring rubric."})
    active = ma.fields.Boolean()
    server_version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)

    @ma.validates_schema
    def _dates_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_on" in data and "ends_on" in data and data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("The event cannot end before it starts.", "ends_on")


class EventListArgsSchema(Schema):
    """Filters for the event list."""

    active = ma.fields.Boolean()


class MemberSchema(Schema):
    """A user working an event."""

    user_id = Id(required=True)
    user = ma.fields.Nested(UserSummarySchema, dump_only=True)
