"""The store's SQLite schema, as an append-only list of migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sync.store.errors import StoreError

# Each migration is a list of statements run in one transaction; its index + 1 is the
# PRAGMA user_version it leads to. Append, never edit: tablets in the field hold old files.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE leads (
            id TEXT PRIMARY KEY,
            local_seq INTEGER NOT NULL UNIQUE,
            first_name TEXT,
            last_name TEXT,
            email TEXT,
            phone TEXT,
            company TEXT,
            job_title TEXT,
            country TEXT,
            region TEXT,
            source TEXT NOT NULL DEFAULT 'manual',
            badge_payload TEXT,
            answers TEXT NOT NULL DEFAULT '{}',
            products TEXT NOT NULL DEFAULT '[]',
            rating TEXT,
            notes TEXT,
            follow_up INTEGER NOT NULL DEFAULT 0,
            consent TEXT NOT NULL DEFAULT '{"given": false}',
            captured_by_id INTEGER,
            captured_at TEXT NOT NULL,
            captured_utc TEXT NOT NULL,
            search_text TEXT NOT NULL DEFAULT '',
            server_version INTEGER,
            status TEXT,
            owner_id INTEGER,
            owner_name TEXT,
            acknowledged_at TEXT,
            sync_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (sync_state IN ('pending', 'uploaded', 'rejected')),
            rejected_errors TEXT,
            created_locally_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX ix_leads_email ON leads (email)",
        "CREATE INDEX ix_leads_phone ON leads (phone)",
        "CREATE INDEX ix_leads_sync_state ON leads (sync_state)",
        "CREATE INDEX ix_leads_captured_utc ON leads (captured_utc)",
        """
        CREATE TABLE outbox (
            mutation_id INTEGER PRIMARY KEY AUTOINCREMENT,
            lead_id TEXT NOT NULL REFERENCES leads (id),
            kind TEXT NOT NULL CHECK (kind IN ('create', 'update')),
            base_version INTEGER,
            fields TEXT NOT NULL,
            attempted INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX ix_outbox_lead ON outbox (lead_id)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE event_config (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER,
            data TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE conflicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lead_id TEXT NOT NULL,
            field TEXT NOT NULL,
            device_value TEXT,
            server_value TEXT,
            at TEXT NOT NULL
        )
        """,
        "CREATE INDEX ix_conflicts_lead ON conflicts (lead_id)",
        """
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            data TEXT NOT NULL,
            saved_at TEXT NOT NULL
        )
        """,
    ),
    (
        # Sealed columns: duplicates are found through keyed hashes (blind indexes),
        # and the plain-text indexes would hold ciphertext. Existing rows are sealed by
        # DeviceStore._seal_plain_rows when the file is first opened with a key.
        "DROP INDEX ix_leads_email",
        "DROP INDEX ix_leads_phone",
        "ALTER TABLE leads ADD COLUMN email_index TEXT",
        "ALTER TABLE leads ADD COLUMN phone_index TEXT",
        "ALTER TABLE leads ADD COLUMN confirmed_at TEXT",
        "CREATE INDEX ix_leads_email_index ON leads (email_index)",
        "CREATE INDEX ix_leads_phone_index ON leads (phone_index)",
        "CREATE INDEX ix_leads_confirmed_at ON leads (confirmed_at)",
        "UPDATE leads SET confirmed_at = strftime('%Y-%m-%dT%H:%M:%S.000000Z', 'now')"
        " WHERE sync_state = 'uploaded'",
        # Leads deleted here on purpose (retention, erasure): a later pull of one of
        # them must not download it again. Ids only, no personal data.
        """
        CREATE TABLE forgotten (
            lead_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL CHECK (reason IN ('retention', 'erased')),
            at TEXT NOT NULL
        )
        """,
    ),
    (
        # What sales made of the lead, and the earlier capture of the same person it
        # joined (server-owned: set by pulls only).
        "ALTER TABLE leads ADD COLUMN status_reason TEXT",
        "ALTER TABLE leads ADD COLUMN deal_value TEXT",
        "ALTER TABLE leads ADD COLUMN first_contact_at TEXT",
        "ALTER TABLE leads ADD COLUMN merged_into_id TEXT",
    ),
    (
        # The event's attendee list (sync/store/attendees.py): found by a keyed hash of
        # the normalised badge id, its fields sealed.
        """
        CREATE TABLE attendees (
            server_id INTEGER PRIMARY KEY,
            lookup TEXT NOT NULL,
            data TEXT NOT NULL,
            server_version INTEGER
        )
        """,
        "CREATE INDEX ix_attendees_lookup ON attendees (lookup)",
    ),
    (
        # Business-card photos (sealed JPEG) waiting for upload, and what the server read.
        """
        CREATE TABLE card_photos (
            lead_id TEXT NOT NULL REFERENCES leads (id),
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            uploaded_at TEXT,
            error TEXT,
            suggestions TEXT,
            PRIMARY KEY (lead_id, sha256)
        )
        """,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file at path up to SCHEMA_VERSION, one migration per transaction."""
    for number, statements in enumerate(MIGRATIONS, start=1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read the version inside the write lock: another process may have
            # migrated the file while this one waited.
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was written by a newer app (schema {current}); update the app."
                )
            if current < number:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
