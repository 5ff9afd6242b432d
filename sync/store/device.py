"""DeviceStore: the one public entry to the tablet store, made of its parts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sync.crypto import FieldCipher
from sync.store.attachments import AttachmentsMixin
from sync.store.attendees import AttendeesMixin
from sync.store.base import StoreBase
from sync.store.codec import local_now
from sync.store.drafts import DraftsMixin
from sync.store.fields import lead_state
from sync.store.leads import LeadsMixin
from sync.store.outbox import OutboxMixin
from sync.store.pairing import PairingMixin
from sync.store.pulls import PullsMixin
from sync.store.retention import RetentionMixin
from sync.store.schema import migrate
from sync.store.sealing import SealingMixin
from sync.store.validation import ValidationMixin


class DeviceStore(
    LeadsMixin,
    AttachmentsMixin,
    AttendeesMixin,
    OutboxMixin,
    PullsMixin,
    RetentionMixin,
    DraftsMixin,
    PairingMixin,
    ValidationMixin,
    SealingMixin,
    StoreBase,
):
    """The tablet's SQLite store; safe to share between the UI thread and a sync thread."""

    lead_state = staticmethod(lead_state)

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] | None = None,
        cipher: FieldCipher | None = None,
    ):
        """Open (creating if needed) the store at path and its key file beside it.

        cipher replaces the key file's cipher; only benchmarks pass one (NullCipher,
        to measure what sealing costs). Raises StoreError when the file cannot be used:
        a newer schema, or sealed data whose key file is missing or different.
        """
        self.path = Path(path)
        self._clock = clock or local_now
        self._lock = threading.RLock()
        self._search_ready = False
        self._cipher: FieldCipher = cipher or FieldCipher(b"\0" * 32)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a lead the UI called "saved" survives a power cut, not just a crash.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are zeroed in the file, and the search index never touches disk.
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.execute("PRAGMA temp_store = MEMORY")
            migrate(self._conn, self.path)
            if cipher is None:
                self._cipher = self._load_cipher()
            self._adopt_key()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise
