"""Decode a sync push fast: the body and each mutation's lead fields as typed msgspec values.

The marshmallow schemas (server/sync/schemas.py PushSchema, server/leads/schemas.py
LeadCreateSchema and LeadContactSchema) stay the one definition of what is valid: they
validate the REST API and describe the OpenAPI document. This module decodes the same
documents with msgspec Structs (types, required and unknown fields, in C) and then runs,
for each field, the rules of that field's marshmallow definition: its bounds and validators
are read from the schema's own field objects, and its cleaning (server/fields.py
clean_text, parse_timestamp) is the very function the field calls.

A decoder returns None for anything it refuses; the caller then loads the document with
the marshmallow schema, whose messages are the API's (a refused document is rare, its
wording must be that of the schema). tests/test_push_decode.py checks that both accept and
refuse the same documents, with equal results.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import marshmallow as ma
import msgspec

from server.fields import Country, Slug, Text, TimestampRefused, clean_text, parse_timestamp
from server.leads.models import LeadSource, Rating
from server.leads.schemas import LeadContactSchema, LeadCreateSchema
from server.sync.schemas import MutationSchema, PushSchema

UNSET = msgspec.UNSET
_Unset = msgspec.UnsetType
_OptionalText = str | None | _Unset


class _Refused(Exception):
    """The fast decoder does not take this value; the schema says why."""


class ConsentFields(msgspec.Struct, forbid_unknown_fields=True):
    """ConsentSchema's loadable fields (given is required unless loaded as partial)."""

    given: Any = UNSET
    version: int | None | _Unset = UNSET
    at: _OptionalText = UNSET
    language: _OptionalText = UNSET
    purposes: list[str] | _Unset = UNSET


class ContactFields(msgspec.Struct, forbid_unknown_fields=True):
    """LeadContactSchema's fields: what an update may send."""

    first_name: _OptionalText = UNSET
    last_name: _OptionalText = UNSET
    email: _OptionalText = UNSET
    phone: _OptionalText = UNSET
    company: _OptionalText = UNSET
    job_title: _OptionalText = UNSET
    country: _OptionalText = UNSET
    region: _OptionalText = UNSET
    source: LeadSource | _Unset = UNSET
    badge_payload: _OptionalText = UNSET
    answers: dict[str, Any] | _Unset = UNSET
    products: list[str] | _Unset = UNSET
    rating: Rating | None | _Unset = UNSET
    notes: _OptionalText = UNSET
    follow_up: Any = UNSET
    consent: ConsentFields | _Unset = UNSET


class CreateFields(ContactFields, forbid_unknown_fields=True):
    """LeadCreateSchema's fields: a captured lead, with the id the tablet made."""

    id: str | _Unset = UNSET
    captured_by_id: int | _Unset = UNSET
    captured_at: str | _Unset = UNSET


class Mutation(msgspec.Struct, forbid_unknown_fields=True):
    """MutationSchema: one change; its fields are decoded once its kind is known."""

    mutation_id: int
    kind: Literal["create", "update"]
    lead_id: str
    fields: dict[str, Any]
    base_version: int | None | _Unset = UNSET


class PushBody(msgspec.Struct, forbid_unknown_fields=True):
    """PushSchema: the batch."""

    mutations: list[Mutation]


Check = Callable[[Any], Any]


def _validated(field: ma.fields.Field, value: Any) -> Any:
    """Run the field's own validators (Range, Length, Regexp, OneOf...) on a cleaned value."""
    try:
        field._validate(value)
    except ma.ValidationError:
        raise _Refused from None
    return value


def _text_check(field: Text) -> Check:
    upper = isinstance(field, Country)
    max_length, min_length = field.max_length, field.min_length
    validated = bool(field.validators)

    def check(value: Any) -> Any:
        if value is None:
            return None
        try:
            text = clean_text(value, max_length, min_length)
        except ma.ValidationError:
            raise _Refused from None
        if upper:
            text = text.upper()
        return _validated(field, text) if validated else text

    return check


