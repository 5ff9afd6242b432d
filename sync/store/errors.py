"""What the store raises: an unusable file, lead fields that cannot be saved."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """The store file cannot be used by this version of the app."""


class LeadInvalid(ValueError):
    """Lead fields that cannot be saved; errors are keyed by field, messages safe to show."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(f"invalid lead fields: {', '.join(sorted(errors))}")
        self.errors = errors


class FieldError(Exception):
    def __init__(self, message: str | dict[str, Any]):
        super().__init__(str(message))
        self.message = message
