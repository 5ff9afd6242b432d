"""Make bearer tokens and pairing codes, and the hashes they are stored as."""

from __future__ import annotations

import hashlib
import secrets

USER_TOKEN_PREFIX = "lbu_"
DEVICE_TOKEN_PREFIX = "lbd_"
# Crockford's base32: no I, L, O or U, so a code read aloud at a booth survives.
PAIRING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRING_CODE_LENGTH = 10  # 50 bits; codes are also single-use and expire
_AMBIGUOUS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def token_hash(secret: str) -> str:
    """Return the SHA-256 hex digest a token or pairing code is stored as.

    Tokens carry 256 random bits, so a fast hash is enough: there is nothing to
    brute-force, and lookups stay one indexed equality.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def new_user_token() -> str:
    """Return a fresh random user bearer token."""
    return USER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_device_token() -> str:
    """Return a fresh random tablet bearer token."""
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_pairing_code() -> str:
    """Return a fresh pairing code formatted for reading aloud, like ``7K3QD-M2X9P``."""
    raw = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_pairing_code(typed: str) -> str:
    """Return the canonical form of a typed code: upper case, no separators, O read as 0."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    return cleaned.translate(_AMBIGUOUS)
