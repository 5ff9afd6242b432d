"""Keyed hashes naming a person without their data: HMAC-SHA256 with a server secret.

The key is derived from the server's secret (LEADBRIDGE_SECRET_KEY), so a copy of the
database alone cannot test guesses of who asked to be forgotten.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app


def _key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"leadbridge privacy subject v1", hashlib.sha256).digest()


def subject_hash(kind: str, normalised: str | None) -> str | None:
    """Return the keyed hash of a normalised email or phone (kind "email" or "phone")."""
    if normalised is None:
        return None
    return hmac.new(_key(), f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def subject_hasher() -> Callable[[str, str], str]:
    """Return subject_hash with the key derived once, for hashing many values in a row."""
    key = _key()

    def hashed(kind: str, normalised: str) -> str:
        return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()

    return hashed


def request_hash(email: str | None, phone: str | None) -> str:
    """Return one keyed hash naming a request's subject, for the audit log."""
    return hmac.new(_key(), f"{email or ''}|{phone or ''}".encode(), hashlib.sha256).hexdigest()
