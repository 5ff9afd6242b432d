"""Fixtures of the card tests: a rendered card photo and blob storage in the test's folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bench.cardset import RenderedCard, render_cards
from server.attachments.storage import DiskStorage


@pytest.fixture(scope="session")
def rendered() -> list[RenderedCard]:
    """Render three photographed cards once per test session (a second or so each)."""
    try:
        return render_cards(3, seed=7)
    except RuntimeError as missing:  # no DejaVu or Liberation fonts on this machine
        pytest.skip(str(missing))


@pytest.fixture
def blobs(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DiskStorage]:
    """Point the app's photo storage at an empty folder of this test."""
    storage = DiskStorage(tmp_path / "attachments")
    monkeypatch.setitem(app.extensions, "leadbridge_blobs", storage)
    yield storage


def sha256(data: bytes) -> str:
    """Return data's hex SHA-256."""
    return hashlib.sha256(data).hexdigest()