def _time_check(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except TimestampRefused:
        raise _Refused from None


def _boolean_check(field: ma.fields.Boolean) -> Check:
    truthy, falsy = field.truthy, field.falsy

    def check(value: Any) -> bool:
        # As ma.fields.Boolean: its own sets of true and false spellings.
        try:
            if value in truthy:
                return True
            if value in falsy:
                return False
        except TypeError:
            pass
        raise _Refused

    return check


def _string_check(field: ma.fields.String) -> Check:
    return lambda value: _validated(field, value)


def _slug_map_check(field: ma.fields.Dict) -> Check:
    key = _text_check(field.key_field)

    def check(value: dict[str, Any]) -> dict[str, Any]:
        return _validated(field, {key(name): item for name, item in value.items()})

    return check


def _list_check(field: ma.fields.List, partial: bool) -> Check:
    item = _check_of(field.inner, partial)
    return lambda value: _validated(field, [item(each) for each in value])


def _integer_check(field: ma.fields.Integer) -> Check:
    return lambda value: None if value is None else _validated(field, value)


def _check_of(field: ma.fields.Field, partial: bool) -> Check:
    """Return the check that cleans and validates a decoded value as field does.

    partial: the load is partial; marshmallow passes that on to nested schemas.
    """
    if isinstance(field, Text):
        return _text_check(field)
    if isinstance(field, ma.fields.AwareDateTime):
        return _time_check
    if isinstance(field, ma.fields.Boolean):
        return _boolean_check(field)
    if isinstance(field, ma.fields.Integer):
        return _integer_check(field)
    if isinstance(field, ma.fields.Enum):
        return lambda value: value  # msgspec decoded the member by value
    if isinstance(field, ma.fields.UUID):
        return _uuid_check
    if isinstance(field, ma.fields.Dict) and isinstance(field.key_field, Slug):
        return _slug_map_check(field)
    if isinstance(field, ma.fields.Dict) and field.key_field is field.value_field is None:
        return dict  # an untyped mapping: loaded as a copy of what was sent
    if isinstance(field, ma.fields.List):
        return _list_check(field, partial)
    if isinstance(field, ma.fields.String):
        return _string_check(field)
    if isinstance(field, ma.fields.Nested):
        return _Fields(field.schema, partial).load
    raise TypeError(f"no fast check for {type(field).__name__}")  # found at import


def _uuid_check(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise _Refused from None


class _Fields:
    """A schema's loadable fields: each one's check, whether required, and its default."""

    def __init__(self, schema: ma.Schema, partial: bool):
        self.schema, self.partial = schema, partial
        self.checks: dict[str, Check] = {}
        self.required: set[str] = set()
        self.defaults: dict[str, Any] = {}
        for name, field in schema.load_fields.items():
            self.checks[name] = _check_of(field, partial)
            if field.required:
                self.required.add(name)
            elif field.load_default is not ma.missing:
                self.defaults[name] = field.load_default

    def load(self, struct: msgspec.Struct) -> dict[str, Any]:
        """Return what the schema's load returns for the decoded struct, or raise _Refused."""
        loaded: dict[str, Any] = {}
        for name, check in self.checks.items():
            value = getattr(struct, name)
            if value is UNSET:
                if self.partial:
                    continue
                if name in self.required:
                    raise _Refused
                if name in self.defaults:
                    default = self.defaults[name]
                    loaded[name] = default() if callable(default) else default
                continue
            loaded[name] = check(value)
        if self.partial and not loaded and self.schema.partial is True:
            raise _Refused  # server/fields.py Schema: "Give at least one field to change."
        return loaded


# Built once from the schema objects push.py loads with, so both read the same fields.
_CREATE = _Fields(LeadCreateSchema(), partial=False)
_UPDATE = _Fields(LeadContactSchema(partial=True), partial=True)
_MUTATION = _Fields(MutationSchema(), partial=False)
_PUSH_LENGTH = PushSchema().fields["mutations"]


def decode_create(fields: dict[str, Any]) -> dict[str, Any] | None:
    """Return LeadCreateSchema().load(fields), or None where that load would raise."""
    try:
        return _CREATE.load(msgspec.convert(fields, CreateFields))
    except (msgspec.MsgspecError, _Refused, ValueError):  # ValueError: a message on a surrogate
        return None


def decode_update(fields: dict[str, Any]) -> dict[str, Any] | None:
    """Return LeadContactSchema(partial=True).load(fields), or None where it would raise."""
    try:
        return _UPDATE.load(msgspec.convert(fields, ContactFields))
    except (msgspec.MsgspecError, _Refused, ValueError):  # ValueError: a message on a surrogate
        return None


_DECODER = msgspec.json.Decoder(PushBody)
# As server/json_body.py: a lone surrogate only reaches a string through such an escape.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def decode_push(body: bytes) -> dict[str, Any] | None:
    """Return what PushSchema loads from a JSON body, or None for the schema to answer.

    One pass over the body; each mutation's fields stay a dict here (a receipt keeps
    them as sent) and are decoded by kind in server/sync/push.py.
    """
    if _SURROGATE_ESCAPE.search(body):
        return None  # rare; server/json_body.py refuses lone ones with its own message
    try:
        push = _DECODER.decode(body)
        mutations = [_mutation(mutation) for mutation in push.mutations]
        _validated(_PUSH_LENGTH, mutations)
    except (msgspec.MsgspecError, _Refused, ValueError, RecursionError):
        return None
    ids = [mutation["mutation_id"] for mutation in mutations]
    if any(later <= earlier for earlier, later in zip(ids, ids[1:], strict=False)):
        return None
    return {"mutations": mutations}


def _mutation(mutation: Mutation) -> dict[str, Any]:
    return _MUTATION.load(mutation)
