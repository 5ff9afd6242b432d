"""The tablet's local SQLite store: leads, the outbox of unsent changes, and sync state.

One file holds everything the tablet knows, so a lead saved at the booth survives a
crash, a flat battery or a week offline. Saving a lead writes its row and its outbox
mutation in one transaction (docs/sync-protocol.md, "The tablet's side"): either both
are on disk or neither is.

The UI thread saves while a background thread pushes and pulls. Both go through one
connection guarded by a lock: a booth tablet writes a few rows a minute, so a second
connection would buy no throughput, and one connection can be closed from any thread.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync import keystore
from sync.contact import ContactError, is_country_code, normalise_email, normalise_phone
from sync.crypto import FieldCipher, SealError, is_sealed
from sync.leads import IDENTITY_MESSAGE, lacks_identity
from sync.questions import answer_errors, drop_blank_answers

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "country",
    "region",
)
# The protocol's create.fields, in its order.
CREATE_FIELDS = (
    "captured_by_id",
    "captured_at",
    *CONTACT_FIELDS,
    "source",
    "badge_payload",
    "answers",
    "products",
    "rating",
    "notes",
    "follow_up",
    "consent",
)
# What an update mutation may carry (docs/sync-protocol.md, update.fields).
EDITABLE_FIELDS = frozenset(
    {*CONTACT_FIELDS, "badge_payload", "answers", "products", "rating", "notes", "follow_up"}
    | {"consent"}
)
# Fixed at capture: changeable only while the server has never accepted the lead.
CAPTURE_FIELDS = frozenset({"captured_by_id", "captured_at", "source"})
JSON_FIELDS = frozenset({"answers", "products", "consent"})
_PLAIN_TEXT = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "region",
    "badge_payload",
    "notes",
)
_SEARCHED = ("first_name", "last_name", "email", "company")
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
SEALED_OTHER = (("outbox", "fields"), ("conflicts", "device_value"), ("conflicts", "server_value"))
_KEY_CHECK = "leadbridge tablet key"
CONSENT_PURPOSES = ("marketing_email", "sales_follow_up")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# Days a lead the server confirmed stays on the tablet (README, "Tablet data at rest").
DEFAULT_RETENTION_DAYS = 30
_PAIRING_KEYS = ("server_url", "device_id", "event_id", "token")

_DEFAULTS: dict[str, Any] = {
    **{name: None for name in CONTACT_FIELDS},
    "source": "manual",
    "badge_payload": None,
    "answers": {},
    "products": [],
    "rating": None,
    "notes": None,
    "follow_up": False,
    "consent": {"given": False, "version": None, "at": None},
}

SYNC_STATES = ("pending", "uploaded", "rejected")
LEAD_STATES = ("on_tablet", "uploaded", "routed", "acknowledged", "rejected")

# Each migration is a list of statements run in one transaction; its index + 1 is the
# PRAGMA user_version it leads to. Append, never edit: tablets in the field hold old files.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
)
SCHEMA_VERSION = len(_MIGRATIONS)


class StoreError(Exception):
    """The store file cannot be used by this version of the app."""


class LeadInvalid(ValueError):
    """Lead fields that cannot be saved; errors are keyed by field, messages safe to show."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(f"invalid lead fields: {', '.join(sorted(errors))}")
        self.errors = errors


class _FieldError(Exception):
    def __init__(self, message: str | dict[str, Any]):
        super().__init__(str(message))
        self.message = message


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _utc_key(moment: datetime) -> str:
    # A fixed-width UTC form, so text comparison in SQL orders instants correctly.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _FieldError("Give a date and time like 2026-11-23T09:59:58+01:00.") from None
    else:
        raise _FieldError("Give a date and time.")
    if moment.tzinfo is None:
        raise _FieldError("Give the time with its UTC offset.")
    return moment


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _FieldError("Give text.")
    if "\x00" in value:
        raise _FieldError("Text may not contain NUL characters.")
    # The server strips and stores "" as null; do the same so both sides hold one value.
    return value.strip() or None


