"""The one draft of the capture form, kept sealed so a killed app loses nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.store.base import StoreBase


class DraftsMixin(StoreBase):
    """Keep, load and drop the form being filled in."""

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
