"""Describe the capture form from the event's configuration, and turn its values into a lead.

The form's values are plain JSON (strings, booleans, lists), keyed by FieldSpec.key:
contact fields by their lead field name, answers as ``answers.<question id>``. The
same values are the draft the app autosaves. Every rule comes from sync/: this module
only converts between what widgets hold and what DeviceStore.save_lead takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.contact import ContactError, is_country_code, normalise_email, normalise_phone
from sync.questions import answer_errors
from sync.store import CONSENT_PURPOSES

ANSWER_PREFIX = "answers."
FORM_ERROR = "_form"  # errors that belong to no single field
RATINGS = (("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold"))
DEFAULT_CONSENT = "The visitor agrees to be contacted about this event."

# Widget kinds the screens know how to draw.
TEXT, EMAIL, PHONE, COUNTRY, MULTILINE, NUMBER = (
    "text",
    "email",
    "phone",
    "country",
    "multiline",
    "number",
)
CHOICE, MULTI, YES_NO, TOGGLE, CONSENT = "choice", "multi", "yes_no", "toggle", "consent"
LANGUAGE, PURPOSES = "language", "purposes"  # the consent's wording and what it covers
TEXT_KINDS = frozenset({TEXT, EMAIL, PHONE, COUNTRY, MULTILINE, NUMBER})

# Groups: what a visitor fills in kiosk mode, and what staff add.
CONTACT, QUALIFICATION = "contact", "qualification"

# Values that are not widgets but travel with the form (a scanned badge).
HIDDEN_KEYS = ("source", "badge_payload")

_CONTACT_SPECS = (
    ("first_name", "First name", TEXT),
    ("last_name", "Last name", TEXT),
    ("email", "Email", EMAIL),
    ("phone", "Phone", PHONE),
    ("company", "Company", TEXT),
    ("job_title", "Job title", TEXT),
    ("country", "Country (2 letters)", COUNTRY),
)
_INTEGER = re.compile(r"[+-]?\d+")

# Consent in several languages: only for events whose config has consent_texts.
CONSENT_LANGUAGE, CONSENT_PURPOSES_KEY = "consent_language", "consent_purposes"
PURPOSE_LABELS = {"sales_follow_up": "Sales may follow up", "marketing_email": "Marketing emails"}
assert set(PURPOSE_LABELS) == set(CONSENT_PURPOSES)  # one list of purposes, in sync/store/fields.py


@dataclass(frozen=True)
class FieldSpec:
    """One input of the form: what it holds and how to draw it."""

    key: str
    label: str
    kind: str
    group: str = QUALIFICATION
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    required: bool = False

    @property
    def question_id(self) -> str | None:
        """Return the question id for an answer field, else None."""
        return self.key[len(ANSWER_PREFIX) :] if self.key.startswith(ANSWER_PREFIX) else None


def question_spec(question: Mapping[str, Any]) -> FieldSpec:
    """Return the field for one qualification question of event_config()['questions']."""
    kind = {
        "single_choice": CHOICE,
        "multiple_choice": MULTI,
        "yes_no": YES_NO,
        "number": NUMBER,
        "text": MULTILINE,
    }.get(question.get("type"), TEXT)
    options = tuple((str(o), str(o)) for o in question.get("options") or ())
    return FieldSpec(
        key=ANSWER_PREFIX + str(question["id"]),
        label=str(question.get("label") or question["id"]),
        kind=kind,
        options=options,
        required=bool(question.get("required")),
    )


def consent_languages(event: Mapping[str, Any] | None) -> list[str]:
    """Return the languages the event offers consent wording in, in the config's order."""
    languages: list[str] = []
    for wording in (event or {}).get("consent_texts") or ():
        language = wording.get("language") if isinstance(wording, Mapping) else None
        if isinstance(language, str) and language and language not in languages:
            languages.append(language)
    return languages


