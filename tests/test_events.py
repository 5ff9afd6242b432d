"""Events: creation, validation, versioned consent text, membership and visibility."""

from __future__ import annotations

from flask.testing import FlaskClient

from server.users.models import Role
from tests.helpers import ApiHelper, Booth, event_body


def test_marketer_creates_and_edits_an_event(api: ApiHelper, client: FlaskClient):
    marketer = api.person(Role.MARKETER)
    event = api.event(marketer)
    assert event["questions"][0] == {
        "id": "budget",
        "label": "Budget?",
        "type": "yes_no",
        "required": True,
        "options": [],
    }
    assert event["consent_version"] == 1
    assert event["cost"] == "1000.00" and event["currency"] == "EUR"
    url = f"/api/v1/events/{event['id']}"
    changed = client.patch(url, json={"booth": "C7", "active": False}, headers=marketer.headers)
    assert changed.status_code == 200
    assert changed.json["booth"] == "C7" and changed.json["active"] is False
    assert changed.json["consent_version"] == 1
    assert changed.json["server_version"] > event["server_version"]


def test_new_consent_wording_gets_a_new_version(api: ApiHelper, client: FlaskClient):
    marketer = api.person(Role.MARKETER)
    event = api.event(marketer)
    url = f"/api/v1/events/{event['id']}"
    same = client.patch(url, json={"consent_text": "You may contact me."}, headers=marketer.headers)
    assert same.json["consent_version"] == 1
    new = client.patch(url, json={"consent_text": "Email me too."}, headers=marketer.headers)
    assert new.json["consent_version"] == 2


def test_invalid_events_are_refused_with_field_errors(api: ApiHelper, client: FlaskClient):
    marketer = api.person(Role.MARKETER)
    bad_question = {"id": "q", "label": "Q", "type": "single_choice", "options": []}
    cases = {
        "timezone": event_body(timezone="Mars/Olympus"),
        "ends_on": event_body(starts_on="2026-11-25", ends_on="2026-11-23"),
        "country": event_body(country="XX"),
        "questions": event_body(questions=[bad_question]),
        "products": event_body(products=[{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]),
        "cost": event_body(cost="-5"),
        "target_leads": event_body(target_leads=2**40),
        "rubric": event_body(rubric={"anything": 1}),
    }
    for field, body in cases.items():
        response = client.post("/api/v1/events", json=body, headers=marketer.headers)
        assert response.status_code == 422, field
        assert field in response.json["errors"]["json"], (field, response.json)
    assert client.get("/api/v1/events", headers=marketer.headers).json == []


def test_patch_keeps_dates_in_order(booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}"
    response = client.patch(url, json={"ends_on": "2020-01-01"}, headers=booth.marketer.headers)
    assert response.status_code == 422
    assert client.get(url, headers=booth.marketer.headers).json["ends_on"] == "2026-11-25"


def test_members_see_their_events_only(api: ApiHelper, booth: Booth, client: FlaskClient):
    other = api.event(booth.marketer, name="Other Expo")
    outsider = api.person(Role.REP)
    for person, expected in (
        (booth.rep, [booth.event["id"]]),
        (booth.staff, [booth.event["id"]]),
        (outsider, []),
        (booth.marketer, sorted([booth.event["id"], other["id"]])),
    ):
        listed = client.get("/api/v1/events", headers=person.headers).json
        assert sorted(event["id"] for event in listed) == expected
    response = client.get(f"/api/v1/events/{other['id']}", headers=booth.rep.headers)
    assert response.status_code == 404
    tablet_view = client.get(f"/api/v1/events/{other['id']}", headers=booth.tablet.headers)
    assert tablet_view.status_code == 404


def test_tablet_lists_the_team_of_its_event(booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}/members"
    members = client.get(url, headers=booth.tablet.headers).json
    assert sorted(m["user_id"] for m in members) == sorted([booth.staff.id, booth.rep.id])
    assert {m["user"]["role"] for m in members} == {"staff", "rep"}
    assert "email" not in members[0]["user"]


def test_membership_is_managed_by_managers(api: ApiHelper, booth: Booth, client: FlaskClient):
    newcomer = api.person(Role.STAFF)
    url = f"/api/v1/events/{booth.event['id']}/members"
    denied = client.post(url, json={"user_id": newcomer.id}, headers=booth.rep.headers)
    assert denied.status_code == 403
    added = client.post(url, json={"user_id": newcomer.id}, headers=booth.marketer.headers)
    assert added.status_code == 201
    assert (
        client.post(url, json={"user_id": 999999}, headers=booth.marketer.headers).status_code
        == 422
    )
    removed = client.delete(f"{url}/{newcomer.id}", headers=booth.marketer.headers)
    assert removed.status_code == 204
    assert client.delete(f"{url}/{newcomer.id}", headers=booth.marketer.headers).status_code == 404


def test_events_with_tablets_or_leads_cannot_be_deleted(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    url = f"/api/v1/events/{booth.event['id']}"
    assert client.delete(url, headers=booth.marketer.headers).status_code == 409
    assert client.get(url, headers=booth.marketer.headers).status_code == 200
    empty = api.event(booth.marketer, name="Cancelled")
    gone = client.delete(f"/api/v1/events/{empty['id']}", headers=booth.marketer.headers)
    assert gone.status_code == 204
    assert (
        client.get(f"/api/v1/events/{empty['id']}", headers=booth.marketer.headers).status_code
        == 404
    )


def test_reps_and_staff_cannot_change_events(booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}"
    for person in (booth.rep, booth.staff):
        assert client.patch(url, json={"booth": "X"}, headers=person.headers).status_code == 403
        assert (
            client.post("/api/v1/events", json=event_body(), headers=person.headers).status_code
            == 403
        )
    assert client.patch(url, json={"booth": "X"}, headers=booth.tablet.headers).status_code == 403
