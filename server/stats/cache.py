"""Keep an event's dashboard figures for a few seconds, so many open dashboards cost one.

Marketers keep the dashboard open through the show, every open page polls it, and each
answer aggregates all of the event's leads. For LEADBRIDGE_STATS_CACHE_SECONDS (default 3;
0 turns the cache off) everyone asking gets the figures computed first: through Redis when
LEADBRIDGE_REDIS_URL is set, so every web process and machine shares them, else in this
process's memory. The figures are then at most that many seconds old, which the dashboard
shows ("updated at"). A cache that fails (Redis down) is skipped, never an error.

While dashboards keep polling, no poll waits for the figures to be computed: a poll in the
last third of the cache time answers with the kept figures and has them computed again in
the background (one refresh per event at a time, across processes through Redis, and one
per process at a time), so they are renewed before they expire. Only a poll that finds none
(the first, or after a quiet spell) computes them itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_EXTENSION = "leadbridge_stats_cache"
# Past this share of the cache time, a poll has the figures refreshed in the background.
REFRESH_AFTER = 2 / 3
# A refresh claim lapses after this long, should its process die mid-way.
_CLAIM_SECONDS = 30.0
# One background refresh at a time per process: refreshes of many events at once would run
# their aggregates side by side and slow every other query (figures then expire and are
# computed by the poll that finds none, as without refreshes).
_REFRESHING = threading.Semaphore(1)


class _MemoryStore:
    """Figures by key with an expiry, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str]] = {}

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= time.monotonic():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def set(self, key: str, value: str, seconds: float) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, value)

    def claim(self, key: str) -> bool:
        """Take the right to refresh key; False if a refresh of it is under way."""
        with self._lock:
            if self._live(f"{key}:refreshing") is not None:
                return False
            self._entries[f"{key}:refreshing"] = (time.monotonic() + _CLAIM_SECONDS, "1")
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._entries.pop(f"{key}:refreshing", None)

    def _live(self, key: str) -> str | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None


class _RedisStore:
    """Figures by key with an expiry, in Redis (shared by every process)."""

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        return value.decode() if value is not None else None

    def set(self, key: str, value: str, seconds: float) -> None:
        self._redis.set(key, value, px=max(1, int(seconds * 1000)))

    def claim(self, key: str) -> bool:
        """Take the right to refresh key; False if a process is refreshing it."""
        return bool(
            self._redis.set(f"{key}:refreshing", "1", nx=True, px=int(_CLAIM_SECONDS * 1000))
        )

    def release(self, key: str) -> None:
        self._redis.delete(f"{key}:refreshing")


def _store() -> tuple[_MemoryStore | _RedisStore, str]:
    """Return the app's store and its key prefix, made on first use."""
    extensions = current_app.extensions
    if _EXTENSION not in extensions:
        url = current_app.config.get("LEADBRIDGE_REDIS_URL")
        # The prefix names this deployment's database, so two sharing one Redis never see
        # each other's figures.
        uri = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
        prefix = f"leadbridge:stats:{hashlib.sha256(uri.encode()).hexdigest()[:16]}"
        extensions[_EXTENSION] = (_RedisStore(url) if url else _MemoryStore(), prefix)
    return extensions[_EXTENSION]


def _put(
    store: _MemoryStore | _RedisStore, key: str, figures: dict[str, Any], seconds: float
) -> None:
    try:
        store.set(key, json.dumps({"at": time.time(), "figures": figures}), seconds)
    except RedisError as error:
        log.warning("stats cache unavailable: %s", type(error).__name__)


def _refresh_in_background(
    store: _MemoryStore | _RedisStore,
    key: str,
    compute: Callable[[], dict[str, Any]],
    seconds: float,
) -> None:
    """Compute the figures again on a thread of their own, unless a refresh is under way."""
    if not _REFRESHING.acquire(blocking=False):
        return
    try:
        claimed = store.claim(key)
    except RedisError:
        claimed = False  # the kept figures stand; they expire as usual
    if not claimed:
        _REFRESHING.release()
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def refresh() -> None:
        try:
            with app.app_context():
                _put(store, key, compute(), seconds)
        except Exception:  # a failed refresh leaves the figures to expire and be computed
            log.exception("stats refresh failed")
        finally:
            _REFRESHING.release()
            try:
                store.release(key)
            except RedisError:
                pass  # the claim lapses by itself

    threading.Thread(target=refresh, name="stats-refresh", daemon=True).start()


def cached(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Return the figures under key if computed within the cache time, else compute them."""
    seconds = current_app.config["LEADBRIDGE_STATS_CACHE_SECONDS"]
    if seconds <= 0:
        return compute()
    store, prefix = _store()
    key = f"{prefix}:{key}"
    try:
        kept = store.get(key)
    except RedisError as error:
        log.warning("stats cache unavailable: %s", type(error).__name__)
        return compute()
    if kept is not None:
        entry = json.loads(kept)
        if time.time() - entry["at"] >= seconds * REFRESH_AFTER:
            _refresh_in_background(store, key, compute, seconds)
        return entry["figures"]
    figures = compute()
    _put(store, key, figures, seconds)
    return figures
