"""SyncClient against the real server, served over HTTP by the live_server fixture."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from server.users.models import Role
from sync.client import (
    PairingRefused,
    ProtocolError,
    RetryableError,
    SyncClient,
    Unpaired,
    pair,
)
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth


def closed_port_url() -> str:
    """Return a loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def new_lead(booth: Booth, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "captured_by_id": booth.staff.id,
        "first_name": "Ann",
        "last_name": "Example",
        "email": f"ann.{uuid.uuid4().hex[:8]}@example.com",  # each capture a new person
        "phone": "030 1234567",
        "company": "Example GmbH",
        "answers": {"budget": True},
        "products": ["scanner"],
        "rating": "hot",
        "consent": {"given": True, "at": "2026-11-23T10:59:00+01:00"},
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    yield store
    store.close()


@pytest.fixture
def paired(store: DeviceStore, booth: Booth, live_server: str) -> DeviceStore:
    """Return the store paired as booth's tablet, with the event from the pairing answer."""
    store.set_pairing(
        live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
    )
    return store


@pytest.fixture
def sync_client(paired: DeviceStore) -> Iterator[SyncClient]:
    with SyncClient(paired, timeout=10.0) as client:
        yield client


def server_leads(api: ApiHelper, booth: Booth) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/leads?page_size=200", headers=booth.marketer.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_round_trip_uploads_saved_leads(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    ids = {paired.save_lead(new_lead(booth, first_name=name)) for name in ("Ann", "Bob", "Cy")}

    report = sync_client.sync_once()

    assert (report.pushed, report.rejected, report.conflicts) == (3, 0, 0)
    assert report.pulled >= 4  # the three leads and the event
    on_server = {lead["id"]: lead for lead in server_leads(api, booth)}
    assert set(on_server) == ids
    assert all(lead["phone"] == "+49301234567" for lead in on_server.values())
    counts = paired.counts()
    assert (counts["pending"], counts["outbox"], counts["total"]) == (0, 0, 3)
    for lead_id in ids:
        lead = paired.get_lead(lead_id)
        assert lead is not None
        # The server routed each lead to the booth's rep on arrival; the pull says so.
        assert paired.lead_state(lead) == "routed" and lead["owner_id"] == booth.rep.id
        assert lead["server_version"] == on_server[lead_id]["server_version"]
    info = paired.sync_info()
    assert info["last_sync_at"] is not None and info["last_error"] is None
    assert info["booth"] == {"total": 3, "today": 3}  # the whole booth, as the server counts


def test_status_reports_the_last_handled_mutation(
    sync_client: SyncClient, paired: DeviceStore, booth: Booth
) -> None:
    paired.save_lead(new_lead(booth))
    sync_client.push()

    status = sync_client.status()

    assert status["device_id"] == booth.tablet.id
    assert status["last_mutation_id"] == 1


def test_sync_learns_the_name_the_server_lists_the_tablet_by(
    sync_client: SyncClient, paired: DeviceStore
) -> None:
    # Paired before tablets kept their name: the first sync brings it.
    assert paired.sync_info()["device_name"] is None

    sync_client.sync_once()

    assert paired.sync_info()["device_name"] == "Tablet"  # as tests/helpers.py pairs it


def test_pull_brings_the_event_and_the_marketers_routing(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    lead_id = paired.save_lead(new_lead(booth))
    sync_client.sync_once()
    routed = api.client.patch(
        f"/api/v1/leads/{lead_id}", json={"owner_id": booth.rep.id}, headers=booth.marketer.headers
    )
    assert routed.status_code == 200, routed.json
    renamed = api.client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"name": "Renamed Expo"},
        headers=booth.marketer.headers,
    )
    assert renamed.status_code == 200, renamed.json

    report = sync_client.sync_once()

    assert report.pulled == 2
    lead = paired.get_lead(lead_id)
    assert lead is not None
    assert paired.lead_state(lead) == "routed"
    assert (lead["status"], lead["owner_id"]) == ("assigned", booth.rep.id)
    assert lead["owner_name"]
    event = paired.event_config()
    assert event is not None
    assert event["name"] == "Renamed Expo"
    assert {member["id"] for member in paired.members()} == {booth.staff.id, booth.rep.id}
    assert [question["id"] for question in event["questions"]][:1] == ["budget"]


