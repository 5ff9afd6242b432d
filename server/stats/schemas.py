"""Response schemas of the stats API; they mirror the dict of server/stats/service.py."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from server.fields import Id, Schema

MAX_COMPARED = 10

_int = ma.fields.Integer
_float = ma.fields.Float
_str = ma.fields.String


def _list(schema: type[ma.Schema]) -> ma.fields.List:
    return ma.fields.List(ma.fields.Nested(schema))


def _timestamp(description: str = "", **kwargs: Any) -> ma.fields.String:
    return _str(metadata={"format": "date-time", "description": description}, **kwargs)


def _money(**kwargs: Any) -> ma.fields.String:
    return _str(metadata={"description": "A decimal amount, exact."}, **kwargs)


class StatsEventSchema(Schema):
    id = _int()
    name = _str()
    timezone = _str()
    currency = _str()
    starts_on = _str(metadata={"format": "date"})
    ends_on = _str(metadata={"format": "date"})


class TotalsSchema(Schema):
    leads = _int()
    today = _int(metadata={"description": "Captured today in the event's time zone."})
    hot = _int()
    consented = _int()


class TargetSchema(Schema):
    target = _int(allow_none=True)
    actual = _int()
    share = _float(allow_none=True)


class TargetsSchema(Schema):
    leads = ma.fields.Nested(TargetSchema)
    hot_leads = ma.fields.Nested(TargetSchema)


class HourSchema(Schema):
    hour = _timestamp("Start of the hour, in the event's time zone.")
    leads = _int()


class RatingCountSchema(Schema):
    rating = _str(allow_none=True)
    leads = _int()


class BandCountSchema(Schema):
    band = _str(allow_none=True)
    leads = _int()


class StaffCountSchema(Schema):
    user_id = _int()
    name = _str()
    leads = _int()
    hot = _int()


class ProductCountSchema(Schema):
    product = _str()
    name = _str()
    leads = _int()


class AnswerCountSchema(Schema):
    value = _str()
    leads = _int()


class NumberSummarySchema(Schema):
    min = _float()
    max = _float()
    avg = _float()


class QuestionStatsSchema(Schema):
    id = _str()
    label = _str()
    type = _str()
    answered = _int()
    answers = _list(AnswerCountSchema)
    number = ma.fields.Nested(NumberSummarySchema, allow_none=True)


class DeviceStatsSchema(Schema):
    id = _int()
    name = _str()
    revoked = ma.fields.Boolean()
    last_seen_at = _timestamp(allow_none=True)
    last_lead_received_at = _timestamp(allow_none=True)
    leads = _int()
    pending_uploads = _int(
        allow_none=True, metadata={"description": "Always null: the server cannot see it."}
    )


class StageSchema(Schema):
    stage = _str()
    leads = _int()


class SpeedSchema(Schema):
    count = _int()
    median_s = _float(allow_none=True)
    p90_s = _float(allow_none=True)


class SpeedToLeadSchema(Schema):
    capture_to_alert = ma.fields.Nested(SpeedSchema)
    alert_to_ack = ma.fields.Nested(SpeedSchema)
    ack_to_contact = ma.fields.Nested(SpeedSchema)


class StatusCountSchema(Schema):
    status = _str()
    leads = _int()


class ReasonCountSchema(Schema):
    reason = _str()
    leads = _int()


class OutcomesSchema(Schema):
    by_status = _list(StatusCountSchema)
    disqualification_reasons = _list(ReasonCountSchema)
    lost_reasons = _list(ReasonCountSchema)
    won_value = _money()


class RatingOutcomeSchema(Schema):
    rating = _str()
    leads = _int()
    qualified = _int()
    share = _float(allow_none=True)


class CostSchema(Schema):
    currency = _str()
    cost = _money(allow_none=True)
    qualified = _int()
    per_lead = _money(allow_none=True)
    per_qualified_lead = _money(allow_none=True)


class EventStatsSchema(Schema):
    """Every dashboard figure of one event."""

    event = ma.fields.Nested(StatsEventSchema)
    generated_at = _timestamp()
    today = _str(metadata={"format": "date"})
    totals = ma.fields.Nested(TotalsSchema)
    targets = ma.fields.Nested(TargetsSchema)
    per_hour = _list(HourSchema)
    by_rating = _list(RatingCountSchema)
    by_score_band = _list(BandCountSchema)
    by_staff = _list(StaffCountSchema)
    by_product = _list(ProductCountSchema)
    questions = _list(QuestionStatsSchema)
    devices = _list(DeviceStatsSchema)
    pending_uploads_known = ma.fields.Boolean()
    funnel = _list(StageSchema)
    speed_to_lead = ma.fields.Nested(SpeedToLeadSchema)
    outcomes = ma.fields.Nested(OutcomesSchema)
    rating_vs_outcome = _list(RatingOutcomeSchema)
    cost = ma.fields.Nested(CostSchema)


class CompareArgsSchema(Schema):
    """The events to compare, e.g. ?event_id=1&event_id=2."""

    event_id = ma.fields.List(
        Id(strict=False),
        required=True,
        validate=validate.Length(min=1, max=MAX_COMPARED),
    )