def _consent(value: Any, default_version: int | None) -> dict[str, Any]:
    if value is None:
        return {"given": False, "version": None, "at": None}
    if not isinstance(value, Mapping) or not isinstance(value.get("given"), bool):
        raise _FieldError({"given": ["Say whether the visitor gave consent (true or false)."]})
    if not value["given"]:
        return {"given": False, "version": None, "at": None}
    version = value.get("version", default_version)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise _FieldError({"version": ["Give the consent text's version number."]})
    at = value.get("at")
    # by_id and other server-side keys are dropped: the server refuses them in a push.
    consent: dict[str, Any] = {
        "given": True,
        "version": version,
        "at": _parse_aware(at).isoformat() if at is not None else None,
    }
    # The wording's language and what was agreed to (issue 8); kept only when given.
    language = value.get("language")
    if language is not None:
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            raise _FieldError({"language": ["Give a language tag like de, en or pt-BR."]})
        consent["language"] = language
    purposes = value.get("purposes")
    if purposes is not None:
        if not isinstance(purposes, list) or not set(purposes) <= set(CONSENT_PURPOSES):
            raise _FieldError({"purposes": [f"Choose from {', '.join(CONSENT_PURPOSES)}."]})
        consent["purposes"] = sorted(set(purposes))
    return consent


