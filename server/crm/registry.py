"""Make the connector for a connection: its CRM's module, with the credentials unsealed.

Connectors hold connection pools (kept-alive HTTPS to the CRM) and small caches, so
one is kept per connection and rebuilt only when what it is made of (CRM, address,
credentials) changes, not on every poll that moves the cursor. A
connection made with an OAuth app's refresh token hands its connector a RefreshingToken
(server/crm/oauth.py), which keeps the access token in memory; one the CRM hands out in
place of the refresh token is sealed onto the connection.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from flask import Flask
from sqlalchemy import update

from server.alerts.destinations import (
    DestinationRefused,
    IPNetwork,
    check_destination,
    parse_networks,
)
from server.crm.base import Connector
from server.crm.credentials import seal, unseal
from server.crm.models import CrmConnection, CrmKind
from server.crm.oauth import RefreshingToken
from server.extensions import db

# Each CRM's module and connector class (imported on first use: each pulls in its client).
CONNECTORS = {
    CrmKind.HUBSPOT: ("server.crm.hubspot", "HubSpotConnector"),
    CrmKind.SALESFORCE: ("server.crm.salesforce", "SalesforceConnector"),
    CrmKind.PIPEDRIVE: ("server.crm.pipedrive", "PipedriveConnector"),
}
# The credential each CRM takes, as the forms ask for it.
CREDENTIAL_LABELS: dict[CrmKind, str] = {
    CrmKind.HUBSPOT: "Private app access token",
    CrmKind.SALESFORCE: "Access token (or session id)",
    CrmKind.PIPEDRIVE: "API token",
}
# The CRMs whose connections may be made with an OAuth app's refresh token.
REFRESHABLE = frozenset({CrmKind.HUBSPOT, CrmKind.SALESFORCE})
_CACHE = "leadbridge_crm_connectors"
_TABLE = CrmConnection.__table__
_LOCK = threading.Lock()


def module(kind: CrmKind) -> ModuleType:
    """Return the module of kind's connector."""
    return importlib.import_module(CONNECTORS[kind][0])


def default_fields(kind: CrmKind) -> dict[str, str]:
    """Return kind's CRM field name for each leadbridge field, before the admin's mapping."""
    return module(kind).DEFAULT_FIELDS


def build(
    kind: CrmKind,
    secrets: dict[str, Any],
    base_url: str | None,
    timeout: float,
    *,
    keep_refresh_token: Callable[[str], None] | None = None,
    allowed_networks: str = "",
) -> Connector:
    """Return a new connector of kind with these credentials (a token, or a refresh token)."""
    connector_class = getattr(module(kind), CONNECTORS[kind][1])
    credential: str | RefreshingToken = secrets.get("token") or ""
    if secrets.get("refresh_token") and kind in REFRESHABLE:
        allowed = parse_networks(allowed_networks)
        credential = RefreshingToken(
            kind.value,
            module(kind).token_url(base_url),
            secrets,
            timeout,
            on_new_refresh_token=keep_refresh_token,
            allowed_url=lambda url: _reachable(url, allowed),
        )
    return connector_class(credential, base_url, timeout)


def _reachable(url: str, allowed: tuple[IPNetwork, ...]) -> bool:
    # An address the CRM's token answer names obeys the rule the connection's own does.
    try:
        check_destination(url, allowed)
    except DestinationRefused:
        return False
    return True


def refresh_token_keeper(
    app: Flask, connection: CrmConnection, secrets: dict[str, Any], *, kept: bool
) -> Callable[[str], None]:
    """Return what seals a new refresh token onto connection (in the caller's transaction).

    With kept, the connector kept for the connection is filed under the new credentials,
    so loading them does not make a new connector (and obtain yet another token).
    """
    connection_id, event_id = connection.id, connection.event_id
    stored = [connection.credentials]

    def keep(refresh_token: str) -> None:
        secrets["refresh_token"] = refresh_token
        sealed = seal(app.config["SECRET_KEY"], event_id, secrets)
        # updated_at stays: the change is the CRM's, not an admin's.
        db.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == connection_id)
            .values(credentials=sealed, updated_at=_TABLE.c.updated_at)
        )
        if kept:
            cache = app.extensions.setdefault(_CACHE, {})
            with _LOCK:
                entry = cache.get(connection_id)
                if entry is not None and entry[0][3] == stored[0]:
                    cache[connection_id] = ((*entry[0][:3], sealed), entry[1])
        stored[0] = sealed

    return keep


def build_for(app: Flask, connection: CrmConnection, timeout: float, *, kept: bool) -> Connector:
    """Return a new connector for connection (kept: the one deliveries and polls share)."""
    secrets = unseal(app.config["SECRET_KEY"], connection.event_id, connection.credentials)
    return build(
        connection.kind,
        secrets,
        connection.base_url,
        timeout,
        keep_refresh_token=refresh_token_keeper(app, connection, secrets, kept=kept),
        allowed_networks=app.config["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"],
    )


def connector_for(app: Flask, connection: CrmConnection) -> Connector:
    """Return the (kept) connector of connection, made with its current credentials."""
    # What the connector is made of: a poll moving the cursor keeps it (and its access token).
    key = (connection.id, connection.kind, connection.base_url, connection.credentials)
    cache: dict[int, tuple[Any, Connector]] = app.extensions.setdefault(_CACHE, {})
    with _LOCK:
        kept = cache.get(connection.id)
        if kept is not None and kept[0] == key:
            return kept[1]
    made = build_for(app, connection, app.config["LEADBRIDGE_CRM_TIMEOUT_SECONDS"], kept=True)
    with _LOCK:
        cache[connection.id] = (key, made)
    return made
