"""Make the connector for a connection: its CRM's module, with the credentials unsealed.

Connectors hold connection pools (kept-alive HTTPS to the CRM) and small caches, so
one is kept per connection and rebuilt only when the connection is saved again.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

from flask import Flask

from server.crm.base import Connector
from server.crm.credentials import unseal
from server.crm.models import CrmConnection, CrmKind

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
_CACHE = "leadbridge_crm_connectors"
_LOCK = threading.Lock()


def module(kind: CrmKind) -> ModuleType:
    """Return the module of kind's connector."""
    return importlib.import_module(CONNECTORS[kind][0])


def default_fields(kind: CrmKind) -> dict[str, str]:
    """Return kind's CRM field name for each leadbridge field, before the admin's mapping."""
    return module(kind).DEFAULT_FIELDS


def build(
    kind: CrmKind, secrets: dict[str, Any], base_url: str | None, timeout: float
) -> Connector:
    """Return a new connector of kind with these credentials."""
    connector_class = getattr(module(kind), CONNECTORS[kind][1])
    return connector_class(secrets["token"], base_url, timeout)


def connector_for(app: Flask, connection: CrmConnection) -> Connector:
    """Return the (kept) connector of connection, made with its current credentials."""
    key = (connection.id, connection.updated_at)
    cache: dict[int, tuple[Any, Connector]] = app.extensions.setdefault(_CACHE, {})
    with _LOCK:
        kept = cache.get(connection.id)
        if kept is not None and kept[0] == key:
            return kept[1]
    secrets = unseal(app.config["SECRET_KEY"], connection.event_id, connection.credentials)
    made = build(
        connection.kind, secrets, connection.base_url, app.config["LEADBRIDGE_CRM_TIMEOUT_SECONDS"]
    )
    with _LOCK:
        cache[connection.id] = (key, made)
    return made
