"""The list on tablets: pulled sealed, found offline by raw badge, filled late, erased, wiped."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sync.client import SyncClient, Unpaired
from sync.store import DeviceStore
from tests.attendees.lists import csv_bytes, import_list, people, web_client
from tests.helpers import ApiHelper, Booth
from tests.web.webclient import post_form

RULES = {"prefix": "REG-", "url_pattern": "https://reg.example.com/b/{id}"}


@pytest.fixture
def manager_client(app: Flask, api: ApiHelper, booth: Booth) -> FlaskClient:
    """A web session of the event's marketer, on its team, with the event's badge rules set."""
    api.add_member(booth.admin, booth.event["id"], booth.marketer.id)
    client = web_client(app, booth.marketer)
    path = f"/web/events/{booth.event['id']}/attendees"
    assert post_form(client, path + "/rules", RULES, path).status_code == 302
    return client


@pytest.fixture
def tablet(tmp_path: Path, booth: Booth, live_server: str) -> Iterator[DeviceStore]:
    """The booth's tablet store, paired with the live server."""
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    store.set_pairing(
        live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
    )
    yield store
    store.close()


def sync(store: DeviceStore) -> None:
    with SyncClient(store, timeout=10.0) as client:
        client.sync_once()


def server_lead(api: ApiHelper, booth: Booth, lead_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers)
    assert response.status_code == 200, response.json
    return response.json


def raw_bytes(store: DeviceStore) -> bytes:
    wal = store.path.with_name(store.path.name + "-wal")
    return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_the_list_is_pulled_sealed_and_found_offline_by_the_raw_badge(
    manager_client: FlaskClient, booth: Booth, tablet: DeviceStore
) -> None:
    done = import_list(manager_client, booth.event["id"], csv_bytes(people(300)))
    assert done["inserted"] == 300, done
    sync(tablet)
    assert tablet.attendee_count() == 300
    # Offline now: the look-up reads only the tablet's file.
    tablet.set_pairing("http://127.0.0.1:9", booth.tablet.id, booth.event["id"], booth.tablet.token)
    expected = {
        "first_name": "Ann1042",
        "last_name": "Müller1042",
        "email": "ann1042@example-corp.com",
        "phone": "030 1235042",
        "company": "Corp 1042",
        "job_title": "CTO",
    }
    assert tablet.find_attendee("REG-1042") == expected
    assert tablet.find_attendee("1042") == expected
    assert tablet.find_attendee("https://reg.example.com/b/1042?src=qr") == expected
    assert tablet.find_attendee("REG-9999") is None
    assert tablet.find_attendee("https://elsewhere.example.com/b/1042") is None
    assert tablet.find_attendee("MECARD:N:Doe,John;EMAIL:j@x.com;;") is None
    # Neither the names nor the badge ids are in the file in the clear.
    raw = raw_bytes(tablet)
    assert b"Ann1042" not in raw and "Müller".encode() not in raw
    # (A bare 1042 may turn up in a hash's hex digits by chance; the stored JSON may not.)
    assert b"example-corp" not in raw and b'"1042"' not in raw and b"REG-1042" not in raw
    with sqlite3.connect(tablet.path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT data FROM attendees WHERE lookup = ?", ("x",)
        ).fetchall()
    assert "ix_attendees_lookup" in str(plan)


def test_a_badge_lead_is_filled_on_arrival_and_by_a_later_import(
    manager_client: FlaskClient, api: ApiHelper, booth: Booth, tablet: DeviceStore
) -> None:
    import_list(manager_client, booth.event["id"], csv_bytes(people(5)))
    sync(tablet)
    base = {"captured_by_id": booth.staff.id, "answers": {"budget": True}, "source": "badge"}
    # On the list already: the server fills what staff left empty, keeps what they typed.
    known = tablet.save_lead({**base, "badge_payload": "REG-1003", "company": "Typed Co"})
    # Not on the list yet: the lead keeps only its payload for now.
    unknown = tablet.save_lead({**base, "badge_payload": "https://reg.example.com/b/7001"})
    sync(tablet)
    filled = server_lead(api, booth, known)
    assert (filled["first_name"], filled["last_name"]) == ("Ann1003", "Müller1003")
    assert filled["email"] == "ann1003@example-corp.com" and filled["phone"] == "+49301235003"
    assert filled["company"] == "Typed Co"
    waiting = server_lead(api, booth, unknown)
    assert waiting["first_name"] is None and waiting["badge_payload"].endswith("/7001")

    later = import_list(manager_client, booth.event["id"], csv_bytes(people(1, start=7001)))
    assert later["leads_filled"] == 1, later
    assert server_lead(api, booth, unknown)["first_name"] == "Ann7001"
    sync(tablet)  # the tablet learns it through its pull
    on_tablet = tablet.get_lead(unknown)
    assert on_tablet is not None
    assert (on_tablet["first_name"], on_tablet["email"]) == ("Ann7001", "ann7001@example-corp.com")
    assert tablet.get_lead(known)["first_name"] == "Ann1003"  # type: ignore[index]
    # A second import of the same file fills nothing again.
    again = import_list(manager_client, booth.event["id"], csv_bytes(people(1, start=7001)))
    assert (again["leads_filled"], again["unchanged"]) == (0, 1)


