"""Reliability of tablet and server together: lost responses, killed processes, a lossy network.

Numbers in test names are those of the reliability requirements they check. Tablets run the
real sync/ code against the real server on loopback, through a proxy that loses
requests and responses on purpose.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db
from server.leads.models import Lead
from sync.client import RetryableError, SyncClient
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth, Tablet
from tests.netfaults import FaultyProxy

REPO = Path(__file__).resolve().parent.parent


def _visitor(index: int, staff_id: int) -> dict[str, Any]:
    return {
        "captured_by_id": staff_id,
        "first_name": f"Visitor{index}",
        "last_name": "Example",
        "email": f"visitor{index}@example.com",
        "company": f"Company {index % 7}",
        "answers": {"budget": index % 2 == 0},
        "rating": ["hot", "warm", "cold"][index % 3],
        "consent": {"given": True, "version": 1},
    }


def _tablet_store(path: Path, server_url: str, tablet: Tablet) -> DeviceStore:
    store = DeviceStore(path)
    store.set_pairing(server_url, tablet.id, tablet.event_id, tablet.token, None)
    with SyncClient(store) as client:
        client.pull()  # the event's configuration, so saves can be checked locally
    return store


def _server_leads(app: Flask, device_id: int) -> dict[str, dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Lead).where(Lead.device_id == device_id)).all()
        return {str(lead.id): {"notes": lead.notes, "company": lead.company} for lead in rows}


def _sync_until_done(client: SyncClient, attempts: int = 60) -> None:
    for _ in range(attempts):
        try:
            client.sync_once()
            if client.store.outbox_size() == 0:
                return
        except RetryableError:
            continue
    raise AssertionError("sync did not finish")


def test_2_a_response_lost_after_commit_is_retried_without_duplicates(
    app: Flask, booth: Booth, live_server: str, tmp_path: Path
):
    with FaultyProxy(live_server) as proxy:
        store = _tablet_store(tmp_path / "tablet.sqlite3", proxy.url, booth.tablet)
        saved = {store.save_lead(_visitor(i, booth.staff.id)) for i in range(150)}
        proxy.drop_response = 1.0
        with SyncClient(store) as client:
            with pytest.raises(RetryableError):
                client.push()
            assert proxy.dropped_responses == 1
            # The server committed the first batch although the tablet never heard so.
            assert len(_server_leads(app, booth.tablet.id)) == 100
            assert store.outbox_size() == 150
            proxy.heal()
            _sync_until_done(client)
    assert set(_server_leads(app, booth.tablet.id)) == saved
    assert {lead["id"] for lead in store.search_leads(limit=1000)} == saved
    assert store.counts()["pending"] == 0
    store.close()


SAVER = textwrap.dedent(
    """
    import sys
    from sync.store import DeviceStore
    store = DeviceStore(sys.argv[1])
    staff_id, start, stop = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    for index in range(start, stop):
        lead_id = store.save_lead({
            "captured_by_id": staff_id, "first_name": f"V{index}",
            "email": f"v{index}@example.com", "answers": {"budget": True},
        })
        print(index, lead_id, flush=True)  # printed only after save() returned
    """
)


def test_4_sigkill_during_saves_loses_nothing_acknowledged(
    booth: Booth, live_server: str, tmp_path: Path
):
    path = tmp_path / "tablet.sqlite3"
    _tablet_store(path, live_server, booth.tablet).close()
    acknowledged: dict[int, str] = {}
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kills = 0
    while len(acknowledged) < 200 and kills < 40:
        start = max(acknowledged, default=-1) + 1
        process = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path), str(booth.staff.id), str(start), "200"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdout is not None
        # Let a random number of saves complete, then kill at a random moment of the next.
        for _ in range(rng.randint(5, 45)):
            line = process.stdout.readline()
            if not line.endswith("\n"):
                break
            index, lead_id = line.split()
            acknowledged[int(index)] = lead_id
        time.sleep(rng.uniform(0, 0.002))
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate()
        kills += process.returncode == -signal.SIGKILL
        for line in rest.splitlines(keepends=True):
            # A line the kill cut short was never fully acknowledged; the save it reports
            # counts with the unacknowledged ones below.
            if line.endswith("\n"):
                index, lead_id = line.split()
                acknowledged[int(index)] = lead_id
    assert len(acknowledged) == 200 and kills >= 2
    store = DeviceStore(path)
    with store._reading() as conn:  # the invariant is about raw rows, so read them raw
        leads = {row[0] for row in conn.execute("SELECT id FROM leads")}
        outbox = [row[0] for row in conn.execute("SELECT lead_id FROM outbox")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    store.close()
    assert integrity == "ok"
    assert sorted(outbox) == sorted(leads)  # every lead has its create, every create its lead
    assert set(acknowledged.values()) <= leads
    # At most the one save in flight at a kill may have landed without being acknowledged.
    assert len(leads - set(acknowledged.values())) <= kills


PULLER = textwrap.dedent(
    """
    import sys
    import sync.client
    from sync.client import SyncClient
    from sync.store import DeviceStore
    sync.client.PULL_LIMIT = 5  # small pages: many chances to die between them
    store = DeviceStore(sys.argv[1])
    print("cursor", store.cursor(), flush=True)
    apply_page = store.apply_pull_page

    def apply_and_report(changes, next_cursor):
        apply_page(changes, next_cursor)
        print("cursor", store.cursor(), flush=True)

    store.apply_pull_page = apply_and_report
    with SyncClient(store) as client:
        client.pull()
    print("done", store.cursor(), flush=True)
    """
)


def test_5_killed_mid_pull_the_cursor_never_goes_back(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
):
    source = _tablet_store(tmp_path / "source.sqlite3", live_server, booth.tablet)
    for index in range(300):
        source.save_lead(_visitor(index, booth.staff.id))
    with SyncClient(source) as client:
        client.push()
    source.close()
    path = tmp_path / "reinstalled.sqlite3"
    fresh = DeviceStore(path)
    fresh.set_pairing(live_server, booth.tablet.id, booth.tablet.event_id, booth.tablet.token)
    fresh.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(5)
    cursors: list[int] = []
    for _attempt in range(30):
        process = subprocess.Popen(
            [sys.executable, "-c", PULLER, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(rng.randint(2, 12))]
        time.sleep(rng.uniform(0, 0.003))
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate()
        output = "".join(lines) + rest
        cursors += [int(line.split()[1]) for line in output.splitlines()]
        if "done" in output:
            break
    assert cursors == sorted(cursors), cursors
    assert len(set(cursors)) > 10  # the pull really was cut off many times on its way
    store = DeviceStore(path)
    with SyncClient(store) as client:
        client.pull()
    tablet = {lead["id"]: lead["company"] for lead in store.search_leads(limit=1000)}
    server = {
        lead_id: data["company"] for lead_id, data in _server_leads(app, booth.tablet.id).items()
    }
    assert tablet == server and len(server) == 300
    assert store.cursor() >= max(cursors)
    store.close()


ACTIONS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which tablet
        st.sampled_from(["capture", "capture", "edit", "sync"]),
        st.integers(min_value=0, max_value=10_000),  # picks the lead and the new text
    ),
    min_size=5,
    max_size=40,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS, seed=st.integers(min_value=0, max_value=2**31))
def test_8_three_tablets_on_a_lossy_network_end_up_agreeing_with_the_server(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str, tmp_path_factory, actions, seed
):
    workdir = tmp_path_factory.mktemp("tablets")
    tablets = [api.tablet(booth.marketer, booth.event["id"], name=f"T{i}") for i in range(3)]
    with FaultyProxy(live_server, seed=seed) as proxy:
        stores = [
            _tablet_store(workdir / f"t{i}.sqlite3", proxy.url, tablet)
            for i, tablet in enumerate(tablets)
        ]
        proxy.drop_request = proxy.drop_response = 0.3
        clients = [SyncClient(store, timeout=10) for store in stores]
        captured: list[list[str]] = [[], [], []]
        for which, action, number in actions:
            store = stores[which]
            if action == "capture":
                captured[which].append(store.save_lead(_visitor(number, booth.staff.id)))
            elif action == "edit" and captured[which]:
                lead_id = captured[which][number % len(captured[which])]
                store.update_lead(lead_id, {"notes": f"note {number}", "company": f"Co {number}"})
            elif action == "sync":
                try:
                    clients[which].sync_once()
                except RetryableError:
                    pass
        proxy.heal()
        for client in clients:
            _sync_until_done(client)
            client.pull()
        for index, (store, tablet) in enumerate(zip(stores, tablets, strict=True)):
            local = {
                lead["id"]: {"notes": lead["notes"], "company": lead["company"]}
                for lead in store.search_leads(limit=10_000)
            }
            assert set(local) == set(captured[index])  # nothing lost, nothing doubled
            assert _server_leads(app, tablet.id) == local
            assert store.counts()["rejected"] == 0
        for client in clients:
            client.close()
        for store in stores:
            store.close()
