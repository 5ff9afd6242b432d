"""Keep the tablet syncing in the background, and notice when the server is back.

SyncController owns the SyncWorker (sync/worker.py) and a small reachability probe:
while the last sync failed for want of a network, it tries a TCP connection to the
server every few seconds and, once one succeeds, tells the worker the network is back
so waiting leads go up at once instead of after a long backoff. Callbacks run on
background threads; the app hands them to its UI thread itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mobile.status import OFFLINE, ONLINE, REVOKED, UNKNOWN
from sync.client import RetryableError, SyncClient, SyncReport, Unpaired, UpgradeRequired
from sync.store import DeviceStore, StoreError
from sync.worker import SyncWorker


@dataclass(frozen=True)
class SyncStatus:
    """The outcome of the latest sync, as the app shows it."""

    connection: str  # mobile.status ONLINE, OFFLINE, UNKNOWN or REVOKED
    message: str = ""
    report: SyncReport | None = None
    wiped: bool = False  # the server revoked the tablet and the store deleted everything


def status_for(outcome: SyncReport | BaseException) -> SyncStatus:
    """Return how the app should show one SyncWorker result."""
    if isinstance(outcome, SyncReport):
        return SyncStatus(ONLINE, report=outcome)
    if isinstance(outcome, Unpaired) and outcome.wipe:
        return SyncStatus(
            REVOKED, "This tablet was revoked: its leads were deleted. Pair it again.", wiped=True
        )
    if isinstance(outcome, Unpaired):
        return SyncStatus(REVOKED, "The server no longer accepts this tablet. Pair it again.")
    if isinstance(outcome, UpgradeRequired):
        return SyncStatus(UNKNOWN, "The server needs a newer app. Update the app.")
    if isinstance(outcome, RetryableError):
        return SyncStatus(OFFLINE, str(outcome))
    # The server answered but refused something: the network itself is fine.
    return SyncStatus(ONLINE, str(outcome))


def reachable(server_url: str, timeout: float = 2.0) -> bool:
    """Tell whether a TCP connection to the server's host and port opens."""
    parts = urlsplit(server_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


class SyncController:
    """Run a SyncWorker for a store, plus a reconnect probe; report each outcome."""

    def __init__(
        self,
        store: DeviceStore,
        on_status: Callable[[SyncStatus], object],
        *,
        interval: float = 60.0,
        debounce: float = 2.0,
        probe_every: float = 3.0,
    ):
        self.store = store
        self._on_status = on_status
        self._worker = SyncWorker(
            lambda: SyncClient(store, timeout=10.0),
            interval=interval,
            debounce=debounce,
            on_result=self._on_result,
        )
        self.probe_every = probe_every
        self._offline = threading.Event()
        self._stop = threading.Event()
        self._probe = threading.Thread(
            target=self._probe_loop, name="leadbridge-probe", daemon=True
        )
        self.status = SyncStatus(UNKNOWN)

    def start(self) -> None:
        """Start syncing; the first sync runs right away."""
        self._worker.start()
        self._probe.start()

    def trigger(self) -> None:
        """Ask for a sync soon (after a save); saves close together share one sync."""
        self._worker.trigger()

    def sync_now(self) -> None:
        """Sync at once, forgetting any backoff (the user pressed 'Sync now')."""
        self._worker.notify_online()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker and the probe."""
        self._stop.set()
        self._offline.set()
        self._worker.stop(timeout)
        if self._probe.is_alive():
            self._probe.join(timeout)

    @property
    def running(self) -> bool:
        """Tell whether the worker still syncs (it stops for good once unpaired)."""
        return self._worker.running

    def _on_result(self, outcome: SyncReport | BaseException) -> None:
        status = status_for(outcome)
        self.status = status
        if status.connection == OFFLINE:
            self._offline.set()
        else:
            self._offline.clear()
        if status.connection == REVOKED:
            self._stop.set()
            self._offline.set()  # wake the probe so it ends
        self._on_status(status)

    def _probe_loop(self) -> None:
        while not self._stop.is_set():
            self._offline.wait()
            if self._stop.wait(self.probe_every):
                return
            if not self._offline.is_set():
                continue
            try:
                pairing = self.store.pairing()
            except StoreError:
                return  # the app closed the store: it is shutting down
            if pairing and reachable(pairing["server_url"]):
                self._offline.clear()
                self._worker.notify_online()
