"""Request and response schemas for the alert jobs admins look at."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.alerts.models import AlertKind, Channel, JobStatus
from server.fields import Id, Schema
from server.leads.schemas import MAX_PAGE, MAX_PAGE_SIZE


class AlertListArgsSchema(Schema):
    """Filters and paging for the alert job list."""

    status = ma.fields.Enum(JobStatus, by_value=True, load_default=JobStatus.DEAD)
    event_id = Id(strict=False)
    kind = ma.fields.Enum(AlertKind, by_value=True)
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class AlertJobSchema(Schema):
    """One alert job; the target shows only the mail domain or the receiver's host."""

    id = ma.fields.Integer(dump_only=True)
    lead_id = ma.fields.UUID(dump_only=True)
    event_id = ma.fields.Integer(dump_only=True)
    event_name = ma.fields.String(dump_only=True)
    rep_id = ma.fields.Integer(dump_only=True, allow_none=True)
    rep_name = ma.fields.String(dump_only=True, allow_none=True)
    kind = ma.fields.Enum(AlertKind, by_value=True, dump_only=True)
    channel = ma.fields.Enum(Channel, by_value=True, dump_only=True)
    target = ma.fields.String(dump_only=True)
    status = ma.fields.Enum(JobStatus, by_value=True, dump_only=True)
    attempts = ma.fields.Integer(dump_only=True)
    last_error = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    next_attempt_at = ma.fields.AwareDateTime(dump_only=True)
    delivered_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class AlertPageSchema(Schema):
    """One page of alert jobs."""

    items = ma.fields.List(ma.fields.Nested(AlertJobSchema), dump_only=True)
    page = ma.fields.Integer(dump_only=True)
    page_size = ma.fields.Integer(dump_only=True)
    total = ma.fields.Integer(dump_only=True)
