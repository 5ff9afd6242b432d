"""The tablet's local SQLite store: leads, the outbox of unsent changes, and sync state.

One file holds everything the tablet knows, so a lead saved at the booth survives a
crash, a flat battery or a week offline. Saving a lead writes its row and its outbox
mutation in one transaction (docs/sync-protocol.md, "The tablet's side"): either both
are on disk or neither is.

The UI thread saves while a background thread pushes and pulls. Both go through one
connection guarded by a lock: a booth tablet writes a few rows a minute, so a second
connection would buy no throughput, and one connection can be closed from any thread.

DeviceStore (device.py) is the one public entry; each module holds one concern:
schema (migrations), sealing (the key and sealed columns), fields and validation
(lead values), leads, outbox (push), pulls, pairing (meta and event
configuration), retention (purge, erasure, wipe) and drafts.
"""

from sync.store.device import DeviceStore
from sync.store.errors import LeadInvalid, StoreError
from sync.store.fields import (
    CAPTURE_FIELDS,
    CONSENT_PURPOSES,
    CONTACT_FIELDS,
    CREATE_FIELDS,
    EDITABLE_FIELDS,
    JSON_FIELDS,
    LEAD_STATES,
    SYNC_STATES,
    lead_state,
)
from sync.store.retention import DEFAULT_RETENTION_DAYS
from sync.store.schema import SCHEMA_VERSION
from sync.store.sealing import SEALED_COLUMNS, SEALED_OTHER

__all__ = [
    "CAPTURE_FIELDS",
    "CONSENT_PURPOSES",
    "CONTACT_FIELDS",
    "CREATE_FIELDS",
    "DEFAULT_RETENTION_DAYS",
    "EDITABLE_FIELDS",
    "JSON_FIELDS",
    "LEAD_STATES",
    "SCHEMA_VERSION",
    "SEALED_COLUMNS",
    "SEALED_OTHER",
    "SYNC_STATES",
    "DeviceStore",
    "LeadInvalid",
    "StoreError",
    "lead_state",
]
