"""Pairing, sync status and the cached event configuration, kept in meta and event_config."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync.store.base import StoreBase
from sync.store.codec import dumps

_PAIRING_KEYS = ("server_url", "device_id", "event_id", "token")


class PairingMixin(StoreBase):
    """Remember the server, token, event and sync status of this tablet."""

    def set_pairing(
        self,
        server_url: str,
        device_id: int,
        event_id: int,
        token: str,
        event: Mapping[str, Any] | None = None,
        *,
        device_name: str | None = None,
    ) -> None:
        """Remember the server and token this tablet syncs with, and optionally its event.

        device_name is the name the server lists the tablet by (shown in Settings).

        Pairing as a different device starts a new mutation sequence on the server, so
        unsent mutations are renumbered from 1 (in their order) and the pull cursor is
        reset.
        """
        with self._transaction() as conn:
            previous = self._get_meta(conn, "device_id")
            if previous != device_id:
                self._renumber_outbox(conn)
                self._delete_meta(conn, "cursor", "device_name")
            if self._get_meta(conn, "event_id") != event_id:
                # Another event's attendee list is no use here, and not ours to keep.
                conn.execute("DELETE FROM attendees")
            self._set_meta(conn, "server_url", server_url.rstrip("/"))
            self._set_meta(conn, "device_id", device_id)
            self._set_meta(conn, "event_id", event_id)
            self._set_meta(conn, "token", token)
            self._delete_meta(conn, "unpaired")
            if device_name is not None:
                self._set_meta(conn, "device_name", device_name)
            if event is not None:
                self._write_event(conn, event, event.get("server_version"))

    def pairing(self) -> dict[str, Any] | None:
        """Return server_url, device_id, event_id and token, or None when not paired."""
        with self._reading() as conn:
            values = {key: self._get_meta(conn, key) for key in _PAIRING_KEYS}
        return None if any(value is None for value in values.values()) else values

    def clear_pairing(self) -> None:
        """Forget the server, token, event, its attendee list and cursor; keep leads and outbox."""
        with self._transaction() as conn:
            self._delete_meta(conn, *_PAIRING_KEYS, "cursor", "unpaired", "device_name")
            conn.execute("DELETE FROM event_config")
            conn.execute("DELETE FROM attendees")

    def mark_unpaired(self, reason: str) -> None:
        """Record that the server refused this tablet's token (revoked or unknown)."""
        with self._transaction() as conn:
            self._set_meta(conn, "unpaired", reason)

    @property
    def is_unpaired(self) -> bool:
        """Tell whether the server refused the token since the last pairing."""
        with self._reading() as conn:
            return self._get_meta(conn, "unpaired") is not None

    def note_sync_success(self, at: datetime | None = None) -> None:
        """Record a completed sync and clear the last error."""
        with self._transaction() as conn:
            self._set_meta(conn, "last_sync_at", (at or self._now()).isoformat())
            self._delete_meta(conn, "last_error")

    def note_sync_error(self, message: str) -> None:
        """Record why the last sync attempt failed."""
        with self._transaction() as conn:
            self._set_meta(conn, "last_error", {"message": message, "at": self._now().isoformat()})

    def note_device_name(self, name: str) -> None:
        """Record the name the server lists this tablet by (it may be renamed there)."""
        with self._transaction() as conn:
            self._set_meta(conn, "device_name", name)

    def note_booth_counts(self, total: int, today: int) -> None:
        """Record how many leads the whole booth has, as the server last said."""
        with self._transaction() as conn:
            self._set_meta(conn, "booth", {"total": total, "today": today})

    def sync_info(self) -> dict[str, Any]:
        """Return last_sync_at, last_error, cursor, unpaired, booth and device_name.

        last_error is {message, at} or None; device_name is None until the server named
        the tablet.
        """
        with self._reading() as conn:
            return {
                "booth": self._get_meta(conn, "booth"),
                "device_name": self._get_meta(conn, "device_name"),
                "last_sync_at": self._get_meta(conn, "last_sync_at"),
                "last_error": self._get_meta(conn, "last_error"),
                "cursor": self._get_meta(conn, "cursor", 0),
                "unpaired": self._get_meta(conn, "unpaired"),
            }

    @staticmethod
    def _write_event(conn: sqlite3.Connection, event: Mapping[str, Any], version: Any) -> None:
        conn.execute(
            "INSERT INTO event_config (id, version, data) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version, data = excluded.data",
            (version, dumps(dict(event))),
        )

    def event_config(self) -> dict[str, Any] | None:
        """Return the cached event (questions, products, consent, time zone, members...)."""
        with self._reading() as conn:
            return self._event(conn)

    @staticmethod
    def _event(conn: sqlite3.Connection) -> dict[str, Any] | None:
        row = conn.execute("SELECT data FROM event_config WHERE id = 1").fetchone()
        return None if row is None else json.loads(row["data"])

    def members(self) -> list[dict[str, Any]]:
        """Return the event's team as [{id, name, role}], for the 'captured by' choice."""
        event = self.event_config() or {}
        people = []
        for member in event.get("members") or []:
            user = member.get("user") or {}
            people.append(
                {
                    "id": user.get("id", member.get("user_id")),
                    "name": user.get("name"),
                    "role": user.get("role"),
                }
            )
        return people
