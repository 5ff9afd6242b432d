"""Consent texts versioned per event and language; each lead's consent record, end to end."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sync.client import SyncClient
from sync.store import DeviceStore, LeadInvalid
from tests.helpers import ApiHelper, Booth


def _add_text(client: FlaskClient, booth: Booth, language: str, text: str) -> dict:
    response = client.post(
        f"/api/v1/privacy/events/{booth.event['id']}/consent-texts",
        json={"language": language, "text": text},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def test_texts_are_versioned_per_event_and_language(client: FlaskClient, booth: Booth) -> None:
    start = booth.event["consent_version"]
    german = _add_text(client, booth, "de", "Sie dürfen mich kontaktieren.")
    english = _add_text(client, booth, "en", "You may contact me.")
    german2 = _add_text(client, booth, "de", "Sie dürfen mich anrufen und anschreiben.")

    assert [german["version"], english["version"], german2["version"]] == [
        start + 1,
        start + 2,
        start + 3,
    ]
    listed = client.get(
        f"/api/v1/privacy/events/{booth.event['id']}/consent-texts", headers=booth.tablet.headers
    ).json
    assert [(t["language"], t["version"]) for t in listed] == [
        ("de", start + 3),
        ("en", start + 2),
        ("de", start + 1),
    ]
    event = client.get(f"/api/v1/events/{booth.event['id']}", headers=booth.marketer.headers)
    assert event.json["consent_version"] == start + 3
    bad = client.post(
        f"/api/v1/privacy/events/{booth.event['id']}/consent-texts",
        json={"language": "German!", "text": "x"},
        headers=booth.marketer.headers,
    )
    assert bad.status_code == 422


def test_a_lead_carries_its_consent_record_from_tablet_to_lead_page(
    api: ApiHelper, client: FlaskClient, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    german = _add_text(client, booth, "de", "Sie dürfen mich kontaktieren.")
    _add_text(client, booth, "en", "You may contact me.")
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    try:
        store.set_pairing(
            live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
        )
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()  # pulls the event with its texts per language
            offered = {t["language"]: t for t in store.event_config()["consent_texts"]}
            assert offered["de"]["text"] == "Sie dürfen mich kontaktieren."
            with pytest.raises(LeadInvalid) as refused:
                store.save_lead(
                    {
                        "captured_by_id": booth.staff.id,
                        "email": "a@example.com",
                        "answers": {"budget": True},
                        "consent": {"given": True, "purposes": ["selling_my_data"]},
                    }
                )
            assert list(refused.value.errors) == ["consent"]
            lead_id = store.save_lead(
                {
                    "captured_by_id": booth.staff.id,
                    "first_name": "Greta",
                    "email": "greta@example.com",
                    "answers": {"budget": True},
                    "consent": {
                        "given": True,
                        "version": offered["de"]["version"],
                        "language": "de",
                        "purposes": ["sales_follow_up", "marketing_email"],
                        "at": "2026-11-23T10:59:00+01:00",
                    },
                }
            )
            unconsented = store.save_lead(
                {
                    "captured_by_id": booth.staff.id,
                    "email": "no@example.com",
                    "answers": {"budget": False},
                }
            )
            sync.sync_once()
        assert store.get_lead(lead_id)["sync_state"] == "uploaded"
    finally:
        store.close()

    shown = client.get(f"/api/v1/privacy/leads/{lead_id}/consent", headers=booth.marketer.headers)
    assert shown.status_code == 200, shown.json
    assert shown.json == {
        "given": True,
        "version": german["version"],
        "at": "2026-11-23T09:59:00+00:00",
        "captured_by_id": booth.staff.id,
        "device_id": booth.tablet.id,
        "language": "de",
        "purposes": ["marketing_email", "sales_follow_up"],
        "text": "Sie dürfen mich kontaktieren.",
    }
    none = client.get(
        f"/api/v1/privacy/leads/{unconsented}/consent", headers=booth.marketer.headers
    ).json
    assert none["given"] is False and none["purposes"] == [] and none["text"] is None
    # Carried in the access export too.
    export = client.post(
        "/api/v1/privacy/export", json={"email": "greta@example.com"}, headers=booth.admin.headers
    ).json
    (record,) = export["tables"]["consent_records"]
    assert record["language"] == "de" and record["device_id"] == booth.tablet.id
    # And in the event's CSV export, with the language and purposes it relied on.
    csv_text = client.get(
        f"/api/v1/events/{booth.event['id']}/leads.csv", headers=booth.marketer.headers
    ).data.decode("utf-8-sig")
    exported = {row["Lead id"]: row for row in csv.DictReader(io.StringIO(csv_text))}
    assert exported[lead_id]["Consent language"] == "de"
    assert exported[lead_id]["Consent purposes"] == "marketing_email; sales_follow_up"
    assert exported[unconsented]["Consent purposes"] == ""


def test_consent_changed_after_capture_is_recorded_again(
    api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    german = _add_text(client, booth, "de", "Sie dürfen mich kontaktieren.")
    lead = api.capture(booth.tablet, booth.staff, consent={"given": False})
    url = f"/api/v1/privacy/leads/{lead['id']}/consent"
    assert client.get(url, headers=booth.marketer.headers).json["purposes"] == []
    given = {
        "given": True,
        "version": german["version"],
        "language": "de",
        "purposes": ["sales_follow_up"],
        "at": "2026-11-23T12:00:00+00:00",
    }
    changed = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"consent": given}, headers=booth.marketer.headers
    )
    assert changed.status_code == 200, changed.json
    record = client.get(url, headers=booth.marketer.headers).json
    assert record["given"] is True and record["language"] == "de"
    assert record["purposes"] == ["sales_follow_up"] and record["text"] == german["text"]
    withdrawn = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"consent": {"given": False}},
        headers=booth.marketer.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.json
    record = client.get(url, headers=booth.marketer.headers).json
    assert record["given"] is False and record["purposes"] == []


def test_a_lead_pulled_back_keeps_what_the_visitor_agreed_to(
    client: FlaskClient, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    german = _add_text(client, booth, "de", "Sie dürfen mich kontaktieren.")
    agreed = {"language": "de", "purposes": ["marketing_email"]}
    capturing = DeviceStore(tmp_path / "tablet.sqlite3")
    again = DeviceStore(tmp_path / "reinstalled.sqlite3")
    try:
        for store in (capturing, again):
            store.set_pairing(
                live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
            )
        consent = {"given": True, "version": german["version"], **agreed}
        with SyncClient(capturing, timeout=10.0) as sync:
            sync.sync_once()
            lead_id = capturing.save_lead(
                {
                    "captured_by_id": booth.staff.id,
                    "email": "greta@example.com",
                    "answers": {"budget": True},
                    "consent": consent,
                }
            )
            sync.sync_once()
            # A change on the server comes back to the tablet that captured the lead...
            edited = client.patch(
                f"/api/v1/leads/{lead_id}", json={"notes": "Call"}, headers=booth.marketer.headers
            )
            assert edited.status_code == 200, edited.json
            sync.sync_once()
        kept = capturing.get_lead(lead_id)
        assert kept["notes"] == "Call"
        assert {key: kept["consent"].get(key) for key in agreed} == agreed
        # ...and a tablet that downloads the event's leads afresh gets the same.
        with SyncClient(again, timeout=10.0) as sync:
            sync.sync_once()
        pulled = again.get_lead(lead_id)
        assert {key: pulled["consent"].get(key) for key in agreed} == agreed
    finally:
        capturing.close()
        again.close()
