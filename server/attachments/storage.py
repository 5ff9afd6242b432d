"""Where card photo bytes live: one small interface, a folder on disk by default.

Another backend (object storage) implements the same five methods. Partial uploads are kept
apart from finished blobs, which are named by their SHA-256 and never change.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


class BlobStorage(Protocol):
    """Store partial uploads by upload id and finished blobs by SHA-256."""

    def write_at(self, upload: str, offset: int, data: bytes) -> None:
        """Write data at offset of a partial upload, dropping anything after it."""

    def finish(self, upload: str, sha256: str) -> bool:
        """Turn a partial upload into the blob sha256 if its bytes hash to it; tell whether."""

    def read(self, sha256: str) -> bytes:
        """Return a finished blob's bytes (FileNotFoundError if there is none)."""

    def discard(self, upload: str) -> None:
        """Forget a partial upload."""

    def delete(self, sha256: str) -> None:
        """Delete a finished blob, if it exists."""


class DiskStorage:
    """Blobs as files in a folder (the instance folder's attachments/ by default)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        (self.root / "partial").mkdir(parents=True, exist_ok=True)

    def _partial(self, upload: str) -> Path:
        if not upload.isalnum():
            raise ValueError("upload ids are alphanumeric")
        return self.root / "partial" / upload

    def _blob(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("blobs are named by a lower-case hex SHA-256")
        return self.root / sha256[:2] / sha256

    def write_at(self, upload: str, offset: int, data: bytes) -> None:
        """Write data at offset, fsynced: the caller records the new length only after this."""
        path = self._partial(upload)
        with open(path, "r+b" if path.exists() else "w+b") as handle:
            handle.truncate(offset)
            handle.seek(offset)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, upload: str, sha256: str) -> bool:
        """Check the partial upload's SHA-256 and move it into place atomically."""
        path, target = self._partial(upload), self._blob(sha256)
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            return False
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)
        return True

    def read(self, sha256: str) -> bytes:
        """Return the blob's bytes."""
        return self._blob(sha256).read_bytes()

    def discard(self, upload: str) -> None:
        """Remove a partial upload."""
        self._partial(upload).unlink(missing_ok=True)

    def delete(self, sha256: str) -> None:
        """Remove a finished blob."""
        self._blob(sha256).unlink(missing_ok=True)


def init_storage(app: Flask) -> None:
    """Give the app its blob storage (a test or deployment may set its own first)."""
    if "leadbridge_blobs" not in app.extensions:
        root = (
            app.config.get("LEADBRIDGE_ATTACHMENTS_DIR") or Path(app.instance_path) / "attachments"
        )
        app.extensions["leadbridge_blobs"] = DiskStorage(root)


def storage() -> BlobStorage:
    """Return the current app's blob storage."""
    return current_app.extensions["leadbridge_blobs"]
