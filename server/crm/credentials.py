"""Keep CRM credentials encrypted at rest with a key derived from the app's SECRET_KEY.

AES-256-GCM under a key made by HKDF-SHA256 from SECRET_KEY (its own info string, so
the key serves nothing else), a fresh 96-bit nonce per value, and the event id as
associated data: a ciphertext copied onto another event's connection does not decrypt.
Credentials go in once (a form or the API) and are read only by the connectors; they are
never returned, shown again or logged.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"leadbridge crm credentials v1"
_PREFIX = "v1:"


class CredentialsUnreadable(Exception):
    """Stored credentials do not decrypt (the secret key changed, or the value was altered)."""


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )


def seal(secret_key: str, event_id: int, values: dict[str, Any]) -> str:
    """Return values encrypted for storage on event_id's connection."""
    nonce = os.urandom(12)
    plain = json.dumps(values, separators=(",", ":")).encode()
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, plain, str(event_id).encode())
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret_key: str, event_id: int, stored: str) -> dict[str, Any]:
    """Return the values seal() stored; raise CredentialsUnreadable if they do not decrypt."""
    if not stored.startswith(_PREFIX):
        raise CredentialsUnreadable("unknown format")
    try:
        raw = base64.urlsafe_b64decode(stored[len(_PREFIX) :])
        plain = AESGCM(_key(secret_key)).decrypt(raw[:12], raw[12:], str(event_id).encode())
    except (InvalidTag, ValueError):
        raise CredentialsUnreadable("does not decrypt with this secret key") from None
    return json.loads(plain)