def test_an_erasure_takes_the_person_off_the_list_on_server_and_tablet(
    manager_client: FlaskClient, api: ApiHelper, booth: Booth, tablet: DeviceStore
) -> None:
    data = csv_bytes(people(4))
    import_list(manager_client, booth.event["id"], data)
    sync(tablet)
    assert tablet.find_attendee("REG-1002") is not None
    erased = api.client.post(
        "/api/v1/privacy/erase",
        json={"email": "Ann1002@Example-Corp.com", "confirm": True},
        headers=booth.admin.headers,
    )
    assert erased.status_code == 200, erased.json
    assert erased.json["attendees_removed"] == 1
    by_phone = api.client.post(
        "/api/v1/privacy/erase",
        json={"phone": "+49 30 1235003", "country": "DE", "confirm": True},
        headers=booth.admin.headers,
    )
    assert by_phone.json["attendees_removed"] == 1, by_phone.json
    sync(tablet)
    assert tablet.find_attendee("REG-1002") is None
    assert tablet.find_attendee("REG-1003") is None
    assert tablet.find_attendee("REG-1001") is not None and tablet.attendee_count() == 2
    assert b"Ann1002" not in raw_bytes(tablet)
    # The organiser's file still lists them: a re-import keeps them off.
    again = import_list(manager_client, booth.event["id"], data)
    assert (again["erased_skipped"], again["inserted"]) == (2, 0), again


def test_a_revoked_tablet_wipes_the_list(
    manager_client: FlaskClient, api: ApiHelper, booth: Booth, tablet: DeviceStore
) -> None:
    import_list(manager_client, booth.event["id"], csv_bytes(people(3)))
    sync(tablet)
    assert tablet.attendee_count() == 3
    revoked = api.client.post(
        f"/api/v1/devices/{booth.tablet.id}/revoke", headers=booth.marketer.headers
    )
    assert revoked.status_code == 200, revoked.json
    with pytest.raises(Unpaired) as raised:
        sync(tablet)
    assert raised.value.wipe
    assert tablet.attendee_count() == 0 and tablet.find_attendee("REG-1001") is None
    assert b"Ann1001" not in raw_bytes(tablet)


def test_the_events_retention_removes_its_list_on_server_and_tablet(
    app: Flask, manager_client: FlaskClient, api: ApiHelper, booth: Booth, tablet: DeviceStore
) -> None:
    from datetime import date

    from sqlalchemy import select

    from server.attendees.models import Attendee
    from server.extensions import db
    from server.privacy.retention import erase_expired

    other = api.event(booth.admin, name="Other Expo")
    api.add_member(booth.admin, other["id"], booth.marketer.id)
    import_list(manager_client, other["id"], csv_bytes(people(2)))
    import_list(manager_client, booth.event["id"], csv_bytes(people(40)))
    sync(tablet)
    assert tablet.attendee_count() == 40
    url = f"/api/v1/privacy/events/{booth.event['id']}/retention"
    assert api.client.put(url, json={"retention_days": 30}, headers=booth.admin.headers).json
    with app.app_context():
        assert erase_expired(date(2026, 12, 20)) == []  # the event ended 25 days before
        done = erase_expired(date(2026, 12, 26))
        assert done == [{"event_id": booth.event["id"], "leads_erased": 0, "attendees_removed": 40}]
        assert erase_expired(date(2026, 12, 27)) == []  # nothing left to remove
        left = db.session.execute(
            select(
                Attendee.event_id, Attendee.removed, Attendee.first_name, Attendee.server_version
            )
        ).all()
    assert sorted((e, r) for e, r, _, _ in left) == [
        *[(booth.event["id"], True)] * 40,
        *[(other["id"], False)] * 2,
    ]
    assert all(name is None for event_id, _, name, _ in left if event_id == booth.event["id"])
    assert len({version for *_, version in left}) == 42  # each row a version of its own
    sync(tablet)
    assert tablet.attendee_count() == 0 and tablet.find_attendee("REG-1001") is None
