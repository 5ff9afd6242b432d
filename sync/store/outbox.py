"""The outbox of unsent mutations, the push's answers and the conflict log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from sync.store.base import StoreBase
from sync.store.fields import (
    CREATE_FIELDS,
)

# Answers to more mutations than this are recorded one by one: an IN list of them stays
# far under SQLite's limit on a statement's parameters.
_PLAIN_BATCH_LIMIT = 500
# Each ends in "WHERE <column> IN", completed by _rows_where_in.
MUTATIONS_SENT = "SELECT mutation_id FROM outbox WHERE mutation_id IN"
LEAD_VERSIONS = "SELECT id, server_version FROM leads WHERE id IN"
LEADS_STILL_QUEUED = "SELECT DISTINCT lead_id FROM outbox WHERE lead_id IN"


def _plainly_applied(results: list[Mapping[str, Any]]) -> bool:
    """Tell whether every answer applied without conflicts, each of a different lead."""
    leads = {str(result["lead_id"]) for result in results}
    return (
        0 < len(results) <= _PLAIN_BATCH_LIMIT
        and len(leads) == len(results)
        and all(
            result.get("outcome") == "applied" and not result.get("conflicts") for result in results
        )
    )


def _rows_where_in(conn: sqlite3.Connection, select: str, values: list[Any]) -> list[Any]:
    """Run select (ending in "IN") over values, which must not be empty."""
    marks = ", ".join("?" for _ in values)
    return conn.execute(f"{select} ({marks})", values).fetchall()


class OutboxMixin(StoreBase):
    """Queue mutations, hand them to a push and apply the server's answers."""

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

    def outbox_size(self) -> int:
        """Return the number of mutations not yet handled by the server."""
        with self._reading() as conn:
            return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

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

    def apply_push_results(self, results: Iterable[Mapping[str, Any]]) -> None:
        """Record the server's answers to a push, in one transaction."""
        ordered = sorted(results, key=lambda item: item["mutation_id"])
        with self._transaction() as conn:
            if _plainly_applied(ordered):
                self._apply_plain_results(conn, ordered)
                return
            for result in ordered:
                self._apply_result(conn, result)

    def _apply_plain_results(
        self, conn: sqlite3.Connection, results: list[Mapping[str, Any]]
    ) -> None:
        """Record answers that all applied, without conflicts, one per lead: set by set.

        What _apply_result does for each of them, in a few statements: the common answer
        to a push, whose statements one by one cost the tablet more CPU than the request.
        """
        mutation_ids = [result["mutation_id"] for result in results]
        sent = {row[0] for row in _rows_where_in(conn, MUTATIONS_SENT, mutation_ids)}
        answered = [
            (result["mutation_id"], str(result["lead_id"]), result.get("server_version"))
            for result in results
            if result["mutation_id"] in sent
        ]
        if not answered:
            return
        conn.executemany(
            "DELETE FROM outbox WHERE mutation_id = ?", [(mutation,) for mutation, _, _ in answered]
        )
        lead_ids = [lead_id for _, lead_id, _ in answered]
        stored = {row[0]: row[1] for row in _rows_where_in(conn, LEAD_VERSIONS, lead_ids)}
        remaining = {row[0] for row in _rows_where_in(conn, LEADS_STILL_QUEUED, lead_ids)}
        answered = [answer for answer in answered if answer[1] in stored]
        conn.executemany(
            "UPDATE leads SET server_version = ? WHERE id = ?",
            [
                (version, lead_id)
                for _, lead_id, version in answered
                if version is not None and (stored[lead_id] or 0) < version
            ],
        )
        states = [
            ("pending" if lead_id in remaining else "uploaded", lead_id)
            for _, lead_id, _ in answered
        ]
        conn.executemany(
            "UPDATE leads SET sync_state = ?, rejected_errors = NULL WHERE id = ?", states
        )
        self._note_confirmed(conn, *(lead_id for state, lead_id in states if state == "uploaded"))

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
