"""Marshmallow fields and base schema shared by every API schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import validate

from server.alerts.destinations import DestinationRefused, check_written_destination, parse_networks
from sync.bounds import MAX_ID, day_problem, text_problem, time_problem
from sync.contact import is_country_code


class Text(ma.fields.String):
    """A string with surrounding whitespace removed, a length cap and no NUL characters.

    The checks run inline rather than as validator objects: a pushed batch holds
    thousands of these fields. The limits still reach the OpenAPI document through
    the field's metadata.
    """

    def __init__(self, *, max_length: int = 200, min_length: int | None = None, **kwargs: Any):
        self.max_length, self.min_length = max_length, min_length or 0
        limits = {"maxLength": max_length, **({"minLength": min_length} if min_length else {})}
        kwargs["metadata"] = {**limits, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return clean_text(value, self.max_length, self.min_length)


def clean_text(value: str, max_length: int, min_length: int = 0) -> str:
    """Return text without surrounding whitespace; raise ValidationError if it cannot be taken.

    The rule of every Text field, also run by the sync push's decoder (server/sync/decode.py).
    """
    text = value.strip()
    if not min_length <= len(text) <= max_length:
        raise ma.ValidationError(
            f"Give between {min_length} and {max_length} characters."
            if min_length
            else f"Give at most {max_length} characters."
        )
    # NUL and lone surrogates cannot be stored; refuse them here, not fail there.
    problem = text_problem(text)
    if problem:
        raise ma.ValidationError(problem)
    return text


def Id(*, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:  # noqa: N802
    """Return an integer id field bounded to what a database key can hold.

    Bodies are strict (JSON has numbers); query strings pass strict=False.
    """
    return ma.fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Count(**kwargs: Any) -> ma.fields.Integer:  # noqa: N802 - reads like a field class
    """Return a non-negative integer field that fits a database integer."""
    return ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_ID), **kwargs)


def Money(**kwargs: Any) -> ma.fields.Decimal:  # noqa: N802 - reads like a field class
    """Return a non-negative amount with two decimals, sent as a string to keep it exact."""
    return ma.fields.Decimal(
        places=2,
        as_string=True,
        # Checked by a function, not Range: apispec would write the bounds as strings into a
        # "number" schema, which is not valid OpenAPI (schemathesis refuses the document).
        validate=_money_range,
        metadata={"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "example": "1500.00"},
        **kwargs,
    )


def _money_range(value: Any) -> None:
    if not 0 <= value <= 10**11:
        raise ma.ValidationError("Must be between 0 and 100000000000.")


def _country(value: str) -> None:
    if not is_country_code(value):
        raise ma.ValidationError("Use an ISO 3166-1 alpha-2 country code, like DE or GB.")


class Country(Text):
    """An ISO 3166-1 alpha-2 country code, upper-cased."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_length=2, validate=_country, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).upper()


class Timestamp(ma.fields.AwareDateTime):
    """An ISO 8601 timestamp that must carry its UTC offset (tablets send their own).

    Parsed with datetime.fromisoformat, several times faster than marshmallow's
    generic parser; that matters when a push carries 100 leads.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            return parse_timestamp(value)
        except TimestampRefused as refused:
            if refused.problem:
                raise ma.ValidationError(refused.problem) from None
            raise self.make_error(
                refused.key, input=value, awareness=self.AWARENESS, obj_type=self.OBJ_TYPE
            ) from None


class TimestampRefused(ValueError):
    """A value Timestamp refuses: key names the field's message, or problem is the message."""

    def __init__(self, key: str, problem: str | None = None):
        super().__init__(problem or key)
        self.key, self.problem = key, problem


def parse_timestamp(value: Any) -> datetime:
    """Return an aware time within bounds from its ISO 8601 text, or raise TimestampRefused.

    The rule of every Timestamp field, also run by the sync push's decoder.
    """
    if not isinstance(value, str) or len(value) > 40:
        raise TimestampRefused("invalid")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TimestampRefused("invalid") from None
    if parsed.tzinfo is None:
        raise TimestampRefused("invalid_awareness")
    # Stored in UTC, shown in the event's zone: both must exist (sync/bounds.py).
    problem = time_problem(parsed)
    if problem:
        raise TimestampRefused("invalid", problem)
    return parsed


class Day(ma.fields.Date):
    """A calendar date within the bounds every time zone and a day's arithmetic allow."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        problem = day_problem(day)
        if problem:
            raise ma.ValidationError(problem)
        return day


class Slug(Text):
    """A short machine identifier such as a question or product id."""

    def __init__(self, **kwargs: Any):
        super().__init__(
            max_length=40,
            validate=validate.Regexp(
                r"^[a-z0-9][a-z0-9_-]*$", error="Use lower-case letters, digits, - and _."
            ),
            **kwargs,
        )


class Schema(ma.Schema):
    """Base schema: unknown fields are an error, field order is kept."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.validates_schema
    def _something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        # A PATCH (partial load) that changes nothing is almost always a client bug.
        if self.partial is True and not data:
            raise ma.ValidationError("Give at least one field to change.")


def _not_inward(url: str) -> None:
    """Refuse a webhook URL written as a private address, unless that network is allowed."""
    setting = current_app.config["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"] if has_app_context() else ""
    try:
        check_written_destination(url, parse_networks(setting))
    except DestinationRefused as refused:
        raise ma.ValidationError(f"Alerts cannot be posted there: {refused}.") from None


def WebhookUrl(**kwargs: Any) -> ma.fields.Url:  # noqa: N802 - reads like a field class
    """Return a webhook URL field: http(s), and not into the server's own network."""
    return ma.fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=[validate.Length(max=500), _not_inward],
        **kwargs,
    )
