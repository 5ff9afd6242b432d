"""Keep the tablet's data key outside the database file.

The key lives in a file next to the database (``<db>.key``, owner-only 0600), never in
it, so a copied database file alone reveals nothing. A platform key store (Android
Keystore) would be better still; it is not wired up yet (see README, "Tablet data at
rest"), so on Android the key file sits in the app's private storage.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32


class KeyFileError(Exception):
    """The key file exists but cannot be used; the message names no data."""


def key_path_for(database: str | Path) -> Path:
    """Return where the key of database is kept: beside it, never inside it."""
    database = Path(database)
    return database.with_name(database.name + ".key")


def load_key(path: Path) -> bytes | None:
    """Return the key stored at path, or None when there is no key file.

    A key file others may read is tightened to 0600 before it is used.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) != KEY_BYTES:
        raise KeyFileError(f"{path} does not hold a {KEY_BYTES}-byte key.")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)
    return data


def create_key(path: Path) -> bytes:
    """Make a new random key at path (0600 from the start); refuse to overwrite one."""
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: two processes opening a fresh store must not each write their own key.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, key)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return key


def delete_key(path: Path) -> None:
    """Overwrite and remove the key file, so leftovers of the database stay unreadable."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink(missing_ok=True)
