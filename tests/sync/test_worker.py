"""SyncWorker with the real server: debounced triggers, the outbox watchdog and stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.backoff import Backoff
from sync.client import RetryableError, SyncClient, SyncReport, Unpaired
from sync.store import DeviceStore, StoreError
from sync.worker import SyncWorker
from tests.helpers import ApiHelper, Booth
from tests.sync.test_client import closed_port_url, new_lead

DEADLINE = 10.0


def wait_until(condition: Callable[[], bool], deadline: float = DEADLINE) -> bool:
    """Poll condition every 20 ms until it holds or deadline seconds pass."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Results:
    """Collect what the worker reports, from its thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[SyncReport | BaseException] = []
        self.threads: set[str] = set()

    def __call__(self, outcome: SyncReport | BaseException) -> None:
        with self._lock:
            self.items.append(outcome)
            self.threads.add(threading.current_thread().name)

    def count(self, kind: type) -> int:
        with self._lock:
            return sum(isinstance(item, kind) for item in self.items)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    yield store
    store.close()


@pytest.fixture
def workers() -> Iterator[list[SyncWorker]]:
    """Collect workers a test starts, and stop them all afterwards."""
    started: list[SyncWorker] = []
    yield started
    for worker in started:
        assert worker.stop(timeout=DEADLINE)


def start(workers: list[SyncWorker], store: DeviceStore, **options: Any) -> SyncWorker:
    worker = SyncWorker(lambda: SyncClient(store, timeout=5.0), **options)
    workers.append(worker)
    worker.start()
    return worker


def pair_with(store: DeviceStore, url: str, booth: Booth) -> None:
    store.set_pairing(url, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event)


def test_saves_are_uploaded_soon_after_a_trigger(
    store: DeviceStore, booth: Booth, live_server: str, api: ApiHelper, workers: list[SyncWorker]
) -> None:
    pair_with(store, live_server, booth)
    results = Results()
    worker = start(workers, store, interval=3600.0, debounce=0.05, on_result=results)
    assert wait_until(lambda: results.count(SyncReport) >= 1)  # the sync at start

    for name in ("Ann", "Bob", "Cy"):
        store.save_lead(new_lead(booth, first_name=name))
        worker.trigger()

    assert wait_until(lambda: store.counts()["outbox"] == 0 and store.counts()["pending"] == 0)
    listed = api.client.get("/api/v1/leads", headers=booth.marketer.headers)
    assert listed.json["total"] == 3
    assert results.threads == {"leadbridge-sync"}


def test_a_non_empty_outbox_is_retried_until_the_network_is_back(
    store: DeviceStore, booth: Booth, live_server: str, workers: list[SyncWorker]
) -> None:
    pair_with(store, closed_port_url(), booth)
    store.save_lead(new_lead(booth))
    results = Results()
    worker = start(
        workers,
        store,
        interval=3600.0,
        debounce=0.05,
        backoff=Backoff(base=0.01, cap=0.05),
        on_result=results,
    )

    # No trigger and an hour-long interval: only the watchdog brings these retries.
    assert wait_until(lambda: results.count(RetryableError) >= 3)
    assert store.counts()["outbox"] == 1

    pair_with(store, live_server, booth)
    worker.notify_online()

    assert wait_until(lambda: store.counts()["outbox"] == 0)
    assert wait_until(lambda: results.count(SyncReport) >= 1)


def test_an_empty_outbox_waits_for_the_interval_after_a_failure(
    store: DeviceStore, booth: Booth, workers: list[SyncWorker]
) -> None:
    pair_with(store, closed_port_url(), booth)
    results = Results()
    start(workers, store, interval=3600.0, backoff=Backoff(base=0.01, cap=0.01), on_result=results)

    assert wait_until(lambda: results.count(RetryableError) == 1)
    time.sleep(0.2)  # many backoff delays: nothing to upload, so no retry

    assert results.count(RetryableError) == 1


def test_a_revoked_tablet_stops_the_worker_and_is_wiped(
    store: DeviceStore, booth: Booth, live_server: str, api: ApiHelper, workers: list[SyncWorker]
) -> None:
    revoked = api.client.post(
        f"/api/v1/devices/{booth.tablet.id}/revoke", headers=booth.marketer.headers
    )
    assert revoked.status_code == 200
    pair_with(store, live_server, booth)
    store.save_lead(new_lead(booth))
    results = Results()
    worker = start(workers, store, interval=0.01, debounce=0.01, on_result=results)

    assert wait_until(lambda: not worker.running)
    assert isinstance(worker.stopped_reason, Unpaired)
    assert results.count(Unpaired) == 1
    assert store.is_unpaired
    assert worker.stopped_reason.wipe
    assert store.counts()["outbox"] == 0 and store.counts()["total"] == 0  # revoked: wiped


def test_a_failing_callback_does_not_stop_syncing(
    store: DeviceStore, booth: Booth, live_server: str, workers: list[SyncWorker]
) -> None:
    pair_with(store, live_server, booth)
    calls: list[object] = []

    def broken(outcome: object) -> None:
        calls.append(outcome)
        raise RuntimeError("UI bug")

    worker = start(workers, store, interval=3600.0, debounce=0.01, on_result=broken)
    assert wait_until(lambda: len(calls) >= 1)
    store.save_lead(new_lead(booth))
    worker.trigger()

    assert wait_until(lambda: store.counts()["outbox"] == 0)
    assert worker.running


def test_stop_interrupts_a_long_wait(store: DeviceStore) -> None:
    worker = SyncWorker(SyncClient(store), interval=3600.0)  # unpaired: stops at once
    worker.start()
    assert wait_until(lambda: not worker.running)
    assert isinstance(worker.stopped_reason, Unpaired)

    waiting = SyncWorker(lambda: SyncClient(store), interval=3600.0)
    store.set_pairing(closed_port_url(), 1, 1, "lbd_x")
    waiting.start()
    began = time.monotonic()
    assert waiting.stop(timeout=DEADLINE)
    assert time.monotonic() - began < DEADLINE / 2
    assert not waiting.running


def test_a_worker_starts_once(store: DeviceStore, workers: list[SyncWorker]) -> None:
    worker = start(workers, store, interval=3600.0)
    with pytest.raises(RuntimeError):
        worker.start()


def test_closing_the_store_ends_the_worker(
    store: DeviceStore, booth: Booth, live_server: str, workers: list[SyncWorker]
) -> None:
    pair_with(store, live_server, booth)
    results = Results()
    worker = start(workers, store, interval=3600.0, debounce=0.01, on_result=results)
    assert wait_until(lambda: results.count(SyncReport) == 1)

    store.close()
    worker.trigger()

    assert wait_until(lambda: not worker.running)
    assert isinstance(worker.stopped_reason, StoreError)
