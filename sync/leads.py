"""Rules about a lead as a whole, computed the same way on tablet and server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A lead must say who the visitor is in at least one of these.
IDENTIFYING_FIELDS = ("email", "phone", "first_name", "last_name", "badge_payload")
IDENTITY_MESSAGE = "Give at least a name, an email, a phone or a badge."


def lacks_identity(values: Mapping[str, Any]) -> bool:
    """Tell whether a lead's values name nobody: no name, email, phone or badge."""
    return not any(values.get(name) for name in IDENTIFYING_FIELDS)
