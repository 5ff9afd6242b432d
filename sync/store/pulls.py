"""Applying pulled changes (event, leads, attendees, erasures) page by page, with the cursor."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from sync.store.base import StoreBase
from sync.store.codec import utc_key
from sync.store.fields import SEARCHED
from sync.store.sealing import SEALED_COLUMNS


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
        """Apply one page of pulled changes and move the cursor, in one transaction.

        Leads new to this tablet (a reinstall, a second tablet of the pairing) are the
        bulk of a big pull: they are gathered and inserted together, sealed column by
        column (_insert_pulled). Any other change first writes the leads gathered so far,
        so the page still applies in order.
        """
        changes = list(changes)
        with self._transaction() as conn:
            known = self._known_ids(
                conn,
                [
                    str(change["data"]["id"])
                    for change in changes
                    if change.get("kind") == "lead" and (change.get("data") or {}).get("id")
                ],
            )
            new: list[tuple[str, Mapping[str, Any], Any]] = []
            for change in changes:
                kind, data = change.get("kind"), change.get("data") or {}
                if kind == "lead" and str(data["id"]) not in known:
                    known.add(str(data["id"]))
                    new.append((str(data["id"]), data, change.get("version")))
                    continue
                self._insert_pulled(conn, new)
                new = []
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
            self._insert_pulled(conn, new)
            current = int(self._get_meta(conn, "cursor", 0))
            self._set_meta(conn, "cursor", max(current, int(next_cursor)))

    @staticmethod
    def _known_ids(conn: sqlite3.Connection, lead_ids: list[str]) -> set[str]:
        """Return which of lead_ids this tablet holds or deleted on purpose (forgotten)."""
        if not lead_ids:
            return set()
        # One JSON parameter, not one per id: a page holds up to 1,000 leads.
        given = "(SELECT value FROM json_each(?1))"
        rows = conn.execute(
            f"SELECT id FROM leads WHERE id IN {given}"
            f" UNION SELECT lead_id FROM forgotten WHERE lead_id IN {given}",
            (json.dumps(lead_ids),),
        )
        return {row[0] for row in rows}

    @staticmethod
    def _server_view(data: Mapping[str, Any], change_version: Any) -> dict[str, Any]:
        """Return the server-owned columns of a pulled lead (status_reason not yet sealed)."""
        owner = data.get("owner") or {}
        return {
            "server_version": data.get("server_version", change_version),
            "status": data.get("status"),
            "owner_id": data.get("owner_id"),
            "owner_name": owner.get("name"),
            "acknowledged_at": data.get("acknowledged_at"),
            "status_reason": data.get("status_reason"),
            "deal_value": data.get("deal_value"),
            "first_contact_at": data.get("first_contact_at"),
            "merged_into_id": data.get("merged_into_id"),
        }

    def _insert_pulled(
        self, conn: sqlite3.Connection, pulled: list[tuple[str, Mapping[str, Any], Any]]
    ) -> None:
        """Insert pulled leads this tablet does not hold, as _apply_pulled_lead would one by one.

        Each sealed column is sealed for all the leads in one call, the search text is
        made from the values in hand (not read back and opened), and the rows go in
        with one executemany per set of columns.
        """
        if not pulled:
            return
        now = self._now()
        created, confirmed = now.isoformat(), utc_key(now)
        # local_seq orders "newest first" without trusting the tablet clock.
        seq = conn.execute("SELECT COALESCE(MAX(local_seq), 0) + 1 FROM leads").fetchone()[0]
        rows = []
        searched = []  # (local_seq, id, text), before sealing
        for lead_id, data, version in pulled:
            values = self._server_values(data)
            values.setdefault("captured_at", created)
            row = self._plain_columns(values)
            # As _refresh_search_text makes it; casefold in Python (names are often not ASCII).
            search = "\n".join((values.get(name) or "").casefold() for name in SEARCHED)
            row.update(self._server_view(data, version))
            row["id"] = lead_id
            row["search_text"] = search
            row["created_locally_at"] = created
            row["sync_state"] = "uploaded"
            row["confirmed_at"] = confirmed
            row["local_seq"] = seq
            rows.append(row)
            searched.append((seq, lead_id, search))
            seq += 1
        for name in SEALED_COLUMNS:
            holding = [row for row in rows if name in row]
            sealed = self._cipher.seal_many([row[name] for row in holding], f"leads.{name}")
            for row, value in zip(holding, sealed, strict=True):
                row[name] = value
        # Pulled leads normally carry the same columns: one executemany per set of them.
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(tuple(row.values()))
        for names, values in by_columns.items():
            marks = ", ".join("?" for _ in names)
            conn.executemany(f"INSERT INTO leads ({', '.join(names)}) VALUES ({marks})", values)
        if self._search_ready:
            conn.executemany(
                "INSERT OR REPLACE INTO temp.search_index (local_seq, id, text) VALUES (?, ?, ?)",
                searched,
            )

    def _apply_pulled_lead(
        self, conn: sqlite3.Connection, data: Mapping[str, Any], change_version: Any
    ) -> None:
        lead_id = str(data["id"])
        server_view = self._server_view(data, change_version)
        version = server_view["server_version"]
        server_view["status_reason"] = self._cipher.seal(
            server_view["status_reason"], "leads.status_reason"
        )
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
