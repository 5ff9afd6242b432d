"""Sealing column values: one at a time and a page at a time give values that open alike."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.crypto import FieldCipher, SealError, is_sealed


def test_values_sealed_together_open_like_values_sealed_alone() -> None:
    cipher = FieldCipher(os.urandom(32))
    values = ["Ann", None, "Ådne Ørsted", "", "x" * 5000]
    sealed = cipher.seal_many(values, "leads.first_name")
    assert sealed[1] is None and all(is_sealed(value) for i, value in enumerate(sealed) if i != 1)
    assert [cipher.open(value, "leads.first_name") for value in sealed] == values
    # Each value has its own nonce: equal plain texts do not give equal sealed texts.
    twice = cipher.seal_many(["Ann", "Ann"], "leads.first_name")
    assert twice[0] != twice[1]
    assert cipher.open(twice[0], "leads.first_name") == "Ann"


def test_a_value_sealed_together_is_bound_to_its_column_and_key() -> None:
    cipher = FieldCipher(os.urandom(32))
    (sealed,) = cipher.seal_many(["ann@example.com"], "leads.email")
    with pytest.raises(SealError):
        cipher.open(sealed, "leads.notes")
    with pytest.raises(SealError):
        FieldCipher(os.urandom(32)).open(sealed, "leads.email")


def test_blind_index_is_hmac_sha256_with_the_index_subkey() -> None:
    # Indexes stored by earlier versions must still match: the same HMAC as hmac.new gives.
    key = os.urandom(32)
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"leadbridge tablet blind index v1"
    ).derive(key)
    cipher = FieldCipher(key)
    for value in ("ann@example.com", "+4930123456", "", "Ådne Ørsted", "x" * 200):
        expected = hmac.new(subkey, value.encode(), hashlib.sha256).hexdigest()
        assert cipher.blind_index(value) == expected
    assert cipher.blind_index(None) is None
