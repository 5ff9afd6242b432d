"""Request and response schemas for events."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import validate

from server.events.models import default_disqualification_reasons
from server.fields import Count, Day, Id, Money, Schema, Slug, Text, WebhookUrl
from server.fields import Country as CountryField
from server.users.schemas import UserSummarySchema
from sync.attendees import RulesError, check_rules
from sync.questions import CHOICE_TYPES, QUESTION_TYPES

_TIMEZONES = frozenset(available_timezones())


def _timezone(name: str) -> None:
    if name not in _TIMEZONES:
        raise ma.ValidationError("Use an IANA time zone name, like Europe/Berlin.")


def _unique_ids(items: list[dict[str, Any]]) -> None:
    ids = [item["id"] for item in items]
    if len(ids) != len(set(ids)):
        raise ma.ValidationError("Ids must be unique.")


MAX_DISQUALIFICATION_REASONS = 30


def _unique_texts(items: list[str] | None) -> None:
    if items and len({item.casefold() for item in items}) != len(items):
        raise ma.ValidationError("Reasons must be unique.")


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
    material_url = ma.fields.Url(
        schemes={"http", "https"},
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "Link to the product's materials, in the thank-you email."},
    )


class RubricRuleSchema(Schema):
    """Points for one answer or one product of interest."""

    question = Slug()
    equals = ma.fields.Raw(metadata={"description": "Match an answer equal to this."})
    at_least = ma.fields.Float(allow_nan=False, metadata={"description": "Match a number >= this."})
    includes = Text(max_length=200, metadata={"description": "Match a multiple choice with this."})
    product = Slug()
    points = ma.fields.Integer(strict=True, required=True, validate=validate.Range(-1000, 1000))
    reason = Text(max_length=200, allow_none=True)

    @ma.validates_schema
    def _one_condition(self, data: dict[str, Any], **kwargs: Any) -> None:
        conditions = [key for key in ("equals", "at_least", "includes") if key in data]
        if ("question" in data) == ("product" in data):
            raise ma.ValidationError("A rule names either a question or a product.")
        if "question" in data and len(conditions) != 1:
            raise ma.ValidationError("A question rule has one of equals, at_least or includes.")
        if "product" in data and conditions:
            raise ma.ValidationError("A product rule has no condition.")
        equals = data.get("equals")
        if "equals" in data and not isinstance(equals, bool | str | int | float):
            raise ma.ValidationError("equals must be text, a number, true or false.", "equals")
        if isinstance(equals, str) and (len(equals) > 200 or "\x00" in equals):
            raise ma.ValidationError("equals is at most 200 characters of text.", "equals")


class RubricSchema(Schema):
    """The scoring rubric sales and marketing agreed; the server numbers its versions."""

    version = ma.fields.Integer(dump_only=True)
    hot = ma.fields.Integer(strict=True, required=True, validate=validate.Range(-10000, 10000))
    warm = ma.fields.Integer(strict=True, required=True, validate=validate.Range(-10000, 10000))
    rules = ma.fields.List(
        ma.fields.Nested(RubricRuleSchema), required=True, validate=validate.Length(max=200)
    )

    @ma.validates_schema
    def _thresholds_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "hot" in data and "warm" in data and data["warm"] > data["hot"]:
            raise ma.ValidationError("The warm threshold cannot be above the hot one.", "warm")


_AT_MOST_500 = validate.Length(max=500)


class RoutingRuleSchema(Schema):
    """One routing rule; see server/routing/router.py."""

    type = ma.fields.String(
        required=True, validate=validate.OneOf(("named_account", "territory", "product"))
    )
    domains = ma.fields.List(Text(min_length=1, max_length=253), validate=validate.Length(max=500))
    companies = ma.fields.List(
        Text(min_length=1, max_length=200), validate=validate.Length(max=500)
    )
    countries = ma.fields.List(CountryField(), validate=validate.Length(max=250))
    regions = ma.fields.List(Text(min_length=1, max_length=100), validate=validate.Length(max=250))
    products = ma.fields.List(Slug(), validate=validate.Length(max=200))
    rep_id = Id()
    rep_ids = ma.fields.List(Id(), validate=validate.Length(max=200))

    @ma.validates_schema
    def _complete(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data.get("type")
        if kind == "named_account" and not (
            data.get("rep_id") and (data.get("domains") or data.get("companies"))
        ):
            raise ma.ValidationError("A named account needs rep_id and domains or companies.")
        if kind == "territory" and not (
            data.get("rep_ids") and (data.get("countries") or data.get("regions"))
        ):
            raise ma.ValidationError("A territory needs rep_ids and countries or regions.")
        if kind == "product" and not (data.get("rep_ids") and data.get("products")):
            raise ma.ValidationError("A product rule needs rep_ids and products.")


class RoutingSchema(Schema):
    """How the event's leads find their owner."""

    rules = ma.fields.List(
        ma.fields.Nested(RoutingRuleSchema), load_default=list, validate=validate.Length(max=100)
    )
    fallback_owner_id = Id(allow_none=True)
    backup_owner_id = Id(
        allow_none=True, metadata={"description": "Takes hot leads nobody acknowledged."}
    )


