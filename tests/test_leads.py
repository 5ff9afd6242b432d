"""Leads: capture from a tablet, normalisation, validation, visibility, lifecycle, timeline."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from server.users.models import Role
from tests.helpers import ApiHelper, Booth, lead_body


def _assign(client: FlaskClient, booth: Booth, lead_id: str, owner_id: int) -> None:
    response = client.patch(
        f"/api/v1/leads/{lead_id}", json={"owner_id": owner_id}, headers=booth.marketer.headers
    )
    assert response.status_code == 200, response.json


def test_capture_normalises_contact_data(api: ApiHelper, booth: Booth):
    lead = api.capture(booth.tablet, booth.staff, email=" Ann.Example@Example.COM ")
    assert lead["email"] == "ann.example@example.com"
    assert lead["phone"] == "+49301234567"  # national number read in the event's country
    assert lead["country"] == "DE"
    assert lead["event_id"] == booth.event["id"]
    assert lead["device_id"] == booth.tablet.id
    # Routed on arrival: the booth's only rep gets it by round-robin.
    assert lead["status"] == "assigned" and lead["owner_id"] == booth.rep.id
    assert lead["consent"]["given"] is True and lead["consent"]["by_id"] == booth.staff.id
    assert lead["server_version"] > 0
    assert lead["received_at"]


def test_replaying_a_capture_stores_one_lead(booth: Booth, client: FlaskClient):
    body = lead_body(booth.staff.id)
    codes = [
        client.post("/api/v1/leads", json=body, headers=booth.tablet.headers).status_code
        for _ in range(3)
    ]
    assert codes == [201, 200, 200]
    listed = client.get("/api/v1/leads", headers=booth.marketer.headers).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]


def test_invalid_leads_are_refused_with_every_problem_named(booth: Booth, client: FlaskClient):
    body = lead_body(
        booth.staff.id,
        email="not an email",
        phone="12",
        answers={"budget": "maybe", "unknown": 1, "seats": True},
        products=["nothing"],
        consent={"given": True, "version": 7},
    )
    response = client.post("/api/v1/leads", json=body, headers=booth.tablet.headers)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) == {"email", "phone", "answers", "products", "consent"}
    assert set(errors["answers"]) == {"budget", "unknown", "seats"}
    assert client.get("/api/v1/leads", headers=booth.marketer.headers).json["total"] == 0


def test_required_answers_and_some_identity_are_needed(booth: Booth, client: FlaskClient):
    nameless = lead_body(
        booth.staff.id,
        first_name=None,
        last_name="",
        email=None,
        phone=None,
        answers={},
    )
    response = client.post("/api/v1/leads", json=nameless, headers=booth.tablet.headers)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert "_schema" in errors and "budget" in errors["answers"]


def test_capturer_must_work_the_event(api: ApiHelper, booth: Booth, client: FlaskClient):
    stranger = api.person(Role.STAFF)
    response = client.post(
        "/api/v1/leads", json=lead_body(stranger.id), headers=booth.tablet.headers
    )
    assert response.status_code == 422
    assert "captured_by_id" in response.json["errors"]["json"]


def test_only_tablets_create_leads(booth: Booth, client: FlaskClient):
    for person in (booth.admin, booth.marketer, booth.rep, booth.staff):
        response = client.post(
            "/api/v1/leads", json=lead_body(booth.staff.id), headers=person.headers
        )
        assert response.status_code == 403


def test_a_tablet_cannot_overwrite_another_tablets_lead(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    lead = api.capture(booth.tablet, booth.staff)
    other = api.tablet(booth.marketer, booth.event["id"], name="Other")
    response = client.post(
        "/api/v1/leads",
        json=lead_body(booth.staff.id, id=lead["id"], first_name="Mallory"),
        headers=other.headers,
    )
    assert response.status_code == 403
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=booth.marketer.headers)
    assert shown.json["first_name"] == "Ann"
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=other.headers).status_code == 404


def test_reps_see_only_their_own_leads(api: ApiHelper, booth: Booth, client: FlaskClient):
    mine = api.capture(booth.tablet, booth.staff)
    theirs = api.capture(booth.tablet, booth.staff, email="bob@example.com")
    other_rep = api.person(Role.REP)
    _assign(client, booth, mine["id"], booth.rep.id)
    _assign(client, booth, theirs["id"], other_rep.id)
    listed = client.get("/api/v1/leads", headers=booth.rep.headers).json
    assert [lead["id"] for lead in listed["items"]] == [mine["id"]]
    # Guessing another rep's lead id reads as "no such lead".
    for path in (f"/api/v1/leads/{theirs['id']}", f"/api/v1/leads/{theirs['id']}/timeline"):
        assert client.get(path, headers=booth.rep.headers).status_code == 404
    change = client.patch(
        f"/api/v1/leads/{theirs['id']}", json={"status": "acknowledged"}, headers=booth.rep.headers
    )
    assert change.status_code == 404
    # Staff logged in on the web see no leads at all.
    assert client.get("/api/v1/leads", headers=booth.staff.headers).status_code == 403


def test_filters_and_search(api: ApiHelper, booth: Booth, client: FlaskClient):
    api.capture(booth.tablet, booth.staff, company="Acme_Corp", rating="cold")
    api.capture(booth.tablet, booth.staff, company="Globex", email="g@example.com")
    headers = booth.marketer.headers

    def ids(query: str) -> int:
        return client.get(f"/api/v1/leads?{query}", headers=headers).json["total"]

    assert ids("q=acme") == 1
    assert ids("q=_") == 1  # LIKE wildcards are searched literally
    assert ids("q=%25") == 0
    assert ids("rating=hot") == 1
    assert ids("rating=hot&rating=cold") == 2
    assert ids("status=new") == 0 and ids("status=assigned") == 2
    assert ids(f"event_id={booth.event['id']}") == 2
    assert ids("event_id=999") == 0
    assert ids("captured_from=2000-01-01T00:00:00Z&captured_to=2001-01-01T00:00:00Z") == 0
    page = client.get("/api/v1/leads?page=2&page_size=1", headers=headers).json
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2


def test_lead_moves_forward_through_the_funnel(api: ApiHelper, booth: Booth, client: FlaskClient):
    # With no rep on the event and no fallback owner, a lead arrives unrouted.
    team = f"/api/v1/events/{booth.event['id']}/members/{booth.rep.id}"
    assert client.delete(team, headers=booth.marketer.headers).status_code == 204
    lead = api.capture(booth.tablet, booth.staff)
    assert lead["status"] == "new" and lead["owner_id"] is None
    url = f"/api/v1/leads/{lead['id']}"
    early = client.patch(url, json={"status": "contacted"}, headers=booth.marketer.headers)
    assert early.status_code == 409  # nobody owns it yet
    _assign(client, booth, lead["id"], booth.rep.id)
    rep = booth.rep.headers
    ack = client.patch(url, json={"status": "acknowledged"}, headers=rep)
    assert ack.status_code == 200 and ack.json["acknowledged_at"]
    meeting = client.patch(url, json={"status": "meeting"}, headers=rep)
    assert meeting.status_code == 200
    # A meeting means sales reached the visitor: speed to lead records the first contact.
    assert meeting.json["first_contact_at"] >= ack.json["acknowledged_at"]
    back = client.patch(url, json={"status": "contacted"}, headers=rep)
    assert back.status_code == 409
    no_value = client.patch(url, json={"status": "won"}, headers=rep)
    assert no_value.status_code == 422  # a missing value is bad input, not a state conflict
    won = client.patch(url, json={"status": "won", "value": "12000.50"}, headers=rep)
    assert won.status_code == 200 and won.json["deal_value"] == "12000.50"
    closed = client.patch(url, json={"status": "lost"}, headers=rep)
    assert closed.status_code == 409
    assert client.get(url, headers=rep).json["status"] == "won"


def test_disqualifying_needs_a_reason(api: ApiHelper, booth: Booth, client: FlaskClient):
    lead = api.capture(booth.tablet, booth.staff)
    url = f"/api/v1/leads/{lead['id']}"
    headers = booth.marketer.headers
    assert client.patch(url, json={"status": "disqualified"}, headers=headers).status_code == 422
    body = {"status": "disqualified", "reason": "student or job seeker"}
    done = client.patch(url, json=body, headers=headers)
    # The event's spelling of the reason is kept (tests/test_outcomes.py has the rest).
    assert done.status_code == 200 and done.json["status_reason"] == "Student or job seeker"


def test_only_managers_reassign_and_only_to_active_reps(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    lead = api.capture(booth.tablet, booth.staff)
    _assign(client, booth, lead["id"], booth.rep.id)
    url = f"/api/v1/leads/{lead['id']}"
    other = api.person(Role.REP)
    assert (
        client.patch(url, json={"owner_id": other.id}, headers=booth.rep.headers).status_code == 403
    )
    not_a_rep = client.patch(url, json={"owner_id": booth.staff.id}, headers=booth.marketer.headers)
    assert not_a_rep.status_code == 422
    _assign(client, booth, lead["id"], other.id)
    assert client.get(url, headers=booth.marketer.headers).json["owner"]["id"] == other.id


def test_timeline_records_each_step(api: ApiHelper, booth: Booth, client: FlaskClient):
    lead = api.capture(booth.tablet, booth.staff)
    other = api.person(Role.REP)
    _assign(client, booth, lead["id"], booth.rep.id)
    _assign(client, booth, lead["id"], other.id)
    client.patch(
        f"/api/v1/leads/{lead['id']}", json={"status": "acknowledged"}, headers=other.headers
    )
    timeline = client.get(
        f"/api/v1/leads/{lead['id']}/timeline", headers=booth.marketer.headers
    ).json
    assert [entry["kind"] for entry in timeline] == [
        "captured",
        "received",
        "scored",
        "routed",
        "reassigned",
        "acknowledged",
    ]
    assert timeline[3]["detail"] == {"rule": "round_robin", "to_owner_id": booth.rep.id}
    assert timeline[4]["detail"]["from_owner_id"] == booth.rep.id
    assert timeline[4]["actor_user"]["id"] == booth.marketer.id
    assert timeline[5]["actor_user"]["id"] == other.id
    assert timeline[0]["actor_device_id"] == booth.tablet.id


def test_unknown_and_malformed_lead_ids_are_404(booth: Booth, client: FlaskClient):
    headers = booth.marketer.headers
    assert client.get(f"/api/v1/leads/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.get("/api/v1/leads/not-a-uuid", headers=headers).status_code == 404


def test_a_patch_of_consent_without_given_is_a_422_and_changes_nothing(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    lead = api.capture(booth.tablet, booth.staff)
    url = f"/api/v1/leads/{lead['id']}"
    answer = client.patch(url, json={"consent": {"version": 1}}, headers=booth.marketer.headers)
    assert answer.status_code == 422, answer.json
    assert "given" in answer.json["errors"]["json"]["consent"]
    after = client.get(url, headers=booth.marketer.headers).json
    assert after["consent"] == lead["consent"]
