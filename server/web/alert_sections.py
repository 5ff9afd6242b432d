"""Alert channels as settings forms: an event's (and its thank-you email), and a person's.

The same fields for both: email on or off, a webhook URL and a chat webhook URL; events
add the webhook's signing secret and the thank-you email to visitors. Stored through the
API's schemas and services, so a URL the API refuses is refused here with the same words.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from server.alerts.thank_you import DEFAULT_INTRO, DEFAULT_SUBJECT
from server.events.models import Event
from server.users.models import User
from server.users.schemas import UserSchema
from server.users.service import update_user
from server.web.event_form import field_errors
from server.web.settings_sections import FormError, Section, register, save_event_fields

CHANNEL_FIELDS = ("webhook_url", "chat_webhook_url")


def channel_values(alerts: dict[str, Any] | None) -> dict[str, Any]:
    """Return the channel fields a form shows for stored alert settings."""
    alerts = alerts or {}
    return {
        "email": alerts.get("email", True),
        **{name: alerts.get(name) or "" for name in CHANNEL_FIELDS},
    }


def read_channels(form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the alert settings a channels form posted (empty URL fields clear them)."""
    return {
        "email": form.get("email") == "on",
        **{name: form.get(name, "").strip() or None for name in CHANNEL_FIELDS},
    }


def _lines(messages: Any) -> list[str]:
    return [line for lines in field_errors(messages).values() for line in lines]


def _describe(name: str, value: Any) -> list[str]:
    labels = {
        "webhook_url": "Webhook URL",
        "chat_webhook_url": "Chat webhook URL",
        "webhook_secret": "Webhook secret",
        "thank_you": "Thank-you email",
    }
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            label = labels.get(key, key.replace("_", " ").capitalize())
            found += [f"{label}: {line}" for line in _lines({key: inner})]
        return found
    return [str(line) for line in value]


def _event_values(event: Event) -> dict[str, Any]:
    alerts = event.alerts or {}
    thanks = alerts.get("thank_you") or {}
    return {
        **channel_values(alerts),
        "has_secret": bool(alerts.get("webhook_secret")),
        "thank_you_enabled": bool(thanks.get("enabled")),
        "thank_you_subject": thanks.get("subject") or "",
        "thank_you_intro": thanks.get("intro") or "",
    }


def _save_event_alerts(form: MultiDict[str, str], event: Event, author: User) -> None:
    alerts = read_channels(form)
    secret = form.get("webhook_secret", "")
    if form.get("clear_secret") == "on":
        alerts["webhook_secret"] = None
    elif secret.strip():
        # Write-only: a blank field keeps the secret stored earlier (events service merges).
        alerts["webhook_secret"] = secret.strip()
    alerts["thank_you"] = {
        "enabled": form.get("thank_you_enabled") == "on",
        "subject": form.get("thank_you_subject", "").strip() or None,
        "intro": form.get("thank_you_intro", "").strip() or None,
    }
    shown = {
        **{key: value or "" for key, value in alerts.items() if key in CHANNEL_FIELDS},
        "email": alerts["email"],
        "has_secret": bool((event.alerts or {}).get("webhook_secret")),
        "thank_you_enabled": alerts["thank_you"]["enabled"],
        "thank_you_subject": form.get("thank_you_subject", ""),
        "thank_you_intro": form.get("thank_you_intro", ""),
    }
    save_event_fields(event, {"alerts": alerts}, author, describe=_describe, shown=shown)


register(
    Section(
        key="alerts",
        title="Alerts and thank-you",
        template="web/settings/alerts.html",
        values=_event_values,
        save=_save_event_alerts,
        context=lambda event: {
            "default_subject": DEFAULT_SUBJECT.format(event=event.name),
            "default_intro": DEFAULT_INTRO,
        },
        saved="Alert settings saved.",
        position=50,
    )
)


def save_user_channels(user: User, form: MultiDict[str, str]) -> None:
    """Store a person's own alert channels from a form; raise FormError when refused."""
    alerts = read_channels(form)
    try:
        fields = UserSchema(partial=True, only=("alerts",)).load({"alerts": alerts})
    except ma.ValidationError as error:
        lines = [line for name, value in error.messages.items() for line in _describe(name, value)]  # type: ignore[union-attr]
        raise FormError(lines, {key: value or "" for key, value in alerts.items()}) from None
    update_user(user, fields)