class ThankYouSchema(Schema):
    """The thank-you email to visitors who consented (server/alerts/thank_you.py)."""

    enabled = ma.fields.Boolean(required=True)
    subject = Text(max_length=200, allow_none=True)
    intro = Text(max_length=2000, allow_none=True)


class EventAlertsSchema(Schema):
    """Where alerts about this event's leads go, besides each rep's own channels."""

    email = ma.fields.Boolean(metadata={"description": "Email reps (default true)."})
    webhook_url = WebhookUrl(allow_none=True)
    webhook_secret = Text(max_length=200, allow_none=True, load_only=True)
    chat_webhook_url = WebhookUrl(allow_none=True)
    thank_you = ma.fields.Nested(ThankYouSchema)


class BadgeRulesSchema(Schema):
    """How this event's badges write their ids (sync/attendees.py)."""

    prefix = Text(max_length=40, allow_none=True, metadata={"description": "Stripped: REG-."})
    url_pattern = Text(
        max_length=300,
        allow_none=True,
        metadata={"description": "A badge URL with {id} where the id sits."},
    )

    @ma.post_load
    def _checked(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            return check_rules(data)
        except RulesError as error:
            raise ma.ValidationError(error.errors) from None


class EventSchema(Schema):
    """An event as the API shows and accepts it."""

    id = ma.fields.Integer(dump_only=True)
    name = Text(required=True, min_length=1, max_length=200)
    venue = Text(max_length=200, allow_none=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True)
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
    rubric = ma.fields.Nested(RubricSchema, metadata={"description": "Scoring rubric."})
    routing = ma.fields.Nested(RoutingSchema)
    alerts = ma.fields.Nested(EventAlertsSchema)
    badge_rules = ma.fields.Nested(BadgeRulesSchema)
    escalation_minutes = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=10080))
    disqualification_reasons = ma.fields.List(
        Text(min_length=1, max_length=100),
        allow_none=True,
        validate=[validate.Length(max=MAX_DISQUALIFICATION_REASONS), _unique_texts],
        metadata={
            "description": "Reasons a rep may give when disqualifying a lead;"
            " empty or null means the default list."
        },
    )
    active = ma.fields.Boolean()
    server_version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)

    @ma.validates_schema
    def _dates_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_on" in data and "ends_on" in data and data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("The event cannot end before it starts.", "ends_on")

    @ma.post_load
    def _default_reasons(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "disqualification_reasons" in data and not data["disqualification_reasons"]:
            data["disqualification_reasons"] = default_disqualification_reasons()
        return data


class EventListArgsSchema(Schema):
    """Filters for the event list."""

    active = ma.fields.Boolean()


class MemberSchema(Schema):
    """A user working an event."""

    user_id = Id(required=True)
    user = ma.fields.Nested(UserSummarySchema, dump_only=True)
