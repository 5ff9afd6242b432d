"""The plumbing every part of the store shares: connection, lock, transactions, meta."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sync.crypto import FieldCipher
from sync.store.codec import dumps
from sync.store.errors import StoreError


class StoreBase:
    """The one connection, its lock and transactions, the clock and the meta table."""

    path: Path
    _conn: sqlite3.Connection | None
    _lock: threading.RLock
    _clock: Callable[[], datetime]
    _cipher: FieldCipher
    _search_ready: bool

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("The store is closed.")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one IMMEDIATE transaction, taking the write lock up front."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection()

    def close(self) -> None:
        """Close the database file; later calls raise StoreError."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _now(self) -> datetime:
        moment = self._clock()
        return moment if moment.tzinfo else moment.astimezone()

    @staticmethod
    def _get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    @staticmethod
    def _set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, dumps(value)),
        )

    @staticmethod
    def _delete_meta(conn: sqlite3.Connection, *keys: str) -> None:
        conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in keys])
