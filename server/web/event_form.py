"""Turn the event form into the API's event fields, validated by the API's own EventSchema."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from server.events.models import Event, default_disqualification_reasons
from server.events.schemas import EventSchema
from server.json_body import BodyNotJson, decode_json

TEXT_FIELDS = ("name", "venue", "starts_on", "ends_on", "timezone", "country", "booth")
OPTIONAL_TEXT = ("venue", "country", "booth", "campaign_code", "consent_text", "cost")
INT_FIELDS = ("target_leads", "target_hot_leads", "escalation_minutes")
# The JSON-shaped parts are edited as JSON text and checked by the same nested schemas.
JSON_FIELDS = ("questions", "products", "rubric", "routing")
# Lists of short texts are edited one item a line.
LINE_FIELDS = ("disqualification_reasons",)


def _json_default(name: str) -> Any:
    return (
        {"hot": 10, "warm": 5, "rules": []}
        if name == "rubric"
        else ({"rules": []} if name == "routing" else [])
    )


def form_values(event: Event | None) -> dict[str, str]:
    """Return the form's text for event (or for a new one)."""
    values: dict[str, str] = {"currency": "EUR", "escalation_minutes": "15", "timezone": "UTC"}
    for name in JSON_FIELDS:
        values[name] = json.dumps(_json_default(name), indent=2)
    values["disqualification_reasons"] = "\n".join(default_disqualification_reasons())
    if event is None:
        return values
    dumped = EventSchema().dump(event)
    for name in (*TEXT_FIELDS, *OPTIONAL_TEXT, *INT_FIELDS, "currency"):
        value = dumped.get(name)
        values[name] = "" if value is None else str(value)
    for name in JSON_FIELDS:
        value = dumped.get(name)
        if isinstance(value, dict):
            value = {key: item for key, item in value.items() if key != "version"}
        values[name] = json.dumps(value if value is not None else _json_default(name), indent=2)
    for name in LINE_FIELDS:
        values[name] = "\n".join(dumped.get(name) or [])
    values["active"] = "on" if event.active else ""
    return values


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            label = f"{prefix}{key}" if key != "_schema" else prefix.rstrip(".")
            found += _flatten(value, f"{label}." if label else "")
        return found
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        where = prefix.rstrip(".")
        return [f"{where}: {item}" if where else item for item in messages]
    if isinstance(messages, list):
        return [line for item in messages for line in _flatten(item, prefix)]
    return [f"{prefix.rstrip('.')}: {messages}"]


def field_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Return schema errors as readable lines, keyed by the form field they belong to."""
    errors: dict[str, list[str]] = {}
    for field, value in messages.items():
        lines = _flatten(value)
        errors.setdefault(field, []).extend(lines)
    return errors


def parse_event_form(form: MultiDict[str, str], event: Event | None) -> dict[str, Any]:
    """Return validated event fields from the form; raise ValidationError with every problem.

    Editing sends a JSON part only when it changed, so saving the form untouched does
    not make a new rubric version.
    """
    raw: dict[str, Any] = {}
    json_errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        raw[name] = form.get(name, "").strip()
    for name in OPTIONAL_TEXT:
        if name in form:
            raw[name] = form[name].strip() or None
    if form.get("currency", "").strip():
        raw["currency"] = form["currency"].strip().upper()
    for name in INT_FIELDS:
        text = form.get(name, "").strip()
        if not text:
            if name != "escalation_minutes":
                raw[name] = None
            continue
        raw[name] = int(text) if text.lstrip("-").isdigit() else text
    for name in LINE_FIELDS:
        lines = [line.strip() for line in form.get(name, "").splitlines()]
        # An empty list means "the default reasons" to the schema.
        raw[name] = [line for line in lines if line]
    for name in JSON_FIELDS:
        try:
            raw[name] = decode_json((form.get(name, "") or "null").encode())
        except BodyNotJson as error:
            json_errors[name] = [_json_problem(error)]
    if event is not None:
        raw["active"] = form.get("active") == "on"
        current = form_values(event)
        for name in JSON_FIELDS:
            if name in raw and raw[name] == json.loads(current[name]):
                del raw[name]
    for name in [name for name in JSON_FIELDS if raw.get(name, 0) is None]:
        del raw[name]
    try:
        fields = EventSchema(partial=event is not None).load(raw)
    except ma.ValidationError as error:
        raise ma.ValidationError({**error.messages, **json_errors}) from None  # type: ignore[dict-item]
    if json_errors:
        raise ma.ValidationError(json_errors)  # type: ignore[arg-type]
    return fields


def _json_problem(error: BodyNotJson) -> str:
    """Say why a JSON text area was refused, with the line when the syntax is at fault."""
    cause = error.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"Not valid JSON: {cause.msg} (line {cause.lineno})."
    return f"Not valid JSON: the text {str(error).removeprefix('The body ')}"
