"""Connect an event to a CRM, change or remove the connection, and test it."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from server.alerts.destinations import (
    DestinationRefused,
    check_destination,
    parse_networks,
)
from server.crm.base import CrmError
from server.crm.credentials import CredentialsUnreadable, seal, unseal
from server.crm.models import CrmConnection, CrmKind
from server.crm.registry import REFRESHABLE, build_for, default_fields
from server.errors import fail
from server.events.models import Event
from server.extensions import db

# Given instead of a token: an OAuth app's refresh token and the app's own credentials.
OAUTH_FIELDS = ("refresh_token", "client_id", "client_secret")
# A connection test answers within this, whatever the delivery timeout is.
TEST_TIMEOUT_SECONDS = 10.0


def connection_of(event_id: int) -> CrmConnection | None:
    """Return the event's CRM connection, if any (404 when the event does not exist)."""
    if db.session.get(Event, event_id) is None:
        fail(404, "No such event.")
    return db.session.scalar(select(CrmConnection).where(CrmConnection.event_id == event_id))


def _check_url(url: str | None) -> None:
    if not url:
        return
    allowed = parse_networks(current_app.config["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"])
    try:
        check_destination(url, allowed)
    except DestinationRefused as refused:
        fail(
            422,
            f"The CRM address is refused: {refused}.",
            errors={"json": {"base_url": [str(refused)]}},
        )


def save(event_id: int, data: dict[str, Any]) -> CrmConnection:
    """Create or change the event's CRM connection; a token given replaces the stored one."""
    connection = connection_of(event_id)
    _check_url(data.get("base_url"))
    kind = data.get("kind", connection.kind if connection else None)
    base_url = data["base_url"] if "base_url" in data else (connection and connection.base_url)
    if kind == CrmKind.SALESFORCE and not base_url:
        problem = {
            "json": {"base_url": ["Give the org's address, e.g. https://acme.my.salesforce.com."]}
        }
        fail(422, "Salesforce needs the org's address.", errors=problem)
    secret_key = current_app.config["SECRET_KEY"]
    secrets = _credentials(connection, kind, data)
    if connection is None:
        connection = CrmConnection(
            event_id=event_id,
            kind=data["kind"],
            # Outcomes are read from now on (epoch ms: every connector's first cursor).
            poll_cursor=str(int(time.time() * 1000)),
        )
        db.session.add(connection)
    for name in ("kind", "base_url", "enabled"):
        if name in data:
            setattr(connection, name, data[name])
    for name in ("field_mapping", "owner_mapping"):
        if name in data:
            setattr(connection, name, dict(data[name] or {}))
    if secrets is not None:
        connection.credentials = seal(secret_key, event_id, secrets)
    if data.get("webhook_secret"):
        connection.webhook_secret = seal(secret_key, event_id, {"secret": data["webhook_secret"]})
    db.session.commit()
    return connection


def _credentials(
    connection: CrmConnection | None, kind: CrmKind | None, data: dict[str, Any]
) -> dict[str, Any] | None:
    """Return the credentials to seal from what was given (None: keep the stored ones).

    A token alone replaces whatever is stored. Refresh-token fields given are merged over
    the stored ones (an app's rotated client secret alone may be given), and must add up
    to a refresh token, a client id and a client secret.
    """
    given = {name: data[name] for name in OAUTH_FIELDS if data.get(name)}
    if given and kind not in REFRESHABLE:
        problem = {name: ["Pipedrive connects with an API token."] for name in given}
        fail(422, "Pipedrive connects with an API token.", errors={"json": problem})
    same_crm = connection is not None and kind == connection.kind
    if not given:
        if data.get("token"):
            return {"token": data["token"]}
        if same_crm:
            return None
        problem = {"token": ["Required (or a refresh token with the app's client id and secret)."]}
        message = (
            "Give the CRM's token, or a refresh token with the app's client id and secret."
            if connection is None
            else "A different CRM needs its own token (or refresh token)."
        )
        fail(422, message, errors={"json": problem})
    stored: dict[str, Any] = {}
    if same_crm and connection is not None:
        try:
            stored = unseal(
                current_app.config["SECRET_KEY"], connection.event_id, connection.credentials
            )
        except CredentialsUnreadable:
            stored = {}
    secrets = {
        name: stored[name]
        for name in OAUTH_FIELDS
        if stored.get("refresh_token") and stored.get(name)
    }
    secrets.update(given)
    missing = [name for name in OAUTH_FIELDS if not secrets.get(name)]
    if missing:
        problem = {name: ["Required with a refresh token."] for name in missing}
        fail(
            422,
            "A refresh token needs the OAuth app's client id and client secret.",
            errors={"json": problem},
        )
    if data.get("token"):
        secrets["token"] = data["token"]  # the first access token, used until it is refused
    return secrets


def remove(event_id: int) -> None:
    """Disconnect the event from its CRM (records already made stay in the CRM)."""
    connection = connection_of(event_id)
    if connection is None:
        fail(404, "This event has no CRM connection.")
    db.session.delete(connection)
    db.session.commit()


def webhook_secret(connection: CrmConnection) -> str | None:
    """Return the connection's webhook secret in clear (for checking a signature only)."""
    if not connection.webhook_secret:
        return None
    try:
        values = unseal(
            current_app.config["SECRET_KEY"], connection.event_id, connection.webhook_secret
        )
    except CredentialsUnreadable:
        return None
    return values.get("secret")


def test(event_id: int) -> dict[str, Any]:
    """Make one authenticated call to the event's CRM; say whether it worked, and why not."""
    connection = connection_of(event_id)
    if connection is None:
        fail(404, "This event has no CRM connection.")
    timeout = min(TEST_TIMEOUT_SECONDS, current_app.config["LEADBRIDGE_CRM_TIMEOUT_SECONDS"])
    try:
        connector = build_for(current_app._get_current_object(), connection, timeout, kept=False)
    except CredentialsUnreadable:
        return {"ok": False, "message": "The stored token does not decrypt; enter it again."}
    try:
        said = connector.check()
    except CrmError as error:
        return {"ok": False, "message": str(error)}
    finally:
        db.session.commit()  # a refresh token the CRM handed out in place of the old one
    return {"ok": True, "message": said}


def describe(connection: CrmConnection) -> dict[str, Any]:
    """Return what the API and pages show of a connection: never its token or secret."""
    defaults = default_fields(connection.kind)
    return {
        "id": connection.id,
        "event_id": connection.event_id,
        "kind": connection.kind,
        "base_url": connection.base_url,
        "field_mapping": {**defaults, **(connection.field_mapping or {})},
        "owner_mapping": connection.owner_mapping or {},
        "enabled": connection.enabled,
        "has_token": bool(connection.credentials),
        "has_refresh_token": has_refresh_token(connection),
        "has_webhook_secret": bool(connection.webhook_secret),
        "webhook_path": f"/api/v1/crm/webhooks/{connection.id}",
        "polled_at": connection.polled_at,
    }


def has_refresh_token(connection: CrmConnection) -> bool:
    """Tell whether the connection's credentials are an OAuth app's refresh token."""
    try:
        values = unseal(
            current_app.config["SECRET_KEY"], connection.event_id, connection.credentials
        )
    except CredentialsUnreadable:
        return False
    return bool(values.get("refresh_token"))
