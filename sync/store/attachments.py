"""Card photos of leads on the tablet: sealed, queued for upload, their suggestions, deletion.

A photo is saved whole in one transaction (a tablet killed while saving keeps everything else
and no half photo), sealed like the leads' columns, and deleted with its lead (retention,
erasure, wipe). The sync client uploads it once its lead is on the server; what the server's
card reading suggests arrives by pull and is offered only for fields the lead has no value in.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from typing import Any

from sync.store.base import StoreBase
from sync.store.codec import dumps, utc_key

SUGGESTED_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "website")


class AttachmentsMixin(StoreBase):
    """Keep card photos until the server holds them and their lead's retention ends."""

    def add_card_photo(self, lead_id: str, jpeg: bytes) -> str:
        """Keep a card photo of lead_id for upload; return its SHA-256 (the same photo once)."""
        digest = hashlib.sha256(jpeg).hexdigest()
        sealed = self._cipher.seal(base64.b64encode(jpeg).decode("ascii"), "card_photos.data")
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM leads WHERE id = ?", (lead_id,)).fetchone() is None:
                raise KeyError(f"no lead {lead_id} on this tablet")
            conn.execute(
                "INSERT INTO card_photos (lead_id, sha256, size, data, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (lead_id, sha256) DO NOTHING",
                (lead_id, digest, len(jpeg), sealed, utc_key(self._now())),
            )
        return digest

    def card_photos(self, lead_id: str) -> list[dict[str, Any]]:
        """Return the lead's photos: sha256, size, whether uploaded, and any suggestions."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT sha256, size, uploaded_at, error, suggestions FROM card_photos"
                " WHERE lead_id = ? ORDER BY created_at, sha256",
                (lead_id,),
            ).fetchall()
        return [
            {
                "sha256": row["sha256"],
                "size": row["size"],
                "uploaded": row["uploaded_at"] is not None,
                "error": row["error"],
                "suggestions": self._open_json(row["suggestions"], "card_photos.suggestions")
                if row["suggestions"]
                else None,
            }
            for row in rows
        ]

    def card_photo_bytes(self, lead_id: str, sha256: str) -> bytes:
        """Return a photo's JPEG bytes (KeyError when it is gone)."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT data FROM card_photos WHERE lead_id = ? AND sha256 = ?", (lead_id, sha256)
            ).fetchone()
        if row is None:
            raise KeyError(sha256)
        return base64.b64decode(self._open(row["data"], "card_photos.data") or "")

    def photos_to_upload(self) -> list[dict[str, Any]]:
        """Return the photos whose lead the server holds and that it does not hold yet."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT p.lead_id, p.sha256, p.size FROM card_photos p"
                " JOIN leads l ON l.id = p.lead_id"
                " WHERE p.uploaded_at IS NULL AND p.error IS NULL"
                " AND l.server_version IS NOT NULL ORDER BY p.created_at"
            ).fetchall()
        return [dict(row) for row in rows]

    def photos_waiting(self) -> int:
        """Return how many photos still have to reach the server."""
        with self._reading() as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM card_photos WHERE uploaded_at IS NULL AND error IS NULL"
            ).fetchone()[0]

    def mark_photo_uploaded(self, lead_id: str, sha256: str) -> None:
        """Record that the server holds the whole photo."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE card_photos SET uploaded_at = ? WHERE lead_id = ? AND sha256 = ?",
                (utc_key(self._now()), lead_id, sha256),
            )

    def mark_photo_failed(self, lead_id: str, sha256: str, error: str) -> None:
        """Stop offering a photo the server refuses for good; keep why (no personal data)."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE card_photos SET error = ? WHERE lead_id = ? AND sha256 = ?",
                (error[:300], lead_id, sha256),
            )

    def drop_card_photo(self, lead_id: str, sha256: str) -> None:
        """Delete a photo (its lead was erased on the server)."""
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM card_photos WHERE lead_id = ? AND sha256 = ?", (lead_id, sha256)
            )

    def _apply_pulled_card(self, conn: sqlite3.Connection, data: Any) -> None:
        suggestions = {
            field: str(value)
            for field, value in (data.get("suggestions") or {}).items()
            if field in SUGGESTED_FIELDS and value
        }
        conn.execute(
            "UPDATE card_photos SET suggestions = ? WHERE lead_id = ? AND sha256 = ?",
            (
                self._cipher.seal(dumps(suggestions), "card_photos.suggestions"),
                str(data.get("lead_id")),
                str(data.get("sha256")),
            ),
        )

    def card_suggestions(self, lead_id: str) -> dict[str, str]:
        """Return what card reading suggests for the lead's empty fields (typed ones stay)."""
        lead = self.get_lead(lead_id)  # type: ignore[attr-defined]
        if lead is None:
            return {}
        offered: dict[str, str] = {}
        for photo in self.card_photos(lead_id):
            for field, value in (photo["suggestions"] or {}).items():
                if field == "website":
                    if value.lower() not in (lead.get("notes") or "").lower():
                        offered.setdefault(field, value)
                elif not lead.get(field):
                    offered.setdefault(field, value)
        return offered
