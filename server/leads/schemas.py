"""Request and response schemas for leads and their timeline."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from server.fields import Country, Id, Money, Schema, Slug, Text, Timestamp
from server.leads.models import ActivityKind, LeadSource, LeadStatus, Rating
from server.users.schemas import UserSummarySchema

MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000


class ConsentSchema(Schema):
    """What the visitor agreed to, and when (tablet clock)."""

    given = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=2**31 - 1)
    )
    at = Timestamp(allow_none=True)
    by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    # Consent records (server/privacy/consent.py keeps them in consent_records): the wording's
    # language and what the visitor agreed to. Shown where the record is loaded (sync pull).
    language = Text(
        max_length=16,
        allow_none=True,
        validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
    )
    purposes = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(("sales_follow_up", "marketing_email"))),
        validate=validate.Length(max=2),
    )


class LeadContactSchema(Schema):
    """Contact and qualification fields a tablet writes."""

    first_name = Text(max_length=100, allow_none=True)
    last_name = Text(max_length=100, allow_none=True)
    email = Text(max_length=254, allow_none=True)
    phone = Text(max_length=40, allow_none=True)
    company = Text(max_length=200, allow_none=True)
    job_title = Text(max_length=200, allow_none=True)
    country = Country(allow_none=True)
    region = Text(max_length=100, allow_none=True)
    source = ma.fields.Enum(LeadSource, by_value=True, load_default=LeadSource.MANUAL)
    badge_payload = Text(max_length=4000, allow_none=True)
    answers = ma.fields.Dict(
        keys=Slug(),
        values=ma.fields.Raw(allow_none=True),
        load_default=dict,
        validate=validate.Length(max=50),
    )
    products = ma.fields.List(Slug(), load_default=list, validate=validate.Length(max=200))
    rating = ma.fields.Enum(Rating, by_value=True, allow_none=True)
    notes = Text(max_length=5000, allow_none=True)
    follow_up = ma.fields.Boolean(load_default=False)
    consent = ma.fields.Nested(ConsentSchema, load_default=lambda: {"given": False})


class ScoreReasonSchema(Schema):
    """One rubric rule that matched."""

    reason = ma.fields.String(dump_only=True)
    points = ma.fields.Integer(dump_only=True)


class ScoreSchema(Schema):
    """The rubric's score of a lead, with the reasons and the rubric version used."""

    points = ma.fields.Integer(dump_only=True, allow_none=True)
    band = ma.fields.Enum(Rating, by_value=True, dump_only=True, allow_none=True)
    reasons = ma.fields.List(ma.fields.Nested(ScoreReasonSchema), dump_only=True)
    rubric_version = ma.fields.Integer(dump_only=True, allow_none=True)


class LeadCreateSchema(LeadContactSchema):
    """A lead as a tablet sends it; the id is the UUID the tablet made."""

    id = ma.fields.UUID(required=True)
    captured_by_id = Id(required=True)
    captured_at = Timestamp(required=True)


class LeadSchema(LeadCreateSchema):
    """A lead as the server holds it."""

    event_id = ma.fields.Integer(dump_only=True)
    device_id = ma.fields.Integer(dump_only=True)
    received_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)
    status = ma.fields.Enum(LeadStatus, by_value=True, dump_only=True)
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    deal_value = Money(dump_only=True, allow_none=True)
    owner_id = ma.fields.Integer(dump_only=True, allow_none=True)
    owner = ma.fields.Nested(UserSummarySchema, dump_only=True, allow_none=True)
    assigned_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    alerted_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    first_contact_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    score = ma.fields.Nested(ScoreSchema, dump_only=True)
    merged_into_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The earlier lead of the same person this capture joined."},
    )
    server_version = ma.fields.Integer(dump_only=True)


class LeadUpdateSchema(LeadContactSchema):
    """Corrections to a lead's details, and/or a change of its status or owner.

    Load it with partial=True: only the fields sent change.
    """

    class Meta(LeadContactSchema.Meta):
        exclude = ("source",)

    status = ma.fields.Enum(LeadStatus, by_value=True)
    reason = Text(max_length=500, allow_none=True)
    value = Money(allow_none=True)
    owner_id = Id()

    @ma.validates_schema
    def _reason_needs_status(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("status") and ("reason" in data or "value" in data):
            raise ma.ValidationError("A reason or value goes with a status change.")


class LeadListArgsSchema(Schema):
    """Filters and paging for the lead list."""

    event_id = Id(strict=False)
    status = ma.fields.List(ma.fields.Enum(LeadStatus, by_value=True))
    rating = ma.fields.List(ma.fields.Enum(Rating, by_value=True))
    owner_id = Id(strict=False)
    q = Text(max_length=100, metadata={"description": "Search names, email and company."})
    captured_from = Timestamp()
    captured_to = Timestamp()
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class LeadPageSchema(Schema):
    """One page of leads."""

    items = ma.fields.List(ma.fields.Nested(LeadSchema), dump_only=True)
    page = ma.fields.Integer(dump_only=True)
    page_size = ma.fields.Integer(dump_only=True)
    total = ma.fields.Integer(dump_only=True)


class ActivitySchema(Schema):
    """One entry of a lead's timeline."""

    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.Enum(ActivityKind, by_value=True, dump_only=True)
    at = ma.fields.AwareDateTime(dump_only=True)
    actor_user = ma.fields.Nested(UserSummarySchema, dump_only=True, allow_none=True)
    actor_device_id = ma.fields.Integer(dump_only=True, allow_none=True)
    detail = ma.fields.Dict(dump_only=True)
