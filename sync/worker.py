"""Run sync in a background thread: soon after each save, periodically, and after failures.

The worker is the watchdog of the outbox: while it holds unsent mutations, a sync is
always scheduled, either right away or after a backoff delay. Every wait is on a
threading.Event, so stop() and notify_online() take effect at once and tests can use
intervals of a few milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sync.backoff import Backoff
from sync.client import SyncClient, SyncReport, Unpaired, UpgradeRequired
from sync.store import StoreError

log = logging.getLogger(__name__)

ResultCallback = Callable[[SyncReport | BaseException], Any]


class SyncWorker:
    """A daemon thread that keeps the store in sync through a SyncClient.

    client is a SyncClient, or a callable that returns one; a factory is called in the
    worker thread, and the client it made is closed when the worker ends.
    on_result receives each SyncReport or exception, in the worker thread (a UI must
    hop to its own thread itself, e.g. with Kivy's Clock).
    """

    def __init__(
        self,
        client: SyncClient | Callable[[], SyncClient],
        *,
        interval: float = 60.0,
        debounce: float = 2.0,
        backoff: Backoff | None = None,
        on_result: ResultCallback | None = None,
    ):
        self._client_or_factory = client
        self.interval = interval
        self.debounce = debounce
        self.backoff = backoff or Backoff()
        self._on_result = on_result
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._triggered_at: float | None = None
        self._online = False
        self._thread: threading.Thread | None = None
        self.stopped_reason: BaseException | None = None

    # -- called from other threads --------------------------------------------------------

    def start(self) -> None:
        """Start the thread; it syncs once right away."""
        if self._thread is not None:
            raise RuntimeError("The worker was started already.")
        self._thread = threading.Thread(target=self._run, name="leadbridge-sync", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Ask for a sync soon; calls within the debounce delay are merged into one."""
        with self._lock:
            self._triggered_at = time.monotonic()
        self._wake.set()

    def notify_online(self) -> None:
        """Say the network is back: forget the backoff and sync now."""
        with self._lock:
            self._online = True
        self._wake.set()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Stop the thread; return whether it ended within timeout."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """Tell whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- the worker thread ----------------------------------------------------------------

    def _report(self, outcome: SyncReport | BaseException) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(outcome)
        except Exception as error:
            # A broken callback must not end syncing: leads would stay on the tablet. Only the
            # kind is logged: messages may quote lead data.
            log.error("sync on_result callback failed: %s", type(error).__name__)

    def _client(self) -> tuple[SyncClient, bool]:
        candidate = self._client_or_factory
        if isinstance(candidate, SyncClient):
            return candidate, False
        return candidate(), True

    def _run(self) -> None:
        try:
            client, owned = self._client()
        except Exception as error:  # a factory that fails leaves nothing to run
            self.stopped_reason = error
            self._report(error)
            return
        try:
            self._loop(client)
        finally:
            if owned:
                client.close()

    def _loop(self, client: SyncClient) -> None:
        now = time.monotonic()
        next_periodic = now  # sync at start: the outbox may hold a previous session's work
        gate = now  # no sync before this time (the backoff)
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                triggered_at, online = self._triggered_at, self._online
                self._online = False
            now = time.monotonic()
            if online:
                self.backoff.reset()
                gate = next_periodic = now
            due = next_periodic
            if triggered_at is not None:
                due = min(due, triggered_at + self.debounce)
            due = max(due, gate)
            if now < due:
                self._wake.wait(due - now)
                continue
            with self._lock:
                # Saves made from here on need a sync of their own.
                if self._triggered_at is not None and self._triggered_at <= now:
                    self._triggered_at = None
            try:
                outcome: SyncReport | BaseException = client.sync_once()
            except (Unpaired, UpgradeRequired, StoreError) as error:
                # Retrying cannot help: the user must pair again or update the app, or
                # the app closed the store.
                self.stopped_reason = error
                self._report(error)
                return
            except Exception as error:
                outcome = error
            now = time.monotonic()
            try:
                # Photos count: the watchdog sends them after a cut connection too.
                unsent = client.store.outbox_size() + client.store.photos_waiting()
            except StoreError as error:
                self.stopped_reason = error
                self._report(error)
                return
            if isinstance(outcome, SyncReport):
                self.backoff.reset()
                gate = now
                next_periodic = now + self.interval
                if unsent:
                    # Saved while we were syncing: go again after the debounce.
                    next_periodic = now + self.debounce
            else:
                delay = self.backoff.next_delay(retry_after=getattr(outcome, "retry_after", None))
                gate = now + delay
                # The watchdog: unsent leads are retried as soon as the backoff allows.
                next_periodic = gate if unsent else now + self.interval
            self._report(outcome)
