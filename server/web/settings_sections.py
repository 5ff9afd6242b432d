"""The sections of an event's settings pages, and saving a section through the API's rules.

Each section is one page under the event's Settings tab with one form: what it shows
(values), the template of its form, and how a post is saved (save). A new section,
e.g. a CRM connection, is one more ``register(Section(...))``; the pages, navigation and
error display come with it. Sections that edit event fields save through
``save_event_fields``: the API's EventSchema and events service, so the web forms and
the JSON API accept and refuse exactly the same things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from server.events.models import Event
from server.events.schemas import EventSchema
from server.events.service import update_event
from server.extensions import db
from server.users.models import User
from server.web.event_form import field_errors


class FormError(Exception):
    """A section's post was refused: the lines to show, and the values to show them with."""

    def __init__(self, errors: list[str], values: dict[str, Any]):
        super().__init__("; ".join(errors))
        self.errors = errors
        self.values = values


@dataclass(frozen=True)
class Section:
    """One settings page of an event."""

    key: str
    title: str
    template: str
    # The values the form shows for the event as stored.
    values: Callable[[Event], dict[str, Any]]
    # Store what the form posted, or raise FormError (nothing stored then).
    save: Callable[[MultiDict[str, str], Event, User], None]
    # Extra template variables, e.g. the people a routing rule can pick.
    context: Callable[[Event], dict[str, Any]] = field(default=lambda event: {})
    # The message shown once the section is saved.
    saved: str = "Saved."
    # Where the section sits among the tabs (lowest first).
    position: int = 100


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add a section to every event's settings pages, placed by its position."""
    SECTIONS[section.key] = section
    ordered = sorted(SECTIONS.values(), key=lambda item: item.position)
    SECTIONS.clear()
    SECTIONS.update((item.key, item) for item in ordered)
    return section


def _schema_lines(messages: Any, describe: Callable[[str, Any], list[str]]) -> list[str]:
    found = []
    for name, value in (messages or {}).items():
        found += describe(name, value)
    return found


def _plain(name: str, value: Any) -> list[str]:
    return [f"{line}" for lines in field_errors({name: value}).values() for line in lines]


def save_event_fields(
    event: Event,
    raw: dict[str, Any],
    author: User,
    *,
    problems: list[str] | None = None,
    describe: Callable[[str, Any], list[str]] = _plain,
    shown: dict[str, Any] | None = None,
) -> None:
    """Validate raw event fields with the API's schema and store them with its service.

    problems are what the form itself could not read; with any, or any refusal of the
    schema or service, FormError is raised with shown (default raw), the form's values
    as typed, to show again. describe turns one field's schema errors into lines.
    """
    shown = raw if shown is None else shown
    lines = list(problems or [])
    fields: dict[str, Any] = {}
    try:
        fields = EventSchema(partial=True, only=tuple(raw)).load(raw)
    except ma.ValidationError as error:
        lines += _schema_lines(error.messages, describe)
    if lines:
        raise FormError(lines, shown)
    try:
        update_event(event, fields, author)
    except HTTPException as error:
        db.session.rollback()
        if error.code not in (409, 422):
            raise
        data = getattr(error, "data", None) or {}
        nested = (data.get("errors") or {}).get("json") or {}
        refused = _schema_lines(nested, describe) or [data.get("message") or str(error)]
        raise FormError(refused, shown) from None