def test_a_revoked_tablet_wipes_everything(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    uploaded = paired.save_lead(new_lead(booth))
    sync_client.sync_once()
    revoked = api.client.post(
        f"/api/v1/devices/{booth.tablet.id}/revoke", headers=booth.marketer.headers
    )
    assert revoked.status_code == 200, revoked.json
    paired.save_lead(new_lead(booth, email="bea@example.com"))
    paired.save_draft({"first_name": "Half"})
    key_path = paired.path.with_name(paired.path.name + ".key")
    old_key = key_path.read_bytes()

    with pytest.raises(Unpaired) as raised:
        sync_client.sync_once()

    assert raised.value.wipe
    assert paired.is_unpaired
    assert paired.pairing() is None
    assert paired.counts() == {"total": 0, "today": 0, "pending": 0, "rejected": 0, "outbox": 0}
    assert paired.get_lead(uploaded) is None
    assert paired.load_draft() is None
    assert paired.event_config() is None
    # The old key is gone: a copy of the file taken before the wipe stays sealed.
    assert key_path.read_bytes() != old_key
    raw = paired.path.read_bytes() + paired.path.with_name(paired.path.name + "-wal").read_bytes()
    assert b"example.com" not in raw.lower() and b"Ann" not in raw


def test_a_token_the_server_never_issued_is_unpaired_without_a_wipe(
    store: DeviceStore, booth: Booth, live_server: str
) -> None:
    store.set_pairing(live_server, booth.tablet.id, booth.event["id"], "lbd_unknown", booth.event)
    store.save_lead(new_lead(booth))

    with SyncClient(store) as client, pytest.raises(Unpaired) as raised:
        client.sync_once()

    assert not raised.value.wipe
    assert store.is_unpaired
    assert store.counts()["outbox"] == 1  # a typo'd token is no reason to delete leads


def test_an_unreachable_server_is_retryable(store: DeviceStore, booth: Booth) -> None:
    store.set_pairing(closed_port_url(), booth.tablet.id, booth.event["id"], "lbd_x", booth.event)
    store.save_lead(new_lead(booth))

    with SyncClient(store, timeout=5.0) as client, pytest.raises(RetryableError) as raised:
        client.sync_once()

    assert raised.value.retry_after is None
    assert store.counts()["outbox"] == 1
    assert "reach" in store.sync_info()["last_error"]["message"]


def test_an_unpaired_store_does_not_call_anyone(store: DeviceStore) -> None:
    with SyncClient(store) as client, pytest.raises(Unpaired):
        client.sync_once()


def test_a_lost_push_answer_is_replayed_not_duplicated(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth, live_server: str
) -> None:
    for name in ("Ann", "Bob"):
        paired.save_lead(new_lead(booth, first_name=name))
    # The server handles the batch, but the tablet never hears the answer.
    lost = requests.post(
        f"{live_server}/api/v1/sync/push",
        json={"mutations": paired.pending_mutations()},
        headers={**booth.tablet.headers, "Leadbridge-Protocol": "1"},
        timeout=10,
    )
    assert lost.status_code == 200, lost.text
    lost.close()

    report = sync_client.push()

    assert (report.pushed, report.rejected) == (2, 0)
    assert paired.counts()["outbox"] == 0
    assert len(server_leads(api, booth)) == 2


def test_a_rejected_lead_can_be_corrected(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    lead_id = paired.save_lead(new_lead(booth, products=["nope"]))

    report = sync_client.sync_once()

    assert (report.pushed, report.rejected) == (0, 1)
    rejected = paired.get_lead(lead_id)
    assert rejected is not None
    assert paired.lead_state(rejected) == "rejected"
    assert "products" in rejected["rejected_errors"]

    paired.update_lead(lead_id, {"products": ["scanner"]})
    report = sync_client.sync_once()

    assert (report.pushed, report.rejected) == (1, 0)
    assert paired.lead_state(paired.get_lead(lead_id)) == "routed"  # type: ignore[arg-type]
    assert [lead["id"] for lead in server_leads(api, booth)] == [lead_id]


def test_a_lead_refused_for_a_cause_fixed_on_the_server_is_sent_again(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    newcomer = api.person(Role.STAFF)  # at the booth, but not on the event's team yet
    lead_id = paired.save_lead(new_lead(booth, captured_by_id=newcomer.id))
    assert sync_client.sync_once().rejected == 1
    api.add_member(booth.marketer, booth.event["id"], newcomer.id)

    paired.resend_lead(lead_id)
    report = sync_client.sync_once()

    assert (report.pushed, report.rejected) == (1, 0)
    [on_server] = server_leads(api, booth)
    assert (on_server["id"], on_server["captured_by_id"]) == (lead_id, newcomer.id)

    # A refused update goes again too, against the version the tablet holds: the
    # visitor asked about a product the manager adds to the event only afterwards.
    paired.update_lead(lead_id, {"products": ["scanner", "badges"]})
    assert sync_client.sync_once().rejected == 1
    products = [*booth.event["products"], {"id": "badges", "name": "Badge printer"}]
    added = api.client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"products": products},
        headers=booth.marketer.headers,
    )
    assert added.status_code == 200, added.json

    paired.resend_lead(lead_id)
    report = sync_client.sync_once()

    assert (report.pushed, report.rejected, report.conflicts) == (1, 0, 0)
    [on_server] = server_leads(api, booth)
    assert on_server["products"] == ["scanner", "badges"]
    paired.resend_lead(lead_id)  # not refused: nothing to send
    assert paired.outbox_size() == 0


def test_a_concurrent_edit_on_the_server_wins_and_is_logged(
    sync_client: SyncClient, paired: DeviceStore, api: ApiHelper, booth: Booth
) -> None:
    lead_id = paired.save_lead(new_lead(booth))
    sync_client.push()
    edited = api.client.patch(
        f"/api/v1/leads/{lead_id}", json={"company": "Server AG"}, headers=booth.marketer.headers
    )
    assert edited.status_code == 200, edited.json
    paired.update_lead(lead_id, {"company": "Tablet AG", "notes": "Met at the booth"})

    report = sync_client.push()

    assert report.conflicts == 1
    lead = paired.get_lead(lead_id)
    assert lead is not None
    assert (lead["company"], lead["notes"]) == ("Server AG", "Met at the booth")
    [conflict] = paired.conflicts()
    assert (conflict["field"], conflict["device_value"], conflict["server_value"]) == (
        "company",
        "Tablet AG",
        "Server AG",
    )
    [on_server] = server_leads(api, booth)
    assert (on_server["company"], on_server["notes"]) == ("Server AG", "Met at the booth")


def test_a_cursor_the_server_does_not_know_downloads_again(
    sync_client: SyncClient, paired: DeviceStore, booth: Booth
) -> None:
    lead_id = paired.save_lead(new_lead(booth))
    sync_client.sync_once()
    paired.apply_pull_page([], 10**9)  # as if the server had been restored from a backup
    paired.update_lead(lead_id, {"notes": "Unsent"})

    pulled = sync_client.pull()

    assert pulled == 2  # the event and the lead
    assert 0 < paired.cursor() < 10**9
    assert paired.counts()["outbox"] == 1
    assert paired.get_lead(lead_id)["notes"] == "Unsent"  # type: ignore[index]


def test_a_hole_in_mutation_ids_is_a_protocol_error(
    sync_client: SyncClient, paired: DeviceStore, booth: Booth
) -> None:
    for _ in range(3):
        paired.save_lead(new_lead(booth))
    first_two = paired.pending_mutations(limit=2)
    # Forget the first two locally, as if their answers had come from another server.
    paired.apply_push_results(
        [{**m, "outcome": "applied", "server_version": 1, "conflicts": []} for m in first_two]
    )

    with pytest.raises(ProtocolError) as raised:
        sync_client.push()

    assert raised.value.status == 409
    assert raised.value.expected_mutation_id == 1


def test_pair_stores_the_token_and_pulls_the_team(
    store: DeviceStore, api: ApiHelper, booth: Booth, live_server: str
) -> None:
    code = api.client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"]},
        headers=booth.marketer.headers,
    )
    assert code.status_code == 201, code.json

    pairing = pair(store, live_server + "/", code.json["code"], "Booth tablet 2")

    assert store.sync_info()["device_name"] == "Booth tablet 2"
    assert pairing["server_url"] == live_server
    assert pairing["event_id"] == booth.event["id"]
    assert pairing["token"].startswith("lbd_")
    assert {member["id"] for member in store.members()} == {booth.staff.id, booth.rep.id}
    assert store.cursor() > 0
    with pytest.raises(PairingRefused) as raised:
        pair(store, live_server, code.json["code"], "Booth tablet 3")
    assert raised.value.status == 401
