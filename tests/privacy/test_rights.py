"""A person's rights on the server: find, access export, erasure (no trace), recapture, audit."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.privacy.models import AuditEntry, Erasure, LeadTombstone, Recapture
from server.privacy.rows import collect
from sync.client import SyncClient
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth, create_mutation, event_body
from tests.privacy.scan import find_values

PERSON = {
    "first_name": "Wilhelmina",
    "last_name": "Oppenheimer-Quist",
    "email": "Wilhelmina.Quist@Privacy.example",
    "phone": "030 98765432",
    "company": "Quist Kontor",
    "job_title": "Archivarin",
    "notes": "Asked about Quist-specific pricing",
    "badge_payload": "BADGE-QUIST-0042",
}
# What must not remain anywhere: as typed and as stored (normalised).
TRACES = [
    "Wilhelmina",
    "Oppenheimer-Quist",
    "wilhelmina.quist@privacy.example",
    "+493098765432",
    "98765432",
    "Quist Kontor",
    "Archivarin",
    "Quist-specific",
    "BADGE-QUIST",
]


def _push(client: FlaskClient, booth: Booth, mutations: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )
    assert response.status_code == 200, response.json
    return response.json


def _capture_then_erase_person(api: ApiHelper, client: FlaskClient, booth: Booth) -> None:
    """Capture the person once, then erase them by email, as an admin would."""
    api.capture(booth.tablet, booth.staff, **PERSON)
    erased = client.post(
        "/api/v1/privacy/erase",
        json={"email": PERSON["email"], "confirm": True},
        headers=booth.admin.headers,
    )
    assert erased.status_code == 200, erased.json


def _capture_person(api: ApiHelper, client: FlaskClient, booth: Booth) -> list[str]:
    """Capture the person twice at the booth and once at another event; return lead ids."""
    first = api.capture(booth.tablet, booth.staff, **PERSON)
    # Through sync, with a rejected update that leaves a receipt quoting the person.
    mutation = create_mutation(1, booth.staff.id, **{**PERSON, "email": "w.quist@privacy.example"})
    rejected = {
        "mutation_id": 2,
        "kind": "update",
        "lead_id": mutation["lead_id"],
        "base_version": 1,
        "fields": {"notes": "Wilhelmina again", "email": "not an address"},
    }
    results = _push(client, booth, [mutation, rejected])["results"]
    assert [result["outcome"] for result in results] == ["applied", "rejected"]
    other_event = api.event(booth.marketer, **event_body(name="Other Fair"))
    api.add_member(booth.marketer, other_event["id"], booth.staff.id)
    other_tablet = api.tablet(booth.marketer, other_event["id"])
    third = api.capture(other_tablet, booth.staff, **{**PERSON, "email": None})
    bystander = api.capture(booth.tablet, booth.staff, email="someone.else@example.com")
    assert bystander["id"]
    return [first["id"], mutation["lead_id"], third["id"]]


def test_find_searches_across_events_by_normalised_email_or_phone(
    api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    ids = _capture_person(api, client, booth)

    by_email = client.post(
        "/api/v1/privacy/search",
        json={"email": " WILHELMINA.QUIST@privacy.EXAMPLE"},
        headers=booth.admin.headers,
    )
    by_phone = client.post(
        "/api/v1/privacy/search",
        json={"phone": "030-987 654 32", "country": "DE"},
        headers=booth.admin.headers,
    )

    assert by_email.status_code == 200, by_email.json
    assert {lead["id"] for lead in by_email.json["leads"]} == {ids[0]}
    assert {lead["id"] for lead in by_phone.json["leads"]} == set(ids)
    assert len({lead["event_id"] for lead in by_phone.json["leads"]}) == 2
    assert {job["lead_id"] for job in by_phone.json["alert_jobs"]} <= set(ids)
    assert by_phone.json["alert_jobs"], "the routed leads have alert jobs"
    assert by_phone.json["previously_erased"] is False
    unreadable = client.post(
        "/api/v1/privacy/search", json={"phone": "12"}, headers=booth.admin.headers
    )
    assert unreadable.status_code == 422 and "phone" in unreadable.json["errors"]["json"]
    marketer = client.post(
        "/api/v1/privacy/search", json={"email": PERSON["email"]}, headers=booth.marketer.headers
    )
    assert marketer.status_code == 403


def test_the_access_export_holds_every_row_about_the_person(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    ids = _capture_person(api, client, booth)

    response = client.post(
        "/api/v1/privacy/export",
        json={"phone": "+49 30 98765432"},
        headers=booth.admin.headers,
    )

    assert response.status_code == 200, response.json
    tables = response.json["tables"]
    assert {row["id"] for row in tables["leads"]} == set(ids)
    lead = next(row for row in tables["leads"] if row["id"] == ids[0])
    for field in ("first_name", "last_name", "company", "job_title", "notes", "badge_payload"):
        assert lead[field] == PERSON[field]
    assert lead["consent_given"] is True and "consent_version" in lead
    # Complete: every table row that refers to one of the leads is in the export.
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "lead_id" not in table.c or table.name == "lead_tombstones":
                continue
            stored = db.session.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.lead_id.in_([uuid.UUID(i) for i in ids]))
            ).scalar_one()
            assert len(tables.get(table.name, [])) == stored, table.name
    assert tables["activities"] and tables["alert_jobs"] and tables["mutation_receipts"]
    assert {event["name"] for event in response.json["events"]} == {"Test Expo", "Other Fair"}


def test_erasure_leaves_no_trace_in_any_table(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    ids = _capture_person(api, client, booth)
    with app.app_context():
        assert find_values(TRACES), "the scan finds the person before the erasure"
        before = sa.select(sa.func.count()).select_from(sa.table("leads"))
        leads_before = db.session.execute(before).scalar_one()

    for body in ({"email": PERSON["email"]}, {"phone": PERSON["phone"], "country": "DE"}):
        refused = client.post("/api/v1/privacy/erase", json=body, headers=booth.admin.headers)
        assert refused.status_code == 422  # confirm is required
    response = client.post(
        "/api/v1/privacy/erase",
        json={"email": PERSON["email"], "phone": "+4930 98765432", "confirm": True},
        headers=booth.admin.headers,
    )

    assert response.status_code == 200, response.json
    assert response.json["leads_erased"] == 3
    assert response.json["rows_deleted"]["alert_jobs"] >= 1
    assert response.json["rows_deleted"]["mutation_receipts"] == 1
    with app.app_context():
        assert find_values(TRACES) == []
        assert db.session.execute(before).scalar_one() == leads_before - 3  # the bystander stays
        erasure = db.session.scalars(sa.select(Erasure)).one()
        assert erasure.email_hash and erasure.phone_hash and erasure.lead_count == 3
        tombstones = db.session.scalars(sa.select(LeadTombstone)).all()
        assert {str(t.lead_id) for t in tombstones} == set(ids)
        assert collect([uuid.UUID(i) for i in ids]) == {}


def test_the_tablet_deletes_an_erased_lead_at_its_next_pull(
    api: ApiHelper, client: FlaskClient, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    try:
        store.set_pairing(
            live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
        )
        fields = {**PERSON, "captured_by_id": booth.staff.id, "answers": {"budget": True}}
        kept = store.save_lead({**fields, "email": "kept@example.com", "phone": None})
        erased = store.save_lead(fields)
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()
            assert store.get_lead(erased)["server_version"] is not None
            response = client.post(
                "/api/v1/privacy/erase",
                json={"email": PERSON["email"], "confirm": True},
                headers=booth.admin.headers,
            )
            assert response.json["leads_erased"] == 1
            report = sync.sync_once()
        assert report.pulled >= 1
        assert store.get_lead(erased) is None
        assert store.get_lead(kept) is not None
        assert store.search_leads("wilhelmina") == [store.get_lead(kept)]
    finally:
        store.close()


def test_a_later_capture_of_an_erased_person_is_flagged(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    _capture_then_erase_person(api, client, booth)
    unrelated = api.capture(booth.tablet, booth.staff, email="fresh@example.com", phone=None)

    again = _push(
        client,
        booth,
        [create_mutation(1, booth.staff.id, email="wilhelmina.quist@privacy.example")],
    )["results"][0]

    assert again["outcome"] == "applied" and again["previously_erased"] is True
    listed = client.get("/api/v1/privacy/recaptures", headers=booth.admin.headers)
    assert listed.status_code == 200
    assert [entry["lead_id"] for entry in listed.json] == [again["lead_id"]]
    with app.app_context():
        flagged = {str(r.lead_id) for r in db.session.scalars(sa.select(Recapture))}
    assert unrelated["id"] not in flagged
    found = client.post(
        "/api/v1/privacy/search", json={"email": PERSON["email"]}, headers=booth.admin.headers
    )
    assert found.json["previously_erased"] is True
    timeline = client.get(
        f"/api/v1/leads/{again['lead_id']}/timeline", headers=booth.marketer.headers
    ).json
    assert [e["kind"] for e in timeline].count("recaptured") == 1


def test_one_batch_flags_each_erased_person_by_email_or_by_phone(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    api.capture(booth.tablet, booth.staff, email="erased.by.mail@example.com", phone=None)
    api.capture(booth.tablet, booth.staff, email=None, phone="+49 30 1234567")
    erasures = []
    for subject in ({"email": "erased.by.mail@example.com"}, {"phone": "+49 30 1234567"}):
        erased = client.post(
            "/api/v1/privacy/erase", json={**subject, "confirm": True}, headers=booth.admin.headers
        )
        assert erased.status_code == 200, erased.json
        erasures.append(erased.json["erasure_id"])

    results = _push(
        client,
        booth,
        [
            create_mutation(1, booth.staff.id, email="Erased.By.Mail@example.com", phone=None),
            # Known by the phone only: a new email address does not hide them.
            create_mutation(
                2, booth.staff.id, email="new.address@example.com", phone="030 1234567"
            ),
            create_mutation(3, booth.staff.id, email="never.erased@example.com", phone=None),
        ],
    )["results"]

    assert [r.get("previously_erased", False) for r in results] == [True, True, False]
    with app.app_context():
        flagged = {str(r.lead_id): r.erasure_id for r in db.session.scalars(sa.select(Recapture))}
    assert flagged == {results[0]["lead_id"]: erasures[0], results[1]["lead_id"]: erasures[1]}


def test_a_lead_sent_through_the_rest_create_is_flagged_too(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    _capture_then_erase_person(api, client, booth)

    again = api.capture(booth.tablet, booth.staff, email=PERSON["email"], phone=None)

    listed = client.get("/api/v1/privacy/recaptures", headers=booth.admin.headers)
    assert [entry["lead_id"] for entry in listed.json] == [again["id"]]
    timeline = client.get(
        f"/api/v1/leads/{again['id']}/timeline", headers=booth.marketer.headers
    ).json
    assert [e["kind"] for e in timeline].count("recaptured") == 1


def test_every_rights_action_is_audited_without_personal_data(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    api.capture(booth.tablet, booth.staff, **PERSON)
    for path, extra in (("search", {}), ("export", {}), ("erase", {"confirm": True})):
        response = client.post(
            f"/api/v1/privacy/{path}",
            json={"email": PERSON["email"], **extra},
            headers=booth.admin.headers,
        )
        assert response.status_code == 200, (path, response.json)

    entries = client.get("/api/v1/privacy/audit", headers=booth.admin.headers).json
    assert [entry["action"] for entry in entries] == ["erasure", "access_export", "search"]
    assert {entry["actor_user_id"] for entry in entries} == {booth.admin.id}
    assert len({entry["subject_hash"] for entry in entries}) == 1
    assert all(entry["lead_count"] == 1 for entry in entries)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 3
        assert find_values(["wilhelmina", "privacy.example"]) == []
