"""Lead rows: saving, editing, reading, searching, counting and finding duplicates."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.contact import ContactError, normalise_email, normalise_phone
from sync.leads import IDENTITY_MESSAGE, lacks_identity
from sync.store.base import StoreBase
from sync.store.codec import dumps, loads, utc_key
from sync.store.errors import LeadInvalid
from sync.store.fields import (
    CAPTURE_FIELDS,
    CREATE_FIELDS,
    DEFAULTS,
    EDITABLE_FIELDS,
    JSON_FIELDS,
    SEARCHED,
    answer_problems,
)
from sync.store.sealing import SEALED_COLUMNS


def _editable(lead: Mapping[str, Any]) -> dict[str, Any]:
    """Return every field an update may carry, as the lead holds it.

    Sent against the version the tablet holds, so fields the server changed since
    still keep the server's value (a logged conflict), as with any update.
    """
    return {name: lead[name] for name in sorted(EDITABLE_FIELDS)}


class LeadsMixin(StoreBase):
    """Save, change and read leads; each save queues its outbox mutation."""

    def _column_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the columns to write for lead values: JSON encoded, indexed, sealed."""
        columns = self._plain_columns(values)
        for name in SEALED_COLUMNS:
            if name in columns:
                columns[name] = self._cipher.seal(columns[name], f"leads.{name}")
        return columns

    def _plain_columns(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the columns for lead values, JSON encoded and indexed, not yet sealed."""
        columns = {}
        for name, value in values.items():
            if name in JSON_FIELDS:
                columns[name] = dumps(value)
            elif name == "follow_up":
                columns[name] = int(bool(value))
            else:
                columns[name] = value
        if "captured_at" in values:
            columns["captured_utc"] = utc_key(datetime.fromisoformat(values["captured_at"]))
        # Values arrive normalised (save_lead cleans them; the server normalises with
        # the same sync/contact.py), so equal people get equal index values.
        if "email" in values:
            columns["email_index"] = self._cipher.blind_index(values["email"])
        if "phone" in values:
            columns["phone_index"] = self._cipher.blind_index(values["phone"])
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
        if any(name in SEARCHED for name in values):
            self._refresh_search_text(conn, lead_id)

    def _refresh_search_text(self, conn: sqlite3.Connection, lead_id: str) -> None:
        row = conn.execute(
            "SELECT local_seq, first_name, last_name, email, company FROM leads WHERE id = ?",
            (lead_id,),
        ).fetchone()
        # casefold in Python: SQLite's LIKE folds ASCII only, and names are often not ASCII.
        text = "\n".join(
            (self._open(row[name], f"leads.{name}") or "").casefold() for name in SEARCHED
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
            "rejected_errors": loads(row["rejected_errors"]),
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
            values = {**DEFAULTS, **cleaned}
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
                problems = answer_problems(event, lead["answers"])
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
                # A correction of a refused update: that update never reached the server,
                # so its fields go again with the correction.
                fields = _editable(lead) if lead["sync_state"] == "rejected" else changed
                self._enqueue(conn, lead_id, "update", fields, lead["server_version"], now)
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

    def resend_lead(self, lead_id: str) -> None:
        """Queue a lead the server refused again, unchanged (its cause was fixed elsewhere).

        For a refusal a tablet cannot edit away: staff added to the event's team, a
        product added to the event. A refused create goes again as a create, checked
        as a new lead is; a refused update sends the editable fields again against the
        version the tablet holds, so the server's newer values still win field by
        field. Raises KeyError for an unknown lead, LeadInvalid when the lead fails
        the checks; a lead that is not refused is left as it is.
        """
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
            if row is None:
                raise KeyError(lead_id)
            lead = self._row_to_lead(row)
            if lead["sync_state"] != "rejected":
                return
            now = self._now().isoformat()
            if lead["server_version"] is None:
                problems = answer_problems(self._event(conn), lead["answers"])
                if problems:
                    raise LeadInvalid({"answers": problems})
                self._enqueue(conn, lead_id, "create", self._create_fields(lead), None, now)
            else:
                self._enqueue(conn, lead_id, "update", _editable(lead), lead["server_version"], now)
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

    def rejected_leads(self, limit: int = 20) -> list[dict[str, Any]]:
        """Return the leads the server refused (each with rejected_errors), newest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT * FROM leads WHERE sync_state = 'rejected' ORDER BY local_seq DESC LIMIT ?",
                (max(0, limit),),
            ).fetchall()
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
                (utc_key(start), utc_key(end)),
            ).fetchone()
            outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        return {
            "total": row[0],
            "today": row[1],
            "pending": row[2],
            "rejected": row[3],
            "outbox": outbox,
        }

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
