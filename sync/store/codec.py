"""How values are written in the store's text columns: JSON and fixed-width UTC keys."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any


def local_now() -> datetime:
    return datetime.now().astimezone()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Made once: json.dumps with options builds an encoder per call, and a pulled page
# encodes three values per lead. The text is the same as json.dumps(value, ...) gives.
_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def utc_key(moment: datetime) -> str:
    # A fixed-width UTC form, so text comparison in SQL orders instants correctly.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