def consent_wording(
    event: Mapping[str, Any] | None, language: str | None = None
) -> tuple[str, int | None]:
    """Return (text, version) of the consent shown for a language.

    Without that language among consent_texts, the event's own consent_text and
    consent_version apply (events without texts per language).
    """
    event = event or {}
    for wording in event.get("consent_texts") or ():
        if isinstance(wording, Mapping) and wording.get("language") == language:
            version = wording.get("version")
            return str(wording.get("text") or DEFAULT_CONSENT), (
                version if isinstance(version, int) and not isinstance(version, bool) else None
            )
    return str(event.get("consent_text") or DEFAULT_CONSENT), event.get("consent_version") or None


def consent_specs(event: Mapping[str, Any] | None) -> list[FieldSpec]:
    """Return the consent fields: language choice, tick box and purposes when texts exist."""
    languages = consent_languages(event)
    if not languages:
        return [FieldSpec("consent", consent_wording(event)[0], CONSENT, CONTACT)]
    return [
        FieldSpec(
            CONSENT_LANGUAGE,
            "Consent language",
            LANGUAGE,
            CONTACT,
            options=tuple((language, language) for language in languages),
        ),
        FieldSpec("consent", consent_wording(event, languages[0])[0], CONSENT, CONTACT),
        FieldSpec(
            CONSENT_PURPOSES_KEY,
            "The visitor agrees to",
            PURPOSES,
            CONTACT,
            options=tuple(PURPOSE_LABELS.items()),
        ),
    ]


