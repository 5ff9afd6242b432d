"""The lead fields the store keeps, their defaults, and the rules for single values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync.bounds import MAX_ID, json_problem, text_problem, time_problem
from sync.questions import answer_errors
from sync.store.errors import FieldError

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "country",
    "region",
)
# The protocol's create.fields, in its order.
CREATE_FIELDS = (
    "captured_by_id",
    "captured_at",
    *CONTACT_FIELDS,
    "source",
    "badge_payload",
    "answers",
    "products",
    "rating",
    "notes",
    "follow_up",
    "consent",
)
# What an update mutation may carry (docs/sync-protocol.md, update.fields).
EDITABLE_FIELDS = frozenset(
    {*CONTACT_FIELDS, "badge_payload", "answers", "products", "rating", "notes", "follow_up"}
    | {"consent"}
)
# Fixed at capture: changeable only while the server has never accepted the lead.
CAPTURE_FIELDS = frozenset({"captured_by_id", "captured_at", "source"})
JSON_FIELDS = frozenset({"answers", "products", "consent"})
PLAIN_TEXT = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "region",
    "badge_payload",
    "notes",
)
SEARCHED = ("first_name", "last_name", "email", "company")
# Personal data sealed at rest with AES-GCM (sync/crypto.py; README, "Tablet data at
# rest"). country and region stay in the clear: they name no one and the event's
# country is on every lead anyway. consent holds a version and a time, no personal data.
CONSENT_PURPOSES = ("marketing_email", "sales_follow_up")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")

DEFAULTS: dict[str, Any] = {
    **{name: None for name in CONTACT_FIELDS},
    "source": "manual",
    "badge_payload": None,
    "answers": {},
    "products": [],
    "rating": None,
    "notes": None,
    "follow_up": False,
    "consent": {"given": False, "version": None, "at": None},
}

SYNC_STATES = ("pending", "uploaded", "rejected")
LEAD_STATES = ("on_tablet", "uploaded", "routed", "acknowledged", "rejected")


def parse_aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FieldError("Give a date and time like 2026-11-23T09:59:58+01:00.") from None
    else:
        raise FieldError("Give a date and time.")
    if moment.tzinfo is None:
        raise FieldError("Give the time with its UTC offset.")
    # The server's own bounds (sync/bounds.py): refused here, not by every push after.
    problem = time_problem(moment)
    if problem:
        raise FieldError(problem)
    return moment


def clean_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("Give text.")
    problem = text_problem(value)
    if problem:
        raise FieldError(problem)
    # The server strips and stores "" as null; do the same so both sides hold one value.
    return value.strip() or None


def _consent_time(at: Any) -> str | None:
    if at is None:
        return None
    try:
        return parse_aware(at).isoformat()
    except FieldError as error:
        # Keyed like the server's answer, so the form marks the consent's time.
        raise FieldError({"at": [error.message]}) from None


def clean_consent(value: Any, default_version: int | None) -> dict[str, Any]:
    if value is None:
        return {"given": False, "version": None, "at": None}
    if not isinstance(value, Mapping) or not isinstance(value.get("given"), bool):
        raise FieldError({"given": ["Say whether the visitor gave consent (true or false)."]})
    if not value["given"]:
        return {"given": False, "version": None, "at": None}
    version = value.get("version", default_version)
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_ID
    ):
        raise FieldError({"version": ["Give the consent text's version number."]})
    at = value.get("at")
    # by_id and other server-side keys are dropped: the server refuses them in a push.
    consent: dict[str, Any] = {
        "given": True,
        "version": version,
        "at": _consent_time(at),
    }
    # The wording's language and what was agreed to; kept only when given.
    language = value.get("language")
    if language is not None:
        if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
            raise FieldError({"language": ["Give a language tag like de, en or pt-BR."]})
        consent["language"] = language
    purposes = value.get("purposes")
    if purposes is not None:
        if not isinstance(purposes, list) or not set(purposes) <= set(CONSENT_PURPOSES):
            raise FieldError({"purposes": [f"Choose from {', '.join(CONSENT_PURPOSES)}."]})
        consent["purposes"] = sorted(set(purposes))
    return consent


def answer_problems(
    event: Mapping[str, Any] | None, answers: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Check answers with the server's own rules (sync/questions.py); {} when they pass.

    Without a cached event (not paired yet) there are no questions to check against,
    but the answers must still be values a push can carry (sync/bounds.py).
    """
    if not event:
        problem = json_problem(dict(answers))
        return {"_schema": [problem]} if problem else {}
    return answer_errors(event.get("questions") or [], answers)


def lead_state(lead: Mapping[str, Any]) -> str:
    """Return where a lead stands, as the tablet shows it (one of LEAD_STATES)."""
    if lead["sync_state"] == "rejected":
        return "rejected"
    if lead["server_version"] is None:
        return "on_tablet"
    if lead.get("acknowledged_at"):
        return "acknowledged"
    if lead.get("owner_id") is not None:
        return "routed"
    return "uploaded"
