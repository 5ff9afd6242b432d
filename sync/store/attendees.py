"""The event's attendee list on the tablet: sealed rows found by a keyed hash of the badge id.

The badge id itself is never in the clear: the row's lookup column is the blind index
(sync/crypto.py) of the normalised id, and the attendee's fields are sealed like a
lead's. A scan normalises the badge with the event's rules (sync/attendees.py), hashes
it and reads one row through the index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sync.attendees import ATTENDEE_FIELDS, lookup_text, normalise_id
from sync.store.base import StoreBase

_COLUMN = "attendees.data"


class AttendeesMixin(StoreBase):
    """Keep the pulled attendee list and find a scanned badge in it."""

    def _attendee_lookup(self, badge_id: str) -> str:
        lookup = self._cipher.blind_index(lookup_text(badge_id))
        assert lookup is not None
        return lookup

    def _apply_pulled_attendee(
        self, conn: sqlite3.Connection, data: Mapping[str, Any], version: Any
    ) -> None:
        server_id = int(data["id"])
        badge_id = data.get("badge_id")
        if data.get("removed") or not badge_id:
            # Erased, or taken off the list: nothing of the person stays here.
            conn.execute("DELETE FROM attendees WHERE server_id = ?", (server_id,))
            return
        record = {"badge_id": badge_id}
        record.update({name: data[name] for name in ATTENDEE_FIELDS if data.get(name)})
        conn.execute(
            "INSERT INTO attendees (server_id, lookup, data, server_version) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (server_id) DO UPDATE SET lookup = excluded.lookup,"
            " data = excluded.data, server_version = excluded.server_version",
            (
                server_id,
                self._attendee_lookup(str(badge_id)),
                self._seal_json(record, _COLUMN),
                version,
            ),
        )

    def find_attendee(self, payload: str | None) -> dict[str, Any] | None:
        """Return the contact fields of the attendee a scanned badge names, or None.

        payload is the badge's raw text (an id, or a URL with one); it is normalised
        with the event's badge rules, as the server normalised the list.
        """
        with self._reading() as conn:
            rules = (self._event(conn) or {}).get("badge_rules") or {}
            badge_id = normalise_id(payload, rules)
            if badge_id is None:
                return None
            row = conn.execute(
                "SELECT data FROM attendees WHERE lookup = ? LIMIT 1",
                (self._attendee_lookup(badge_id),),
            ).fetchone()
        if row is None:
            return None
        record = self._open_json(row["data"], _COLUMN)
        if record.get("badge_id") != badge_id:
            return None
        return {name: record[name] for name in ATTENDEE_FIELDS if record.get(name)}

    def attendee_count(self) -> int:
        """Return how many attendees of the event's list this tablet holds."""
        with self._reading() as conn:
            return conn.execute("SELECT COUNT(*) FROM attendees").fetchone()[0]
