"""Sign webhook bodies so receivers can tell our alerts from forgeries and replays.

The header reads ``t=<unix seconds>,v1=<hex HMAC-SHA256>``; the MAC covers
``"<t>." + body``, so a receiver that checks the timestamp's age also refuses
old requests replayed at it. Receivers may see several ``v1`` entries while a
secret is being rotated; any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of the timestamp and body under secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, now: int | None = None) -> str:
    """Return the X-Leadbridge-Signature value for body, signed at now (default: the clock)."""
    timestamp = int(time.time()) if now is None else int(now)
    return f"t={timestamp},{SCHEME}={sign(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            # Digits only: int() would also take signs, spaces and underscores.
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: int | None = None,
) -> bool:
    """Return whether header is a valid, fresh signature of body under secret."""
    if not header:
        return False
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    current = int(time.time()) if now is None else int(now)
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    # Compare every candidate, without stopping early, so timing says nothing about a match.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("ascii", "replace"))
    return matched