def _answer_problems(
    event: Mapping[str, Any] | None, answers: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Check answers with the server's own rules (sync/questions.py); {} when they pass.

    Without a cached event (not paired yet) there are no questions to check against.
    """
    return answer_errors(event.get("questions") or [], answers) if event else {}


def lead_state(lead: Mapping[str, Any]) -> str:
    """Return where a lead stands, as the tablet shows it (one of LEAD_STATES)."""
    if lead["sync_state"] == "rejected":
        return "rejected"
    if lead["server_version"] is None:
        return "on_tablet"
    if lead.get("acknowledged_at"):
        return "acknowledged"
    if lead.get("owner_id") is not None:
        return "routed"
    return "uploaded"


class DeviceStore:
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
        self._clock = clock or _local_now
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
            self._migrate()
            if cipher is None:
                self._cipher = self._load_cipher()
            self._adopt_key()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- plumbing ---------------------------------------------------------------------

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

    def _migrate(self) -> None:
        conn = self._connection()
        for number, statements in enumerate(_MIGRATIONS, start=1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Read the version inside the write lock: another process may have
                # migrated the file while this one waited.
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} was written by a newer app (schema {current});"
                        " update the app."
                    )
                if current < number:
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- the key and sealed columns ----------------------------------------------------

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
        return _loads(self._cipher.open(value, column))

    def _seal_json(self, value: Any, column: str) -> str | None:
        return self._cipher.seal(_dumps(value), column)

    def close(self) -> None:
        """Close the database file; later calls raise StoreError."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> DeviceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _now(self) -> datetime:
        moment = self._clock()
        return moment if moment.tzinfo else moment.astimezone()

    # -- meta, pairing and event configuration ----------------------------------------

    @staticmethod
    def _get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    @staticmethod
    def _set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, _dumps(value)),
        )

    @staticmethod
    def _delete_meta(conn: sqlite3.Connection, *keys: str) -> None:
        conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in keys])

    def set_pairing(
        self,
        server_url: str,
        device_id: int,
        event_id: int,
        token: str,
        event: Mapping[str, Any] | None = None,
    ) -> None:
        """Remember the server and token this tablet syncs with, and optionally its event.

        Pairing as a different device starts a new mutation sequence on the server, so
        unsent mutations are renumbered from 1 (in their order) and the pull cursor is
        reset.
        """
        with self._transaction() as conn:
            previous = self._get_meta(conn, "device_id")
            if previous != device_id:
                self._renumber_outbox(conn)
                self._delete_meta(conn, "cursor")
            self._set_meta(conn, "server_url", server_url.rstrip("/"))
            self._set_meta(conn, "device_id", device_id)
            self._set_meta(conn, "event_id", event_id)
            self._set_meta(conn, "token", token)
            self._delete_meta(conn, "unpaired")
            if event is not None:
                self._write_event(conn, event, event.get("server_version"))

    @staticmethod
    def _renumber_outbox(conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT * FROM outbox ORDER BY mutation_id").fetchall()
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'outbox'")
        conn.executemany(
            "INSERT INTO outbox (mutation_id, lead_id, kind, base_version, fields, attempted,"
            " created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
            [
                (
                    number,
                    row["lead_id"],
                    row["kind"],
                    row["base_version"],
                    row["fields"],
                    row["created_at"],
                )
                for number, row in enumerate(rows, start=1)
            ],
        )

    def pairing(self) -> dict[str, Any] | None:
        """Return server_url, device_id, event_id and token, or None when not paired."""
        with self._reading() as conn:
            values = {key: self._get_meta(conn, key) for key in _PAIRING_KEYS}
        return None if any(value is None for value in values.values()) else values

    def clear_pairing(self) -> None:
        """Forget the server, token, event and cursor; keep leads and the outbox."""
        with self._transaction() as conn:
            self._delete_meta(conn, *_PAIRING_KEYS, "cursor", "unpaired")
            conn.execute("DELETE FROM event_config")

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

    def note_booth_counts(self, total: int, today: int) -> None:
        """Record how many leads the whole booth has, as the server last said."""
        with self._transaction() as conn:
            self._set_meta(conn, "booth", {"total": total, "today": today})

    def sync_info(self) -> dict[str, Any]:
        """Return last_sync_at, last_error ({message, at} or None), cursor, unpaired and booth."""
        with self._reading() as conn:
            return {
                "booth": self._get_meta(conn, "booth"),
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
            (version, _dumps(dict(event))),
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

    # -- validating lead fields -------------------------------------------------------

    def _clean(
        self, fields: Mapping[str, Any], event: Mapping[str, Any] | None, allowed: Iterable[str]
    ) -> dict[str, Any]:
        """Return fields in the form the store keeps them; raise LeadInvalid with all errors."""
        allowed = set(allowed)
        event = event or {}
        errors: dict[str, Any] = {}
        cleaned: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in allowed:
                known = name in CREATE_FIELDS
                errors[name] = [
                    "This field cannot be changed after the server accepted the lead."
                    if known
                    else "This is not a lead field."
                ]
                continue
            try:
                cleaned[name] = self._clean_one(name, value, event)
            except _FieldError as error:
                errors[name] = error.message if isinstance(error.message, dict) else [error.message]
        if errors:
            raise LeadInvalid(errors)
        return cleaned

    def _clean_one(self, name: str, value: Any, event: Mapping[str, Any]) -> Any:
        if name in _PLAIN_TEXT:
            return _text(value)
        if name == "email":
            email = _text(value)
            try:
                return normalise_email(email) if email else None
            except ContactError as error:
                raise _FieldError(str(error)) from None
        if name == "phone":
            phone = _text(value)
            try:
                return normalise_phone(phone, event.get("country")) if phone else None
            except ContactError as error:
                raise _FieldError(str(error)) from None
        if name == "country":
            country = _text(value)
            if country and not is_country_code(country):
                raise _FieldError("Use an ISO 3166-1 alpha-2 country code, like DE or GB.")
            return country.upper() if country else None
        if name == "source":
            return _text(value) or "manual"
        if name == "rating":
            return _text(value)
        if name == "follow_up":
            if value is None:
                return False
            if not isinstance(value, bool):
                raise _FieldError("Answer yes (true) or no (false).")
            return value
        if name == "answers":
            answers = {} if value is None else value
            if not isinstance(answers, Mapping):
                raise _FieldError("Give the answers keyed by question id.")
            problems = _answer_problems(event, answers)
            if problems:
                raise _FieldError(problems)
            return drop_blank_answers(answers)
        if name == "products":
            products = [] if value is None else value
            if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
                raise _FieldError("Give a list of product ids.")
            return list(dict.fromkeys(products))
        if name == "consent":
            return _consent(value, event.get("consent_version") or None)
        if name == "captured_by_id":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _FieldError("Choose who captured the lead.")
            return value
        if name == "captured_at":
            return _parse_aware(value).isoformat()
        raise AssertionError(f"no rule for {name}")  # pragma: no cover - _clean filters names

    # -- leads --------------------------------------------------------------------------

    def _column_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the columns to write for lead values: JSON encoded, indexed, sealed."""
        columns = {}
        for name, value in values.items():
            if name in JSON_FIELDS:
                columns[name] = _dumps(value)
            elif name == "follow_up":
                columns[name] = int(bool(value))
            else:
                columns[name] = value
        if "captured_at" in values:
            columns["captured_utc"] = _utc_key(datetime.fromisoformat(values["captured_at"]))
        # Values arrive normalised (save_lead cleans them; the server normalises with
        # the same sync/contact.py), so equal people get equal index values.
        if "email" in values:
            columns["email_index"] = self._cipher.blind_index(values["email"])
        if "phone" in values:
            columns["phone_index"] = self._cipher.blind_index(values["phone"])
        for name in SEALED_COLUMNS:
            if name in columns:
                columns[name] = self._cipher.seal(columns[name], f"leads.{name}")
        return columns

    def _insert_lead(
        self, conn: sqlite3.Connection, lead_id: str, values: Mapping[str, Any], **state: Any
    ) -> None:
        columns = {
            "id": lead_id,
            **self._column_values(values),
            "created_locally_at": self._now().isoformat(),
            **state,
        }
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        # local_seq orders "newest first" without trusting the tablet clock.
        conn.execute(
            f"INSERT INTO leads ({names}, local_seq) VALUES ({marks},"
            " (SELECT COALESCE(MAX(local_seq), 0) + 1 FROM leads))",
            list(columns.values()),
        )
        self._refresh_search_text(conn, lead_id)

    def _update_columns(
        self, conn: sqlite3.Connection, lead_id: str, values: Mapping[str, Any]
    ) -> None:
        columns = self._column_values(values)
        if not columns:
            return
        assignments = ", ".join(f"{name} = ?" for name in columns)
        conn.execute(f"UPDATE leads SET {assignments} WHERE id = ?", [*columns.values(), lead_id])
        if any(name in _SEARCHED for name in values):
            self._refresh_search_text(conn, lead_id)

    def _refresh_search_text(self, conn: sqlite3.Connection, lead_id: str) -> None:
        row = conn.execute(
            "SELECT local_seq, first_name, last_name, email, company FROM leads WHERE id = ?",
            (lead_id,),
        ).fetchone()
        # casefold in Python: SQLite's LIKE folds ASCII only, and names are often not ASCII.
        text = "\n".join(
            (self._open(row[name], f"leads.{name}") or "").casefold() for name in _SEARCHED
        )
        conn.execute(
            "UPDATE leads SET search_text = ? WHERE id = ?",
            (self._cipher.seal(text, "leads.search_text"), lead_id),
        )
        if self._search_ready:
            conn.execute(
                "INSERT OR REPLACE INTO temp.search_index (local_seq, id, text) VALUES (?, ?, ?)",
                (row["local_seq"], lead_id, text),
            )

    def _ensure_search_index(self) -> None:
        """Build the in-memory search index from the sealed search texts, once per open.

        Searching needs substrings of names, which a blind index cannot give; the plain
        texts live only in a TEMP table in memory (temp_store = MEMORY), never on disk.
        The index follows this store object's own writes: the app has one store per file.
        """
        if self._search_ready:
            return
        with self._transaction() as conn:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS search_index"
                " (local_seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL)"
            )
            conn.execute("DELETE FROM temp.search_index")
            rows = conn.execute("SELECT local_seq, id, search_text FROM leads").fetchall()
            conn.executemany(
                "INSERT INTO temp.search_index (local_seq, id, text) VALUES (?, ?, ?)",
                [(row[0], row[1], self._open(row[2], "leads.search_text") or "") for row in rows],
            )
            self._search_ready = True

    def _enqueue(
        self,
        conn: sqlite3.Connection,
        lead_id: str,
        kind: str,
        fields: Mapping[str, Any],
        base_version: int | None,
        created_at: str,
    ) -> int:
        cursor = conn.execute(
            "INSERT INTO outbox (lead_id, kind, base_version, fields, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                lead_id,
                kind,
                base_version,
                self._seal_json(dict(fields), "outbox.fields"),
                created_at,
            ),
        )
        return int(cursor.lastrowid or 0)

    def _row_to_lead(self, sealed: sqlite3.Row) -> dict[str, Any]:
        row = dict(sealed)
        for name in SEALED_COLUMNS:
            if name != "search_text":
                row[name] = self._open(row[name], f"leads.{name}")
        lead = {
            "id": row["id"],
            **{name: row[name] for name in CREATE_FIELDS if name not in JSON_FIELDS},
            "answers": json.loads(row["answers"]),
            "products": json.loads(row["products"]),
            "consent": json.loads(row["consent"]),
            "server_version": row["server_version"],
            "status": row["status"],
            "owner_id": row["owner_id"],
            "owner_name": row["owner_name"],
            "acknowledged_at": row["acknowledged_at"],
            "status_reason": row["status_reason"],
            "deal_value": row["deal_value"],
            "first_contact_at": row["first_contact_at"],
            "merged_into_id": row["merged_into_id"],
            "sync_state": row["sync_state"],
            "rejected_errors": _loads(row["rejected_errors"]),
            "created_locally_at": row["created_locally_at"],
        }
        lead["follow_up"] = bool(lead["follow_up"])
        return lead

    @staticmethod
    def _create_fields(lead: Mapping[str, Any]) -> dict[str, Any]:
        """Return a lead's fields exactly as the protocol's create.fields."""
        return {name: lead[name] for name in CREATE_FIELDS}

    def save_lead(self, fields: Mapping[str, Any], *, lead_id: str | None = None) -> str:
        """Save a new lead and queue its upload; return its id.

        Raises LeadInvalid for fields that cannot be stored (bad email or phone, answers
        that do not fit the event's questions, a missing captured_by_id...).
        """
        try:
            lead_id = str(uuid.UUID(lead_id)) if lead_id else str(uuid.uuid4())
        except (TypeError, ValueError):
            raise LeadInvalid({"id": ["Give the lead id as a UUID."]}) from None
        given = dict(fields)
        given.setdefault("captured_at", self._now())
        # A lead sent without answers still has to answer the required questions:
        # the server checks its create the same way and would refuse it.
        given.setdefault("answers", {})
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM leads WHERE id = ?", (lead_id,)).fetchone():
                raise LeadInvalid({"id": ["A lead with this id is already saved."]})
            cleaned = self._clean(given, self._event(conn), CREATE_FIELDS)
            if cleaned.get("captured_by_id") is None:
                raise LeadInvalid({"captured_by_id": ["Choose who captured the lead."]})
            if lacks_identity(cleaned):
                raise LeadInvalid({"_schema": [IDENTITY_MESSAGE]})
            values = {**_DEFAULTS, **cleaned}
            self._insert_lead(conn, lead_id, values, sync_state="pending")
            self._enqueue(
                conn, lead_id, "create", self._create_fields(values), None, self._now().isoformat()
            )
        return lead_id

    def update_lead(self, lead_id: str, changes: Mapping[str, Any]) -> None:
        """Change a lead's fields and queue only the changed ones for upload.

        Raises KeyError for an unknown lead and LeadInvalid for invalid values.
        """
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
            if row is None:
                raise KeyError(lead_id)
            lead = self._row_to_lead(row)
            creates = conn.execute(
                "SELECT mutation_id, attempted, fields FROM outbox"
                " WHERE lead_id = ? AND kind = 'create' ORDER BY mutation_id",
                (lead_id,),
            ).fetchall()
            # Capture fields stay open while the server has no version of the lead and
            # no create is on its way there.
            capture_open = lead["server_version"] is None and not any(
                c["attempted"] for c in creates
            )
            allowed = EDITABLE_FIELDS | (CAPTURE_FIELDS if capture_open else frozenset())
            event = self._event(conn)
            cleaned = self._clean(changes, event, allowed)
            if lead["server_version"] is None and "answers" not in cleaned:
                # Still to reach the server as a whole lead (a create, or one to be
                # re-sent after a refusal): it must pass the checks a new lead does.
                problems = _answer_problems(event, lead["answers"])
                if problems:
                    raise LeadInvalid({"answers": problems})
            changed = {name: value for name, value in cleaned.items() if lead[name] != value}
            if not changed:
                return
            self._update_columns(conn, lead_id, changed)
            lead.update(changed)
            now = self._now().isoformat()
            waiting = [c for c in creates if not c["attempted"]]
            if lead["server_version"] is not None:
                self._enqueue(conn, lead_id, "update", changed, lead["server_version"], now)
            elif waiting:
                # The server has not seen the create yet: send the lead once, as it is now.
                create = waiting[-1]
                fields = {**self._open_json(create["fields"], "outbox.fields"), **changed}
                conn.execute(
                    "UPDATE outbox SET fields = ? WHERE mutation_id = ?",
                    (self._seal_json(fields, "outbox.fields"), create["mutation_id"]),
                )
            elif creates:
                # A create is in flight: its answer will give the server version, and this
                # update follows it in mutation order.
                self._enqueue(conn, lead_id, "update", changed, None, now)
            else:
                # The server rejected the create: a corrected lead is a new create.
                self._enqueue(conn, lead_id, "create", self._create_fields(lead), None, now)
            conn.execute(
                "UPDATE leads SET sync_state = 'pending', rejected_errors = NULL WHERE id = ?",
                (lead_id,),
            )

    def get_lead(self, lead_id: str) -> dict[str, Any] | None:
        """Return a lead as a dict, or None."""
        with self._reading() as conn:
            row = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
        return None if row is None else self._row_to_lead(row)

    def search_leads(
        self, text: str = "", limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Return leads whose name, email or company contains text (any case), newest first."""
        needle = text.strip().casefold()
        query = "SELECT * FROM leads"
        params: list[Any] = []
        if needle:
            self._ensure_search_index()
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = (
                "SELECT leads.* FROM temp.search_index AS found"
                " JOIN leads ON leads.id = found.id"
                " WHERE found.text LIKE ? ESCAPE '\\'"
            )
            params.append(f"%{escaped}%")
        # Walking the local_seq index backwards stops after limit matches.
        query += f" ORDER BY {'found' if needle else 'leads'}.local_seq DESC LIMIT ? OFFSET ?"
        params += [max(0, limit), max(0, offset)]
        with self._reading() as conn:
            rows = conn.execute(query, params).fetchall()
        return [self._row_to_lead(row) for row in rows]

    def _event_zone(self, conn: sqlite3.Connection) -> tzinfo | None:
        name = (self._event(conn) or {}).get("timezone")
        if not name:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def counts(self, now: datetime | None = None, tz: tzinfo | str | None = None) -> dict[str, int]:
        """Return total, today (in the event's time zone), pending, rejected and outbox counts.

        pending counts leads the server has not accepted yet (and did not reject);
        outbox counts unsent mutations, edits of uploaded leads included.
        """
        with self._reading() as conn:
            zone = ZoneInfo(tz) if isinstance(tz, str) else tz or self._event_zone(conn)
            moment = now or self._now()
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone) if zone else moment.astimezone()
            zone = zone or moment.tzinfo
            day = moment.astimezone(zone).date()
            start = datetime.combine(day, time(), tzinfo=zone)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
            row = conn.execute(
                "SELECT COUNT(*),"
                " COALESCE(SUM(captured_utc >= ? AND captured_utc < ?), 0),"
                " COALESCE(SUM(server_version IS NULL AND sync_state = 'pending'), 0),"
                " COALESCE(SUM(sync_state = 'rejected'), 0)"
                " FROM leads",
                (_utc_key(start), _utc_key(end)),
            ).fetchone()
            outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        return {
            "total": row[0],
            "today": row[1],
            "pending": row[2],
            "rejected": row[3],
            "outbox": outbox,
        }

    def outbox_size(self) -> int:
        """Return the number of mutations not yet handled by the server."""
        with self._reading() as conn:
            return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def find_duplicates(
        self,
        email: str | None = None,
        phone: str | None = None,
        *,
        exclude_id: str | None = None,
    ) -> list[str]:
        """Return ids of leads on this tablet with the same email or phone, newest first.

        Values are normalised as a save would; a value that cannot be normalised
        matches nothing.
        """
        conditions, params = [], []
        region = (self.event_config() or {}).get("country")
        for column, raw, normalise in (
            ("email_index", email, normalise_email),
            ("phone_index", phone, lambda value: normalise_phone(value, region)),
        ):
            if raw and raw.strip():
                try:
                    params.append(self._cipher.blind_index(normalise(raw)))
                except ContactError:
                    continue
                conditions.append(f"{column} = ?")
        if not conditions:
            return []
        query = f"SELECT id FROM leads WHERE ({' OR '.join(conditions)})"
        if exclude_id:
            query += " AND id != ?"
            params.append(exclude_id)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY local_seq DESC", params).fetchall()
        return [row["id"] for row in rows]

    # -- push ---------------------------------------------------------------------------

    def pending_mutations(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the oldest unsent mutations, shaped as the push body's mutations.

        Marks them attempted: from now on an edit of a lead whose create is among them
        is queued as its own update rather than folded into a create that may already
        be on the server.
        """
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox ORDER BY mutation_id LIMIT ?", (max(0, limit),)
            ).fetchall()
            if rows:
                conn.execute(
                    "UPDATE outbox SET attempted = 1 WHERE mutation_id <= ? AND attempted = 0",
                    (rows[-1]["mutation_id"],),
                )
        mutations = []
        for row in rows:
            mutation = {
                "mutation_id": row["mutation_id"],
                "kind": row["kind"],
                "lead_id": row["lead_id"],
                "fields": self._open_json(row["fields"], "outbox.fields"),
            }
            if row["kind"] == "update":
                mutation["base_version"] = row["base_version"]
            mutations.append(mutation)
        return mutations

    def _pending_fields(self, conn: sqlite3.Connection, lead_id: str) -> set[str]:
        """Return the fields of lead_id that unsent mutations will still change."""
        pending: set[str] = set()
        for row in conn.execute("SELECT kind, fields FROM outbox WHERE lead_id = ?", (lead_id,)):
            pending |= (
                set(CREATE_FIELDS)
                if row["kind"] == "create"
                else set(self._open_json(row["fields"], "outbox.fields"))
            )
        return pending

    def _server_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the known lead fields of a server payload in the store's form."""
        result = {}
        for name in CREATE_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if name == "consent":
                consent = value or {"given": False}
                value = {
                    "given": bool(consent.get("given")),
                    "version": consent.get("version"),
                    "at": consent.get("at"),
                }
                # Servers since issue 8 send the language and purposes agreed to.
                for detail in ("language", "purposes"):
                    if consent.get(detail) is not None:
                        value[detail] = consent[detail]
            elif name == "answers":
                value = value or {}
            elif name == "products":
                value = value or []
            elif name == "follow_up":
                value = bool(value)
            elif name == "source":
                value = value or "manual"
            result[name] = value
        return result

    def apply_push_results(self, results: Iterable[Mapping[str, Any]]) -> None:
        """Record the server's answers to a push, in one transaction."""
        with self._transaction() as conn:
            for result in sorted(results, key=lambda item: item["mutation_id"]):
                self._apply_result(conn, result)

    def _apply_result(self, conn: sqlite3.Connection, result: Mapping[str, Any]) -> None:
        mutation_id = result["mutation_id"]
        lead_id = str(result["lead_id"])
        sent = conn.execute(
            "SELECT kind FROM outbox WHERE mutation_id = ?", (mutation_id,)
        ).fetchone()
        if sent is None:
            return  # handled by an earlier answer (a replay we already applied)
        conn.execute("DELETE FROM outbox WHERE mutation_id = ?", (mutation_id,))
        row = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
        if row is None:
            return
        now = self._now().isoformat()
        conflicts = result.get("conflicts") or []
        if conflicts:
            pending = self._pending_fields(conn, lead_id)
            server_side: dict[str, Any] = {}
            for conflict in conflicts:
                field = conflict["field"]
                conn.execute(
                    "INSERT INTO conflicts (lead_id, field, device_value, server_value, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        lead_id,
                        field,
                        self._seal_json(conflict.get("device_value"), "conflicts.device_value"),
                        self._seal_json(conflict.get("server_value"), "conflicts.server_value"),
                        now,
                    ),
                )
                # A newer local edit of the field is still to be sent: it wins locally.
                if field not in pending:
                    server_side[field] = conflict.get("server_value")
            self._update_columns(conn, lead_id, self._server_values(server_side))
        remaining = conn.execute(
            "SELECT 1 FROM outbox WHERE lead_id = ? LIMIT 1", (lead_id,)
        ).fetchone()
        if result["outcome"] == "applied":
            version = result.get("server_version")
            if version is not None and (row["server_version"] or 0) < version:
                conn.execute("UPDATE leads SET server_version = ? WHERE id = ?", (version, lead_id))
            state = "pending" if remaining else "uploaded"
            conn.execute(
                "UPDATE leads SET sync_state = ?, rejected_errors = NULL WHERE id = ?",
                (state, lead_id),
            )
            if state == "uploaded":
                self._note_confirmed(conn, lead_id)
        elif result["outcome"] == "rejected":
            errors = result.get("errors") or {}
            doomed_follower = (
                row["server_version"] is None
                and row["sync_state"] == "rejected"
                and sent["kind"] == "update"
            )
            # An update of a lead whose create was rejected fails as "no such lead";
            # keep the create's reasons, which tell the user what to correct.
            if not doomed_follower:
                conn.execute(
                    "UPDATE leads SET sync_state = 'rejected', rejected_errors = ? WHERE id = ?",
                    (self._seal_json(errors, "leads.rejected_errors"), lead_id),
                )

    # -- pull ---------------------------------------------------------------------------

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
                elif kind == "erasure":
                    # The server erased the person (a data-protection request): no trace here.
                    self._forget(conn, str(data.get("id")), "erased")
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

    # -- retention, erasure and wiping -------------------------------------------------

    def _note_confirmed(self, conn: sqlite3.Connection, lead_id: str) -> None:
        """Start a lead's retention clock when the server first holds all of it."""
        conn.execute(
            "UPDATE leads SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
            (_utc_key(self._now()), lead_id),
        )

    def _forget(self, conn: sqlite3.Connection, lead_id: str, reason: str) -> None:
        """Delete a lead with everything held about it, and remember only its id."""
        conn.execute("DELETE FROM outbox WHERE lead_id = ?", (lead_id,))
        conn.execute("DELETE FROM conflicts WHERE lead_id = ?", (lead_id,))
        conn.execute("DELETE FROM leads WHERE id = ?", (lead_id,))
        if self._search_ready:
            conn.execute("DELETE FROM temp.search_index WHERE id = ?", (lead_id,))
        conn.execute(
            "INSERT INTO forgotten (lead_id, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT (lead_id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (lead_id, reason, _utc_key(self._now())),
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
            cutoff = _utc_key(moment - timedelta(days=days))
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
        """Delete everything (leads, outbox, drafts, conflicts, settings) and the key file.

        For a revoked tablet (docs/sync-protocol.md, "Revoked tablets"). Rows are deleted
        with secure_delete on and the file vacuumed; the key file is overwritten and
        removed, so any copy of the old file stays sealed. A fresh key is made for the
        next pairing.
        """
        with self._lock:
            with self._transaction() as conn:
                for table in ("outbox", "conflicts", "leads", "drafts", "event_config"):
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

    # -- conflicts and drafts -----------------------------------------------------------

    def conflicts(self, lead_id: str | None = None) -> list[dict[str, Any]]:
        """Return logged conflicts (the server's value was kept), oldest first."""
        query = "SELECT * FROM conflicts"
        params: tuple[Any, ...] = ()
        if lead_id is not None:
            query += " WHERE lead_id = ?"
            params = (lead_id,)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
        return [
            {
                "id": row["id"],
                "lead_id": row["lead_id"],
                "field": row["field"],
                "device_value": self._open_json(row["device_value"], "conflicts.device_value"),
                "server_value": self._open_json(row["server_value"], "conflicts.server_value"),
                "at": row["at"],
            }
            for row in rows
        ]

    def save_draft(self, data: Mapping[str, Any]) -> None:
        """Keep the form being filled in, replacing the previous draft."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO drafts (id, data, saved_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
                " saved_at = excluded.saved_at",
                (self._seal_json(dict(data), "drafts.data"), self._now().isoformat()),
            )

    def load_draft(self) -> dict[str, Any] | None:
        """Return the saved draft, or None."""
        with self._reading() as conn:
            row = conn.execute("SELECT data FROM drafts WHERE id = 1").fetchone()
        return None if row is None else self._open_json(row["data"], "drafts.data")

    def clear_draft(self) -> None:
        """Drop the saved draft."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM drafts")
