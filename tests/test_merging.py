"""The same person captured twice at one event: the later capture merges into the first.

Two real tablets push through the sync endpoint; the second tablet's store learns the
merge from a real pull over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.models import AlertJob
from server.extensions import db
from server.leads.models import Lead
from sync.client import SyncClient
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth, Tablet, create_mutation


def _push(client: FlaskClient, tablet: Tablet, *mutations: dict[str, Any]) -> list[dict]:
    response = client.post(
        "/api/v1/sync/push", json={"mutations": list(mutations)}, headers=tablet.headers
    )
    assert response.status_code == 200, response.json
    return response.json["results"]


def _lead(client: FlaskClient, booth: Booth, lead_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers)
    assert response.status_code == 200, response.json
    return response.json


def _alerted_leads(app: Flask) -> list[str]:
    with app.app_context():
        return [str(x) for x in db.session.scalars(sa.select(AlertJob.lead_id).distinct())]


def _second_tablet(api: ApiHelper, booth: Booth) -> tuple[Tablet, Any]:
    other_staff = api.person("staff")
    api.add_member(booth.marketer, booth.event["id"], other_staff.id)
    return api.tablet(booth.marketer, booth.event["id"], "Tablet 2"), other_staff


def test_a_second_capture_by_another_tablet_merges_into_the_first(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    second, other_staff = _second_tablet(api, booth)
    first = create_mutation(
        1,
        booth.staff.id,
        email="ann.example@example.com",
        rating="warm",
        answers={"budget": True},
        notes="Met at 10",
        products=[],
    )
    (result,) = _push(client, booth.tablet, first)
    assert "merged_into_id" not in result
    again = create_mutation(
        1,
        other_staff.id,
        email="  ANN.example@example.com ",  # the same address, typed differently
        rating="hot",
        answers={"budget": False, "timeframe": "Now"},
        products=["scanner"],
        notes="Came back with her boss",
    )
    (merged,) = _push(client, second, again)
    assert merged["outcome"] == "applied" and merged["merged_into_id"] == first["lead_id"]

    primary = _lead(client, booth, first["lead_id"])
    assert primary["rating"] == "hot"  # the higher rating wins
    assert primary["answers"] == {"budget": True, "timeframe": "Now"}  # first answers kept
    assert primary["products"] == ["scanner"]
    assert primary["merged_into_id"] is None
    duplicate = _lead(client, booth, again["lead_id"])
    assert duplicate["merged_into_id"] == first["lead_id"]
    assert duplicate["notes"] == "Came back with her boss"
    assert duplicate["captured_by_id"] == other_staff.id and duplicate["owner_id"] is None

    timeline = client.get(
        f"/api/v1/leads/{first['lead_id']}/timeline", headers=booth.marketer.headers
    ).json
    (entry,) = [e for e in timeline if e["kind"] == "merged"]
    assert entry["detail"]["duplicate_id"] == again["lead_id"]
    assert entry["detail"]["captured_by_id"] == other_staff.id
    assert entry["detail"]["notes"] == "Came back with her boss"
    assert entry["detail"]["answers"] == {"budget": False, "timeframe": "Now"}
    # One alert for the person, about the first lead: the rep is not told twice.
    assert _alerted_leads(app) == [first["lead_id"]]
    # The list shows the person once.
    listed = client.get(
        f"/api/v1/leads?event_id={booth.event['id']}", headers=booth.marketer.headers
    ).json
    assert [item["id"] for item in listed["items"]] == [first["lead_id"]]


def test_phone_matches_when_there_is_no_email_and_other_people_do_not_merge(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    first = create_mutation(1, booth.staff.id, email=None, phone="+49 30 1234567")
    same_phone = create_mutation(2, booth.staff.id, email=None, phone="030 1234567")
    someone_else = create_mutation(3, booth.staff.id, email="bob@example.com", phone=None)
    results = _push(client, booth.tablet, first, same_phone, someone_else)
    assert results[0].get("merged_into_id") is None
    assert results[1]["merged_into_id"] == first["lead_id"]  # same batch, same phone
    assert results[2].get("merged_into_id") is None


def test_another_event_is_another_person_record(api: ApiHelper, booth: Booth, client: FlaskClient):
    other_event = api.event(booth.marketer, name="Other Expo")
    api.add_member(booth.marketer, other_event["id"], booth.staff.id)
    other_tablet = api.tablet(booth.marketer, other_event["id"])
    _push(client, booth.tablet, create_mutation(1, booth.staff.id, email="ann@example.com"))
    (result,) = _push(
        client, other_tablet, create_mutation(1, booth.staff.id, email="ann@example.com")
    )
    assert "merged_into_id" not in result


def test_a_replayed_push_does_not_merge_twice(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    first = create_mutation(1, booth.staff.id, email="ann@example.com", rating="cold")
    again = create_mutation(2, booth.staff.id, email="ann@example.com", rating="warm")
    _push(client, booth.tablet, first, again)
    (replayed,) = _push(client, booth.tablet, again)
    assert replayed["replayed"] is True
    timeline = client.get(
        f"/api/v1/leads/{first['lead_id']}/timeline", headers=booth.marketer.headers
    ).json
    assert len([e for e in timeline if e["kind"] == "merged"]) == 1
    assert _lead(client, booth, first["lead_id"])["rating"] == "warm"


def test_the_second_tablet_learns_the_merge_on_its_next_pull(
    api: ApiHelper, booth: Booth, client: FlaskClient, live_server: str, tmp_path: Path
):
    second, other_staff = _second_tablet(api, booth)
    first = create_mutation(1, booth.staff.id, email="ann.example@example.com")
    _push(client, booth.tablet, first)
    with DeviceStore(tmp_path / "tablet2.sqlite3") as store:
        store.set_pairing(live_server, second.id, booth.event["id"], second.token, booth.event)
        fields = {
            "captured_by_id": other_staff.id,
            "first_name": "Ann",
            "email": "ann.example@example.com",
            "answers": {"budget": True},
            "products": [],
            "rating": "hot",
            "consent": {"given": False},
        }
        lead_id = store.save_lead(fields)
        with SyncClient(store, timeout=10.0) as sync_client:
            sync_client.sync_once()
        lead = store.get_lead(lead_id)
        assert lead is not None and lead["merged_into_id"] == first["lead_id"]
        assert lead["notes"] is None and lead["first_name"] == "Ann"  # its own capture kept


def test_a_repeat_after_an_edit_in_the_same_batch_still_merges(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    first = create_mutation(1, booth.staff.id, email="ann@example.com")
    edit = {"mutation_id": 2, "kind": "update", "lead_id": first["lead_id"]}
    edit["fields"] = {"notes": "Edited before upload"}
    again = create_mutation(3, booth.staff.id, email="ann@example.com")
    results = _push(client, booth.tablet, first, edit, again)
    assert [r["outcome"] for r in results] == ["applied"] * 3
    assert results[2]["merged_into_id"] == first["lead_id"]


def test_erasing_the_person_removes_the_lead_and_its_merged_captures(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    second, other_staff = _second_tablet(api, booth)
    first = create_mutation(1, booth.staff.id, email="ann@example.com", notes="Met at 10")
    _push(client, booth.tablet, first)
    _push(client, second, create_mutation(1, other_staff.id, email="ann@example.com"))
    erased = client.post(
        "/api/v1/privacy/erase",
        json={"email": "ann@example.com", "confirm": True},
        headers=booth.admin.headers,
    )
    assert erased.status_code == 200, erased.json
    assert erased.json["leads_erased"] == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
