"""Background sync as the app runs it: against the real server, through a relay we switch off."""

from __future__ import annotations

import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mobile import status
from mobile.syncing import SyncController, SyncStatus, reachable, status_for
from sync.client import ProtocolError, RetryableError, SyncReport, Unpaired, UpgradeRequired
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth
from tests.mobile.relay import Relay

DEADLINE = 20.0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_status_for_each_outcome() -> None:
    assert status_for(SyncReport(pushed=1)).connection == status.ONLINE
    assert status_for(RetryableError("no network")).connection == status.OFFLINE
    assert status_for(Unpaired("revoked")).connection == status.REVOKED
    assert status_for(UpgradeRequired("old")).connection == status.UNKNOWN
    # The server answered: the network is there even though the sync failed.
    refused = status_for(ProtocolError("409: hole", status=409))
    assert refused.connection == status.ONLINE and "409" in refused.message


def test_reachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert reachable(f"http://127.0.0.1:{server.getsockname()[1]}")
    assert not reachable(f"http://127.0.0.1:{closed_port()}", timeout=0.5)


@pytest.fixture
def relay(live_server: str) -> Iterator[Relay]:
    host, port = live_server.removeprefix("http://").split(":")
    with Relay(host, int(port)) as running:
        yield running


@pytest.fixture
def store(tmp_path: Path, booth: Booth, relay: Relay) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    store.set_pairing(
        relay.url, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
    )
    yield store
    store.close()


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def save(store: DeviceStore, booth: Booth, name: str) -> str:
    return store.save_lead(
        {"captured_by_id": booth.staff.id, "first_name": name, "answers": {"budget": True}}
    )


def server_ids(api: ApiHelper, booth: Booth) -> set[str]:
    response = api.client.get("/api/v1/leads?page_size=200", headers=booth.marketer.headers)
    return {lead["id"] for lead in response.json["items"]}


def test_saves_go_up_and_an_outage_heals_by_itself(
    store: DeviceStore, booth: Booth, api: ApiHelper, relay: Relay
) -> None:
    seen: queue.Queue[SyncStatus] = queue.Queue()
    controller = SyncController(store, seen.put, interval=60, debounce=0.1, probe_every=0.2)
    controller.start()
    try:
        wait_for(lambda: controller.status.connection == status.ONLINE, "the first sync")
        first = save(store, booth, "Ann")
        controller.trigger()
        wait_for(lambda: store.outbox_size() == 0, "the lead to upload")
        assert first in server_ids(api, booth)

        relay.stop()
        later = [save(store, booth, name) for name in ("Bo", "Cy", "Di")]
        controller.trigger()
        wait_for(lambda: controller.status.connection == status.OFFLINE, "offline")
        assert store.outbox_size() == 3
        # The backoff alone could wait minutes; the probe notices the network at once.
        relay.start()
        wait_for(lambda: store.outbox_size() == 0, "the offline leads to upload")
        assert set(later) <= server_ids(api, booth)
        wait_for(lambda: controller.status.connection == status.ONLINE, "online again")
    finally:
        controller.stop()
    assert not seen.empty()


def test_a_revoked_tablet_stops_syncing(store: DeviceStore, booth: Booth, api: ApiHelper) -> None:
    revoked = api.client.post(
        f"/api/v1/devices/{booth.tablet.id}/revoke", headers=booth.marketer.headers
    )
    assert revoked.status_code == 200, revoked.json
    controller = SyncController(store, lambda _status: None, debounce=0.1, probe_every=0.2)
    controller.start()
    try:
        wait_for(lambda: controller.status.connection == status.REVOKED, "revoked")
        wait_for(lambda: not controller.running, "the worker to stop")
        assert store.is_unpaired
    finally:
        controller.stop()
