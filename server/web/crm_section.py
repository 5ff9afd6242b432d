"""The CRM connection as an event settings section: which CRM, its token, mappings, a test.

Stored through the API's schema and service (server/crm/), so the form and the JSON API
accept and refuse the same things. The token, the OAuth app's refresh token, client id and
secret, and the webhook secret are write-only: the form never shows them, and a blank
field keeps what is stored.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from server.crm import service
from server.crm.lead_data import MAPPABLE_FIELDS
from server.crm.models import CrmKind
from server.crm.registry import CREDENTIAL_LABELS, default_fields
from server.crm.schemas import CrmConnectionSchema
from server.events.models import Event
from server.extensions import db
from server.users.models import Role, User
from server.web.event_form import field_errors
from server.web.settings_sections import FormError, Section, register

KIND_NAMES = {
    CrmKind.HUBSPOT: "HubSpot",
    CrmKind.SALESFORCE: "Salesforce",
    CrmKind.PIPEDRIVE: "Pipedrive",
}
# Typed in a mapping field: leave that leadbridge field out of the CRM record.
DO_NOT_SEND = "-"


def _reps(event: Event) -> list[User]:
    return [m.user for m in event.active_members if m.user.role == Role.REP]


def _values(event: Event) -> dict[str, Any]:
    connection = service.connection_of(event.id)
    if connection is None:
        return {
            "connected": False,
            "kind": CrmKind.HUBSPOT.value,
            "base_url": "",
            "enabled": True,
            "mapping": {},
            "owners": {},
        }
    stored = connection.field_mapping or {}
    return {
        "connected": True,
        "kind": connection.kind.value,
        "base_url": connection.base_url or "",
        "enabled": connection.enabled,
        "mapping": {k: (v or DO_NOT_SEND) for k, v in stored.items()},
        "owners": dict(connection.owner_mapping or {}),
        "has_webhook_secret": bool(connection.webhook_secret),
        "has_refresh_token": service.has_refresh_token(connection),
        "webhook_url": current_app.config["LEADBRIDGE_PUBLIC_URL"].rstrip("/")
        + service.describe(connection)["webhook_path"],
        "polled_at": connection.polled_at,
    }


def _read(form: MultiDict[str, str], event: Event) -> dict[str, Any]:
    mapping = {}
    for name in MAPPABLE_FIELDS:
        typed = form.get(f"map_{name}", "").strip()
        if typed:
            mapping[name] = "" if typed == DO_NOT_SEND else typed
    owners = {}
    for rep in _reps(event):
        typed = form.get(f"owner_{rep.id}", "").strip()
        if typed:
            owners[str(rep.id)] = typed
    raw: dict[str, Any] = {
        "kind": form.get("kind", ""),
        "base_url": form.get("base_url", "").strip() or None,
        "enabled": form.get("enabled") == "on",
        "field_mapping": mapping,
        "owner_mapping": owners,
    }
    for secret in ("token", *service.OAUTH_FIELDS, "webhook_secret"):
        if form.get(secret, "").strip():
            raw[secret] = form[secret].strip()
    return raw


def _shown(raw: dict[str, Any], event: Event) -> dict[str, Any]:
    values = _values(event)
    values.update(
        kind=raw["kind"],
        base_url=raw["base_url"] or "",
        enabled=raw["enabled"],
        mapping={k: (v or DO_NOT_SEND) for k, v in raw["field_mapping"].items()},
        owners=raw["owner_mapping"],
    )
    return values


def _lines(messages: Any) -> list[str]:
    labels = {
        "kind": "CRM",
        "base_url": "Address",
        "token": "Token",
        "refresh_token": "Refresh token",
        "client_id": "Client id",
        "client_secret": "Client secret",
        "field_mapping": "Field mapping",
        "owner_mapping": "Owner mapping",
        "webhook_secret": "Webhook secret",
    }
    found = []
    for name, lines in field_errors(messages).items():
        top = name.split(".")[0]
        found += [f"{labels.get(top, top)}: {line}" for line in lines]
    return found


def _save(form: MultiDict[str, str], event: Event, author: User) -> None:
    raw = _read(form, event)
    try:
        data = CrmConnectionSchema().load(raw)
    except ma.ValidationError as error:
        raise FormError(_lines(error.messages), _shown(raw, event)) from None
    try:
        service.save(event.id, data)
    except HTTPException as error:
        db.session.rollback()
        if error.code != 422:
            raise
        payload = getattr(error, "data", None) or {}
        nested = (payload.get("errors") or {}).get("json") or {}
        raise FormError(
            _lines(nested) or [payload.get("message", "Refused.")], _shown(raw, event)
        ) from None


def _context(event: Event) -> dict[str, Any]:
    return {
        "kinds": [(kind.value, KIND_NAMES[kind]) for kind in CrmKind],
        "credential_labels": {kind.value: CREDENTIAL_LABELS[kind] for kind in CrmKind},
        "fields": MAPPABLE_FIELDS,
        "defaults": {kind.value: default_fields(kind) for kind in CrmKind},
        "reps": _reps(event),
        "do_not_send": DO_NOT_SEND,
    }


register(
    Section(
        key="crm",
        title="CRM",
        template="web/settings/crm.html",
        values=_values,
        save=_save,
        context=_context,
        saved="CRM connection saved.",
        position=60,
    )
)
