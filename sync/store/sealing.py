"""Sealing personal data at rest: the key file, its check value, sealed columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sync import keystore
from sync.crypto import FieldCipher, SealError, is_sealed
from sync.store.base import StoreBase
from sync.store.codec import dumps, loads
from sync.store.errors import StoreError

# Personal data sealed at rest with AES-GCM (sync/crypto.py; README, "Tablet data at
# rest"). country and region stay in the clear: they name no one and the event's
# country is on every lead anyway. consent holds a version and a time, no personal data.
SEALED_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "badge_payload",
    "notes",
    "answers",
    "search_text",
    "rejected_errors",
    "status_reason",  # a lost lead's reason is the rep's own words, which may name people
)
# Other columns holding lead values (whole mutations, conflicting values, the draft).
SEALED_OTHER = (
    ("outbox", "fields"),
    ("conflicts", "device_value"),
    ("conflicts", "server_value"),
    ("card_photos", "data"),
    ("card_photos", "suggestions"),
)
_KEY_CHECK = "leadbridge tablet key"


class SealingMixin(StoreBase):
    """Open and seal column values with the store's key; adopt the key on open."""

    def _key_path(self) -> Path:
        return keystore.key_path_for(self.path)

    def _load_cipher(self) -> FieldCipher:
        with self._reading() as conn:
            check = self._get_meta(conn, "key_check")
        path = self._key_path()
        try:
            key = keystore.load_key(path)
            if key is None:
                if check is not None:
                    raise StoreError(
                        f"The key file {path} is missing: the leads in this store cannot be read."
                    )
                try:
                    key = keystore.create_key(path)
                except FileExistsError:  # another process made it a moment ago
                    key = keystore.load_key(path)
        except keystore.KeyFileError as error:
            raise StoreError(str(error)) from None
        assert key is not None
        return FieldCipher(key)

    def _adopt_key(self) -> None:
        """Check the key opens this file; seal a file written before sealing existed."""
        if not self._cipher.sealing:
            return
        with self._transaction() as conn:
            check = self._get_meta(conn, "key_check")
            if check is None:
                self._seal_plain_rows(conn)
                self._set_meta(conn, "key_check", self._cipher.seal(_KEY_CHECK, "meta.key_check"))
                return
            try:
                matches = self._cipher.open(check, "meta.key_check") == _KEY_CHECK
            except SealError:
                matches = False
            if not matches:
                raise StoreError(f"The key file {self._key_path()} does not open this store.")

    def _seal_plain_rows(self, conn: sqlite3.Connection) -> None:
        """Seal every value still in the clear (a store from before sealing), in place."""
        for row in conn.execute("SELECT * FROM leads").fetchall():
            columns = {
                name: self._cipher.seal(row[name], f"leads.{name}")
                for name in SEALED_COLUMNS
                if name != "search_text" and row[name] is not None and not is_sealed(row[name])
            }
            if not columns:
                continue
            if "email" in columns:
                columns["email_index"] = self._cipher.blind_index(row["email"])
            if "phone" in columns:
                columns["phone_index"] = self._cipher.blind_index(row["phone"])
            assignments = ", ".join(f"{name} = ?" for name in columns)
            conn.execute(
                f"UPDATE leads SET {assignments} WHERE id = ?", [*columns.values(), row["id"]]
            )
            self._refresh_search_text(conn, row["id"])
        for table, column in (*SEALED_OTHER, ("drafts", "data")):
            for row in conn.execute(f"SELECT rowid, {column} FROM {table}").fetchall():
                if row[1] is not None and not is_sealed(row[1]):
                    conn.execute(
                        f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                        (self._cipher.seal(row[1], f"{table}.{column}"), row[0]),
                    )

    def _open(self, value: str | None, column: str) -> str | None:
        return self._cipher.open(value, column)

    def _open_json(self, value: str | None, column: str) -> Any:
        return loads(self._cipher.open(value, column))

    def _seal_json(self, value: Any, column: str) -> str | None:
        return self._cipher.seal(dumps(value), column)
