"""How long leads stay: retention, erasure (forgetting a lead) and wiping the store."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from sync import keystore
from sync.store.base import StoreBase
from sync.store.codec import utc_key

# Days a lead the server confirmed stays on the tablet (README, "Tablet data at rest").
DEFAULT_RETENTION_DAYS = 30


class RetentionMixin(StoreBase):
    """Delete leads on schedule or on request, remembering only their ids."""

    def _note_confirmed(self, conn: sqlite3.Connection, *lead_ids: str) -> None:
        """Start leads' retention clocks when the server first holds all of each."""
        now = utc_key(self._now())
        conn.executemany(
            "UPDATE leads SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
            [(now, lead_id) for lead_id in lead_ids],
        )

    def _forget(self, conn: sqlite3.Connection, lead_id: str, reason: str) -> None:
        """Delete a lead with everything held about it, and remember only its id."""
        conn.execute("DELETE FROM outbox WHERE lead_id = ?", (lead_id,))
        conn.execute("DELETE FROM conflicts WHERE lead_id = ?", (lead_id,))
        conn.execute("DELETE FROM card_photos WHERE lead_id = ?", (lead_id,))
        conn.execute("DELETE FROM leads WHERE id = ?", (lead_id,))
        if self._search_ready:
            conn.execute("DELETE FROM temp.search_index WHERE id = ?", (lead_id,))
        conn.execute(
            "INSERT INTO forgotten (lead_id, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT (lead_id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (lead_id, reason, utc_key(self._now())),
        )

    def retention_days(self) -> int:
        """Return how many days a lead stays on the tablet after the server confirmed it."""
        with self._reading() as conn:
            return int(self._get_meta(conn, "retention_days", DEFAULT_RETENTION_DAYS))

    def set_retention_days(self, days: int) -> None:
        """Keep confirmed leads on the tablet for days days (0: delete at the next purge)."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError("Give the retention as a whole number of days, 0 or more.")
        with self._transaction() as conn:
            self._set_meta(conn, "retention_days", days)

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete leads the server confirmed more than retention_days ago; return how many.

        A lead with unsent edits, or one the server rejected, stays: deleting it would
        lose what the server does not have.
        """
        moment = now or self._now()
        with self._transaction() as conn:
            days = int(self._get_meta(conn, "retention_days", DEFAULT_RETENTION_DAYS))
            cutoff = utc_key(moment - timedelta(days=days))
            rows = conn.execute(
                "SELECT id FROM leads WHERE sync_state = 'uploaded'"
                " AND server_version IS NOT NULL AND confirmed_at IS NOT NULL"
                " AND confirmed_at <= ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.lead_id = leads.id)",
                (cutoff,),
            ).fetchall()
            for row in rows:
                self._forget(conn, row["id"], "retention")
        return len(rows)

    def wipe(self) -> None:
        """Delete everything (leads, photos, outbox, drafts, attendees, settings) and the key file.

        For a revoked tablet (docs/sync-protocol.md, "Revoked tablets"). Rows are deleted
        with secure_delete on and the file vacuumed; the key file is overwritten and
        removed, so any copy of the old file stays sealed. A fresh key is made for the
        next pairing.
        """
        with self._lock:
            with self._transaction() as conn:
                tables = ("outbox", "conflicts", "card_photos", "leads", "drafts", "event_config")
                tables += ("attendees",)
                for table in tables:
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM forgotten")
                conn.execute("DELETE FROM meta")
                conn.execute("DELETE FROM sqlite_sequence")
                if self._search_ready:
                    conn.execute("DELETE FROM temp.search_index")
            conn = self._connection()
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if self._cipher.sealing:
                keystore.delete_key(self._key_path())
                self._cipher = self._load_cipher()
                self._adopt_key()
