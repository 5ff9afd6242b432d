"""Request and response schemas of the rights endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from server.fields import Country, Schema, Text


class SubjectSchema(Schema):
    """The person a request is about: an email address, a phone number, or both."""

    email = Text(max_length=254, allow_none=True)
    phone = Text(max_length=40, allow_none=True)
    country = Country(
        allow_none=True,
        metadata={"description": "Reads a phone number written without +country code."},
    )

    @ma.validates_schema
    def _someone(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("email") and not data.get("phone"):
            raise ma.ValidationError("Give an email address or a phone number.")


class ErasureRequestSchema(SubjectSchema):
    """An erasure request; confirm must be true, as erasure cannot be undone."""

    confirm = ma.fields.Boolean(required=True, validate=validate.Equal(True))


class FoundLeadSchema(Schema):
    """A lead found for a person."""

    id = ma.fields.UUID()
    event_id = ma.fields.Integer()
    event_name = ma.fields.String(allow_none=True)
    first_name = ma.fields.String(allow_none=True)
    last_name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    company = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    received_at = ma.fields.AwareDateTime()


class FoundAlertSchema(Schema):
    """An alert job about one of the person's leads."""

    id = ma.fields.Integer()
    lead_id = ma.fields.UUID()
    kind = ma.fields.String()
    channel = ma.fields.String()
    status = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class FoundSchema(Schema):
    """Everything found about a person, across events."""

    leads = ma.fields.List(ma.fields.Nested(FoundLeadSchema))
    alert_jobs = ma.fields.List(ma.fields.Nested(FoundAlertSchema))
    previously_erased = ma.fields.Boolean()


class ExportSchema(Schema):
    """An access export: every stored row about the person, by table."""

    subject = ma.fields.Dict()
    exported_at = ma.fields.String()
    events = ma.fields.List(ma.fields.Dict())
    tables = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.Dict()))


class ErasureResultSchema(Schema):
    """What an erasure deleted."""

    erasure_id = ma.fields.Integer()
    leads_erased = ma.fields.Integer()
    rows_deleted = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    attendees_removed = ma.fields.Integer(
        metadata={"description": "Rows taken off attendee lists."}
    )


class AuditEntrySchema(Schema):
    """One audit log entry."""

    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor_user_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    subject_hash = ma.fields.String(allow_none=True)
    lead_count = ma.fields.Integer()
    detail = ma.fields.Dict()


class RecaptureSchema(Schema):
    """A lead captured after its person asked to be forgotten."""

    id = ma.fields.Integer()
    lead_id = ma.fields.UUID()
    erasure_id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()


class RetentionSchema(Schema):
    """An event's retention: days after its last day that idle leads are kept (null: keep)."""

    retention_days = ma.fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(0, 3650)
    )


LANGUAGE = validate.Regexp(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="Give a language tag like de, en or pt-BR."
)
PURPOSES = ("sales_follow_up", "marketing_email")


class ConsentTextSchema(Schema):
    """One wording of the event's consent text in one language."""

    id = ma.fields.Integer(dump_only=True)
    event_id = ma.fields.Integer(dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    language = Text(max_length=16, required=True, validate=LANGUAGE)
    text = Text(max_length=5000, min_length=1, required=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class LeadConsentSchema(Schema):
    """What a lead's visitor agreed to: wording, language, purposes, when, who, which tablet."""

    given = ma.fields.Boolean()
    version = ma.fields.Integer(allow_none=True)
    at = ma.fields.AwareDateTime(allow_none=True)
    captured_by_id = ma.fields.Integer(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    language = ma.fields.String(allow_none=True)
    purposes = ma.fields.List(ma.fields.String())
    text = ma.fields.String(allow_none=True)