def consent_from(
    values: Mapping[str, Any],
    specs: Sequence[FieldSpec],
    event: Mapping[str, Any] | None,
    *,
    now: datetime,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the consent to save for the form's values.

    A consent still given keeps previous (editing must not move the time the visitor
    agreed) unless its language or purposes changed: that is a new agreement, now.
    """
    if not values.get("consent"):
        return {"given": False, "version": None, "at": None}
    keys = {spec.key for spec in specs}
    chosen: dict[str, Any] = {}
    if CONSENT_LANGUAGE in keys:
        language = values.get(CONSENT_LANGUAGE) or None
        known = {
            option for option, _ in next(s for s in specs if s.key == CONSENT_LANGUAGE).options
        }
        chosen["language"] = language if language in known else None
        purposes = values.get(CONSENT_PURPOSES_KEY) or []
        chosen["purposes"] = sorted({p for p in purposes if p in PURPOSE_LABELS})
    if previous and previous.get("given"):
        same = all(
            key not in previous or previous.get(key) == value for key, value in chosen.items()
        )
        if same:
            return dict(previous)
    _text, version = consent_wording(event, chosen.get("language"))
    consent: dict[str, Any] = {"given": True, "version": version, "at": now.isoformat()}
    if chosen.get("language"):
        consent["language"] = chosen["language"]
    if "purposes" in chosen:
        consent["purposes"] = chosen["purposes"]
    return consent


def form_specs(event: Mapping[str, Any] | None) -> list[FieldSpec]:
    """Return every field of the capture form for an event, in display order."""
    event = event or {}
    specs = [FieldSpec(key, label, kind, CONTACT) for key, label, kind in _CONTACT_SPECS]
    specs += consent_specs(event)
    specs += [question_spec(q) for q in event.get("questions") or ()]
    products = tuple(
        (str(p.get("id")), str(p.get("name") or p.get("id")))
        for p in event.get("products") or ()
        if p.get("id")
    )
    if products:
        specs.append(FieldSpec("products", "Interested in", MULTI, options=products))
    specs += [
        FieldSpec("rating", "Rating", CHOICE, options=RATINGS),
        FieldSpec("notes", "Notes", MULTILINE),
        FieldSpec("follow_up", "Follow up after the event", TOGGLE),
    ]
    return specs


def empty_value(spec: FieldSpec) -> Any:
    """Return the value of a field nobody touched."""
    if spec.kind in (MULTI, PURPOSES):
        return []
    if spec.kind == LANGUAGE:
        return spec.options[0][0] if spec.options else None
    if spec.kind in (TOGGLE, CONSENT):
        return False
    if spec.kind in (CHOICE, YES_NO):
        return None
    return ""


def empty_values(specs: Sequence[FieldSpec]) -> dict[str, Any]:
    """Return a blank form."""
    values = {spec.key: empty_value(spec) for spec in specs}
    values.update({"source": "manual", "badge_payload": None})
    return values


def is_blank(values: Mapping[str, Any], specs: Sequence[FieldSpec]) -> bool:
    """Tell whether the form holds nothing worth keeping as a draft."""
    if values.get("badge_payload"):
        return False
    return all(values.get(spec.key) == empty_value(spec) for spec in specs)


def _valid_value(spec: FieldSpec, value: Any) -> bool:
    if spec.kind in (MULTI, PURPOSES):
        known = {option for option, _ in spec.options}
        return isinstance(value, list) and all(v in known for v in value)
    if spec.kind in (TOGGLE, CONSENT):
        return isinstance(value, bool)
    if spec.kind == YES_NO:
        return value is None or isinstance(value, bool)
    if spec.kind == CHOICE:
        return value is None or value in {option for option, _ in spec.options}
    if spec.kind == LANGUAGE:
        return value in {option for option, _ in spec.options}
    return isinstance(value, str)


def restore_values(specs: Sequence[FieldSpec], draft: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return a form filled from a saved draft, skipping what no longer fits the event."""
    values = empty_values(specs)
    if not draft:
        return values
    for spec in specs:
        if spec.key in draft and _valid_value(spec, draft[spec.key]):
            values[spec.key] = draft[spec.key]
    for key in HIDDEN_KEYS:
        if isinstance(draft.get(key), str):
            values[key] = draft[key]
    return values


def parse_number(text: str) -> int | float | str | None:
    """Return typed text as a number; text that is no number comes back unchanged."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        return None
    if _INTEGER.fullmatch(cleaned):
        return int(cleaned)
    try:
        return float(cleaned.replace(",", "."))
    except ValueError:
        return text  # sync.questions answers "Give a number."


def number_text(value: Any) -> str:
    """Return a number answer as staff typed it: 250 not 250.0, 1234567 not 1.23457e+06."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # repr is the shortest text that reads back as the same float (0.1, not 0.1000000001).
    return repr(value) if isinstance(value, float) else str(value)


def answers_from(values: Mapping[str, Any], specs: Sequence[FieldSpec]) -> dict[str, Any]:
    """Return the answers dict of a form, numbers parsed, blanks left out."""
    answers: dict[str, Any] = {}
    for spec in specs:
        question = spec.question_id
        if question is None:
            continue
        value = values.get(spec.key)
        if spec.kind == NUMBER:
            value = parse_number(value or "")
        if value not in (None, "", []):
            answers[question] = value
    return answers


def to_lead_fields(
    values: Mapping[str, Any],
    specs: Sequence[FieldSpec],
    event: Mapping[str, Any] | None,
    *,
    now: datetime,
    previous_consent: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the lead fields for DeviceStore.save_lead or update_lead.

    Consent comes from consent_from (language, version and purposes, or the event's
    own text version for events without consent texts per language).
    """
    event = event or {}
    keys = {spec.key for spec in specs}
    fields: dict[str, Any] = {
        key: values.get(key) or None for key, _, _ in _CONTACT_SPECS if key in keys
    }
    fields["answers"] = answers_from(values, specs)
    if "products" in keys:
        fields["products"] = list(values.get("products") or [])
    fields["rating"] = values.get("rating") or None
    fields["notes"] = values.get("notes") or None
    fields["follow_up"] = bool(values.get("follow_up"))
    fields["consent"] = consent_from(values, specs, event, now=now, previous=previous_consent)
    fields["source"] = values.get("source") or "manual"
    fields["badge_payload"] = values.get("badge_payload") or None
    return fields


def values_from_lead(lead: Mapping[str, Any], specs: Sequence[FieldSpec]) -> dict[str, Any]:
    """Return form values showing a saved lead, for reading and editing."""
    values = empty_values(specs)
    answers = lead.get("answers") or {}
    for spec in specs:
        question = spec.question_id
        if question is not None:
            value = answers.get(question)
            if spec.kind == NUMBER:
                value = number_text(value)
            elif value is None:
                value = empty_value(spec)
        elif spec.kind == CONSENT:
            value = bool((lead.get("consent") or {}).get("given"))
        elif spec.kind == LANGUAGE:
            value = (lead.get("consent") or {}).get("language") or empty_value(spec)
        elif spec.kind == PURPOSES:
            value = list((lead.get("consent") or {}).get("purposes") or [])
        else:
            value = lead.get(spec.key)
            if value is None:
                value = empty_value(spec)
        values[spec.key] = value if _valid_value(spec, value) else empty_value(spec)
    values["source"] = lead.get("source") or "manual"
    values["badge_payload"] = lead.get("badge_payload")
    return values


def check_field(spec: FieldSpec, value: Any, event: Mapping[str, Any] | None) -> str | None:
    """Return the inline error for one field as typed, or None; blanks are not errors here."""
    event = event or {}
    if spec.kind in TEXT_KINDS and not (value or "").strip():
        return None
    try:
        if spec.kind == EMAIL:
            normalise_email(value)
        elif spec.kind == PHONE:
            normalise_phone(value, event.get("country"))
    except ContactError as error:
        return str(error)
    if spec.kind == COUNTRY and not is_country_code(value.strip()):
        return "Use a 2-letter country code, like DE or GB."
    question_id = spec.question_id
    if question_id is not None:
        question = next(
            (q for q in event.get("questions") or () if str(q.get("id")) == question_id), None
        )
        if question is None:
            return None
        answer = parse_number(value) if spec.kind == NUMBER else value
        # Required questions are enforced at save time, not while the form is filled in.
        errors = answer_errors([{**question, "required": False}], {question_id: answer})
        messages = errors.get(question_id)
        return messages[0] if messages else None
    return None


def _first_message(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _first_message(value[0])
    if isinstance(value, Mapping) and value:
        return _first_message(next(iter(value.values())))
    return "This value is not valid."


def errors_by_key(errors: Mapping[str, Any]) -> dict[str, str]:
    """Map LeadInvalid.errors (or a server's rejection reasons) onto form keys."""
    mapped: dict[str, str] = {}
    for name, problem in errors.items():
        if name == "answers" and isinstance(problem, Mapping):
            for question, messages in problem.items():
                mapped[ANSWER_PREFIX + str(question)] = _first_message(messages)
        elif name in ("_schema", "captured_by_id", "id", "captured_at"):
            message = _first_message(problem)
            mapped[FORM_ERROR] = (
                f"{mapped[FORM_ERROR]} {message}" if FORM_ERROR in mapped else message
            )
        else:
            mapped[name] = _first_message(problem)
    return mapped


def rejection_text(errors: Mapping[str, Any], event: Mapping[str, Any] | None) -> str:
    """Return why the server refused a lead, naming the fields as the form labels them."""
    labels = {spec.key: spec.label for spec in form_specs(event)}
    labels["consent"] = "Consent"  # the form labels it with the whole consent wording
    labels.setdefault("products", "Interested in")
    parts = []
    for key, message in errors_by_key(errors).items():
        if key == FORM_ERROR:
            parts.append(message)
        else:
            label = labels.get(key) or key.removeprefix(ANSWER_PREFIX).replace("_", " ")
            parts.append(f"{label.rstrip('?:')}: {message}")
    return " ".join(parts) or "The server refused this lead."


def duplicate_keys(values: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return the (email, phone) to look duplicates up by."""
    return (values.get("email") or None, values.get("phone") or None)


def changed_fields(lead: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields that differ from the saved lead, for DeviceStore.update_lead.

    Unchanged capture fields (source) are left out: the store refuses them once the
    server has the lead, even when the value is the same.
    """
    return {name: value for name, value in fields.items() if lead.get(name) != value}
