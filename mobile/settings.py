"""Remember this tablet's own choices (staff at the booth, kiosk mode) in a small file.

The file sits next to the store's database, so wiping the app's data forgets both
together. Pairing and leads live in the store itself (sync/store/).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {"staff_id": None, "staff_name": None, "kiosk": False}


def settings_path(store_path: str | Path) -> Path:
    """Return the settings file that belongs to the store at store_path."""
    path = Path(store_path)
    return path.with_name(path.stem + ".settings.json")


class LocalSettings:
    """A few keys kept as JSON; writes replace the file atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._values = dict(DEFAULTS)
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}  # a missing or damaged file means "nothing chosen yet"
        if isinstance(loaded, dict):
            self._values.update({k: v for k, v in loaded.items() if k in DEFAULTS})

    def get(self, key: str) -> Any:
        """Return the value of key (see DEFAULTS)."""
        with self._lock:
            return self._values[key]

    def update(self, **values: Any) -> None:
        """Change keys and write the file."""
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        with self._lock:
            self._values.update(values)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps(self._values), encoding="utf-8")
            os.replace(temporary, self.path)

    def staff_is_member(self, members: list[dict[str, Any]]) -> bool:
        """Tell whether the remembered staff member is on the event's team."""
        staff_id = self.get("staff_id")
        return staff_id is not None and any(m.get("id") == staff_id for m in members)
