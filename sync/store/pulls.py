"""Applying pulled changes (event, leads, erasures) page by page, with the cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from sync.store.base import StoreBase


class PullsMixin(StoreBase):
    """Move the pull cursor and apply the server's changes in order."""

    def cursor(self) -> int:
        """Return the server version up to which this tablet has pulled."""
        with self._reading() as conn:
            return int(self._get_meta(conn, "cursor", 0))

    def reset_cursor(self) -> None:
        """Pull everything again from 0 (after a 410); leads and outbox are kept."""
        with self._transaction() as conn:
            self._set_meta(conn, "cursor", 0)

    def apply_pull_page(self, changes: Iterable[Mapping[str, Any]], next_cursor: int) -> None:
        """Apply one page of pulled changes and move the cursor, in one transaction."""
        with self._transaction() as conn:
            for change in changes:
                kind, data = change.get("kind"), change.get("data") or {}
                if kind == "event":
                    self._write_event(conn, data, change.get("version"))
                elif kind == "lead":
                    self._apply_pulled_lead(conn, data, change.get("version"))
                elif kind == "attendee":
                    self._apply_pulled_attendee(conn, data, change.get("version"))
                elif kind == "erasure":
                    # The server erased the person (a data-protection request): no trace here.
                    self._forget(conn, str(data.get("id")), "erased")
                elif kind == "card":
                    # What the server read off a card photo: suggestions, never values.
                    self._apply_pulled_card(conn, data)  # type: ignore[attr-defined]
                # Other kinds come from a newer server; skipping them is safe.
            current = int(self._get_meta(conn, "cursor", 0))
            self._set_meta(conn, "cursor", max(current, int(next_cursor)))

    def _apply_pulled_lead(
        self, conn: sqlite3.Connection, data: Mapping[str, Any], change_version: Any
    ) -> None:
        lead_id = str(data["id"])
        version = data.get("server_version", change_version)
        owner = data.get("owner") or {}
        server_view = {
            "server_version": version,
            "status": data.get("status"),
            "owner_id": data.get("owner_id"),
            "owner_name": owner.get("name"),
            "acknowledged_at": data.get("acknowledged_at"),
            "status_reason": self._cipher.seal(data.get("status_reason"), "leads.status_reason"),
            "deal_value": data.get("deal_value"),
            "first_contact_at": data.get("first_contact_at"),
            "merged_into_id": data.get("merged_into_id"),
        }
        values = self._server_values(data)
        row = conn.execute(
            "SELECT server_version, sync_state FROM leads WHERE id = ?", (lead_id,)
        ).fetchone()
        if row is None:
            if conn.execute("SELECT 1 FROM forgotten WHERE lead_id = ?", (lead_id,)).fetchone():
                return  # deleted here on purpose (retention or erasure): stay deleted
            # A lead this tablet captured but no longer holds (a reinstall): download it.
            values.setdefault("captured_at", self._now().isoformat())
            self._insert_lead(conn, lead_id, values, sync_state="uploaded", **server_view)
            self._note_confirmed(conn, lead_id)
            return
        if row["server_version"] is not None and version is not None:
            if version < row["server_version"]:
                return  # older than what a push answer already told us
        pending = self._pending_fields(conn, lead_id)
        self._update_columns(
            conn, lead_id, {name: value for name, value in values.items() if name not in pending}
        )
        assignments = ", ".join(f"{name} = ?" for name in server_view)
        conn.execute(
            f"UPDATE leads SET {assignments} WHERE id = ?", [*server_view.values(), lead_id]
        )
        if row["sync_state"] == "pending" and not pending:
            conn.execute("UPDATE leads SET sync_state = 'uploaded' WHERE id = ?", (lead_id,))
            self._note_confirmed(conn, lead_id)
