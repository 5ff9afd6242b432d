"""Seal the tablet's personal-data columns with AES-GCM and index them with keyed hashes.

One 32-byte key (kept by sync/keystore.py) yields two sub-keys through HKDF-SHA256: one
for AES-256-GCM, one for HMAC-SHA256 blind indexes. A sealed value is text,
``enc1:`` + URL-safe base64 of a fresh 12-byte nonce and the ciphertext with its tag;
the column's name is the associated data, so a value moved to another column does not
open. Blind indexes let the store find duplicates by email or phone without decrypting
every row: equal normalised values give equal HMACs, and without the key they say nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc1:"
_NONCE_BYTES = 12
# base64.urlsafe_b64encode's alphabet, applied to b2a_base64's output in one C call.
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_SHA256_BLOCK = 64


class SealError(Exception):
    """A sealed value that does not open with this key (wrong key or altered data)."""


def _subkey(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


def is_sealed(value: object) -> bool:
    """Tell whether value is a sealed column value."""
    return isinstance(value, str) and value.startswith(PREFIX)


class FieldCipher:
    """Seal and open column values, and compute blind indexes, with one tablet key."""

    sealing = True

    def __init__(self, key: bytes):
        self._aead = AESGCM(_subkey(key, b"leadbridge tablet columns v1"))
        # HMAC-SHA256 (RFC 2104) with its keyed inner and outer states made once: a pulled
        # page indexes two values per lead, and hmac.new set up the key for each of them.
        index_key = _subkey(key, b"leadbridge tablet blind index v1").ljust(_SHA256_BLOCK, b"\0")
        self._index_inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in index_key))
        self._index_outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in index_key))

    def seal(self, value: str | None, column: str) -> str | None:
        """Return value encrypted for column; None stays None."""
        if value is None:
            return None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), column.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def seal_many(self, values: Sequence[str | None], column: str) -> list[str | None]:
        """Return values each encrypted for column, as seal would; None stays None.

        For a pulled page: one call for all the nonces (each still fresh and random)
        and the column's associated data encoded once, instead of per value.
        """
        nonces = os.urandom(_NONCE_BYTES * len(values))
        associated = column.encode()
        encrypt, encode = self._aead.encrypt, binascii.b2a_base64
        # One expression per value, no calls into Python helpers: pages seal ~9,000 values.
        return [
            None
            if value is None
            else PREFIX
            + encode(
                (nonce := nonces[start : start + _NONCE_BYTES])
                + encrypt(nonce, value.encode(), associated),
                newline=False,
            )
            .translate(_URLSAFE)
            .decode("ascii")
            for start, value in zip(range(0, len(nonces), _NONCE_BYTES), values, strict=True)
        ]

    def open(self, value: str | None, column: str) -> str | None:
        """Return the plain text of a sealed value of column; None stays None."""
        if value is None:
            return None
        if not is_sealed(value):
            raise SealError(f"a value of {column} is not sealed")
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX) :])
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], column.encode())
        except (InvalidTag, ValueError):
            raise SealError(f"a value of {column} does not open with this key") from None
        return plain.decode()

    def blind_index(self, value: str | None) -> str | None:
        """Return the keyed hash of a normalised value, for equality lookups."""
        if value is None:
            return None
        inner = self._index_inner.copy()
        inner.update(value.encode())
        outer = self._index_outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class NullCipher(FieldCipher):
    """Store columns in the clear: only for measuring what sealing costs (bench/app_bench.py)."""

    sealing = False

    def __init__(self) -> None:
        super().__init__(b"\0" * 32)

    def seal(self, value: str | None, column: str) -> str | None:
        """Return value unchanged."""
        return value

    def seal_many(self, values: Sequence[str | None], column: str) -> list[str | None]:
        """Return values unchanged."""
        return list(values)

    def open(self, value: str | None, column: str) -> str | None:
        """Return value unchanged."""
        return value
