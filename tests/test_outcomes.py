"""Sales outcomes: through the API and the signed link, on the timeline, to tablets.

Every outcome (contacted, meeting booked, qualified, disqualified with one of the event's
reasons, won with a value, lost with a reason) is reported both ways, and each lands on
the timeline with its time and the rep as actor. Refusals (a reason outside the event's
list, a lost lead without a reason, a won lead without a value, a forged or expired link,
a link for a lead reassigned since) change nothing. A real tablet store sees the outcome
on its next pull over HTTP.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.links import ack_url
from server.events.models import DEFAULT_DISQUALIFICATION_REASONS
from server.extensions import db
from server.leads.models import Activity, Lead
from server.users.models import User
from sync.client import SyncClient
from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth, move_past_ack_link_lifetime, tampered_signature

# Each outcome with the form (and API) fields it needs, and what the lead then shows.
OUTCOMES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("contacted", {}, {}),
    ("meeting", {}, {}),
    ("qualified", {}, {}),
    ("disqualified", {"reason": "No budget"}, {"status_reason": "No budget"}),
    ("won", {"value": "1500.50"}, {"deal_value": "1500.50"}),
    ("lost", {"reason": "Chose a cheaper tool"}, {"status_reason": "Chose a cheaper tool"}),
]
OUTCOME_IDS = [name for name, _, _ in OUTCOMES]


def _ack_path(app: Flask, lead_id: str, rep_id: int) -> str:
    with app.test_request_context():
        url = ack_url(uuid.UUID(lead_id), rep_id)
    return url.removeprefix(app.config["LEADBRIDGE_PUBLIC_URL"])


def _lead(client: FlaskClient, booth: Booth, lead_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers)
    assert response.status_code == 200
    return response.json


def _timeline(client: FlaskClient, booth: Booth, lead_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/leads/{lead_id}/timeline", headers=booth.marketer.headers)
    assert response.status_code == 200
    return response.json


def _stored(app: Flask, lead_id: str) -> tuple[Any, ...]:
    """Return what a refused change must leave as it was: the row and its timeline."""
    with app.app_context():
        lead = db.session.get(Lead, uuid.UUID(lead_id))
        assert lead is not None
        entries = db.session.query(Activity).filter_by(lead_id=lead.id).count()
        row = (lead.status, lead.status_reason, lead.deal_value, lead.server_version, entries)
        db.session.rollback()
        return row


@pytest.fixture
def owned_lead(api: ApiHelper, booth: Booth) -> str:
    """Return the id of a lead routed to the booth's rep (the event's only rep)."""
    lead = api.capture(booth.tablet, booth.staff)
    assert lead["owner_id"] == booth.rep.id and lead["status"] == "assigned"
    return lead["id"]


@pytest.fixture
def acknowledged_lead(client: FlaskClient, booth: Booth, owned_lead: str) -> str:
    """Return the id of a lead its rep has acknowledged."""
    response = client.patch(
        f"/api/v1/leads/{owned_lead}", json={"status": "acknowledged"}, headers=booth.rep.headers
    )
    assert response.status_code == 200
    return owned_lead


def _assert_on_timeline(
    entry: dict[str, Any], status: str, rep_id: int, before: datetime, fields: dict[str, str]
) -> None:
    assert entry["kind"] == "status_changed"
    assert entry["detail"]["to"] == status
    assert entry["actor_user"]["id"] == rep_id
    at = datetime.fromisoformat(entry["at"])
    assert before <= at <= datetime.now(UTC)
    for name, value in fields.items():
        assert entry["detail"][name] == value


# --- the event's reasons ---------------------------------------------------------------


def test_an_event_has_the_default_reasons_until_it_names_its_own(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    assert booth.event["disqualification_reasons"] == list(DEFAULT_DISQUALIFICATION_REASONS)
    url = f"/api/v1/events/{booth.event['id']}"
    headers = booth.marketer.headers
    mine = ["Too small", "Partner, not customer", "Other"]
    changed = client.patch(url, json={"disqualification_reasons": mine}, headers=headers)
    assert changed.status_code == 200 and changed.json["disqualification_reasons"] == mine
    for bad in (
        ["Other", "other"],  # the same reason twice
        [""],
        ["x" * 101],
        [f"Reason {number}" for number in range(31)],
        "No budget",
        [3],
    ):
        refused = client.patch(url, json={"disqualification_reasons": bad}, headers=headers)
        assert refused.status_code == 422, bad
        assert set(refused.json) >= {"code", "status", "message", "errors"}
    assert client.get(url, headers=headers).json["disqualification_reasons"] == mine
    # The tablet gets the list with the rest of the event's configuration.
    pulled = client.get("/api/v1/sync/pull?cursor=0", headers=booth.tablet.headers).json
    events = [change["data"] for change in pulled["changes"] if change["kind"] == "event"]
    assert events[-1]["disqualification_reasons"] == mine
    # Emptying the list (or null) brings the default back rather than leaving none to choose.
    for empty in ([], None):
        reset = client.patch(url, json={"disqualification_reasons": empty}, headers=headers)
        assert reset.json["disqualification_reasons"] == list(DEFAULT_DISQUALIFICATION_REASONS)


# --- through the API -------------------------------------------------------------------


@pytest.mark.parametrize(("status", "fields", "shown"), OUTCOMES, ids=OUTCOME_IDS)
def test_each_outcome_through_the_api_is_on_the_timeline(
    client: FlaskClient,
    booth: Booth,
    acknowledged_lead: str,
    status: str,
    fields: dict[str, str],
    shown: dict[str, Any],
):
    before = datetime.now(UTC)
    response = client.patch(
        f"/api/v1/leads/{acknowledged_lead}",
        json={"status": status, **fields},
        headers=booth.rep.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == status
    for name, value in shown.items():
        assert response.json[name] == value
    entry = _timeline(client, booth, acknowledged_lead)[-1]
    _assert_on_timeline(entry, status, booth.rep.id, before, fields)


def test_disqualifying_takes_only_the_events_reasons(
    app: Flask, client: FlaskClient, booth: Booth, acknowledged_lead: str
):
    url = f"/api/v1/leads/{acknowledged_lead}"
    untouched = _stored(app, acknowledged_lead)
    outside = client.patch(
        url, json={"status": "disqualified", "reason": "Bad vibes"}, headers=booth.rep.headers
    )
    assert outside.status_code == 422
    assert set(outside.json) >= {"code", "status", "message", "errors"}
    # The refusal lists what the event allows.
    for reason in DEFAULT_DISQUALIFICATION_REASONS:
        assert reason in outside.json["message"]
    assert "reason" in outside.json["errors"]["json"]
    assert _stored(app, acknowledged_lead) == untouched
    # An event's own list replaces the default one, so a default reason is refused too.
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"disqualification_reasons": ["Too small"]},
        headers=booth.marketer.headers,
    )
    untouched = _stored(app, acknowledged_lead)
    default = client.patch(
        url, json={"status": "disqualified", "reason": "No budget"}, headers=booth.rep.headers
    )
    assert default.status_code == 422 and "Too small" in default.json["message"]
    assert _stored(app, acknowledged_lead) == untouched
    # Any case is accepted; the event's spelling is stored.
    done = client.patch(
        url, json={"status": "disqualified", "reason": "too SMALL"}, headers=booth.rep.headers
    )
    assert done.status_code == 200 and done.json["status_reason"] == "Too small"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "lost"}, "reason"),
        ({"status": "lost", "reason": None}, "reason"),
        ({"status": "won"}, "value"),
        ({"status": "won", "value": None}, "value"),
        ({"status": "disqualified"}, "reason"),
    ],
    ids=["lost-no-reason", "lost-null-reason", "won-no-value", "won-null-value", "dq-no-reason"],
)
def test_an_outcome_without_what_it_needs_is_422_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    acknowledged_lead: str,
    body: dict[str, Any],
    field: str,
):
    untouched = _stored(app, acknowledged_lead)
    response = client.patch(
        f"/api/v1/leads/{acknowledged_lead}", json=body, headers=booth.rep.headers
    )
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == [field]
    assert _stored(app, acknowledged_lead) == untouched


# --- through the signed link -----------------------------------------------------------


def test_the_link_page_offers_outcomes_once_acknowledged(
    app: Flask, client: FlaskClient, booth: Booth, owned_lead: str
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    before = client.get(path).get_data(as_text=True)
    assert "Acknowledge" in before and f"{path}/outcome" not in before
    acknowledged = client.post(path)
    assert acknowledged.status_code == 200
    page = client.get(path).get_data(as_text=True)
    assert page.count(f'action="{path}/outcome"') == len(OUTCOMES)
    for reason in DEFAULT_DISQUALIFICATION_REASONS:
        assert f"<option>{reason}</option>" in page
    # No inline script: the CSP allows scripts from the server only.
    assert "<script" not in page
    # The acknowledgement, in the event's time zone (Europe/Berlin), with who did it.
    entry = _timeline(client, booth, owned_lead)[-1]
    assert entry["kind"] == "acknowledged"
    local = datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert local.strftime("%Y-%m-%d %H:%M") in page
    assert "Europe/Berlin" in page
    with app.app_context():
        name = db.session.get(User, booth.rep.id).name
    assert f"by {name}" in page


@pytest.mark.parametrize(("status", "fields", "shown"), OUTCOMES, ids=OUTCOME_IDS)
def test_each_outcome_through_the_link_is_on_the_timeline_as_the_rep(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    owned_lead: str,
    status: str,
    fields: dict[str, str],
    shown: dict[str, Any],
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    assert client.post(path).status_code == 200
    before = datetime.now(UTC)
    # Exactly what the page's form for this outcome sends.
    response = client.post(f"{path}/outcome", data={"status": status, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Recorded:" in response.get_data(as_text=True)
    lead = _lead(client, booth, owned_lead)
    assert lead["status"] == status
    for name, value in shown.items():
        assert lead[name] == value
    entry = _timeline(client, booth, owned_lead)[-1]
    _assert_on_timeline(entry, status, booth.rep.id, before, fields)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"status": "disqualified", "reason": "Bad vibes"}, "reasons: No budget; No need"),
        ({"status": "disqualified"}, "Give a reason when disqualifying a lead."),
        ({"status": "lost"}, "Give a reason when a lead is lost."),
        ({"status": "lost", "reason": "   "}, "Give a reason when a lead is lost."),
        ({"status": "won"}, "Give the deal value when a lead is won."),
        ({"status": "won", "value": "lots"}, "Not a valid number."),
        ({"status": "won", "value": "-5"}, "Must be between"),
        ({"status": "acknowledged"}, "Choose one of the outcomes"),
        ({"status": "new"}, "Choose one of the outcomes"),
        ({}, "Choose one of the outcomes"),
        ({"status": "lost", "reason": "x" * 501}, "at most 500"),
    ],
    ids=[
        "dq-outside",
        "dq-none",
        "lost-none",
        "lost-blank",
        "won-none",
        "won-text",
        "won-negative",
        "not-an-outcome",
        "backwards",
        "empty",
        "reason-too-long",
    ],
)
def test_a_refused_outcome_shows_why_with_a_4xx_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    owned_lead: str,
    form: dict[str, str],
    expected: str,
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    assert client.post(path).status_code == 200
    untouched = _stored(app, owned_lead)
    response = client.post(f"{path}/outcome", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert expected in page and 'role="alert"' in page
    assert _stored(app, owned_lead) == untouched


def test_a_closed_lead_refuses_another_outcome_with_409(
    app: Flask, client: FlaskClient, booth: Booth, owned_lead: str
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    client.post(path)
    assert client.post(f"{path}/outcome", data={"status": "won", "value": "10"}).status_code == 200
    untouched = _stored(app, owned_lead)
    again = client.post(f"{path}/outcome", data={"status": "lost", "reason": "Changed mind"})
    assert again.status_code == 409
    assert "cannot change status" in again.get_data(as_text=True)
    assert _stored(app, owned_lead) == untouched
    # The page of a closed lead shows the result and offers nothing more.
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="won"' in page and "/outcome" not in page


def test_a_forged_or_expired_link_reports_nothing(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    owned_lead: str,
    monkeypatch: pytest.MonkeyPatch,
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    client.post(path)
    untouched = _stored(app, owned_lead)
    payload, stamp, signature = path.removeprefix("/ack/").split(".")
    flipped = tampered_signature(signature)
    form = {"status": "lost", "reason": "Forged"}
    for bad in (f"/ack/{payload}.{stamp}.{flipped}", "/ack/not-a-token"):
        response = client.post(f"{bad}/outcome", data=form)
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True)
    move_past_ack_link_lifetime(monkeypatch)
    assert client.post(f"{path}/outcome", data=form).status_code == 404
    monkeypatch.undo()
    assert _stored(app, owned_lead) == untouched
    # A GET of the outcome address changes nothing either: only POST reports.
    assert client.get(f"{path}/outcome?status=lost&reason=Forged").status_code == 405
    assert _stored(app, owned_lead) == untouched


def test_a_link_for_a_lead_reassigned_since_is_409(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth, owned_lead: str
):
    path = _ack_path(app, owned_lead, booth.rep.id)
    client.post(path)
    other = api.person("rep")
    api.add_member(booth.marketer, booth.event["id"], other.id)
    moved = client.patch(
        f"/api/v1/leads/{owned_lead}",
        json={"owner_id": other.id},
        headers=booth.marketer.headers,
    )
    assert moved.status_code == 200
    untouched = _stored(app, owned_lead)
    response = client.post(f"{path}/outcome", data={"status": "contacted"})
    assert response.status_code == 409
    assert "another owner" in response.get_data(as_text=True)
    assert _stored(app, owned_lead) == untouched
    # The new owner's own link works.
    theirs = _ack_path(app, owned_lead, other.id)
    assert client.post(f"{theirs}/outcome", data={"status": "contacted"}).status_code == 200
    assert _timeline(client, booth, owned_lead)[-1]["actor_user"]["id"] == other.id


# --- back to the tablet ----------------------------------------------------------------


@pytest.fixture
def tablet_store(tmp_path: Path, booth: Booth, live_server: str) -> Iterator[DeviceStore]:
    """Yield a real tablet store paired as the booth's tablet against the live server."""
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    store.set_pairing(
        live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
    )
    yield store
    store.close()


def test_a_tablet_sees_the_outcome_after_its_next_pull(
    app: Flask, booth: Booth, live_server: str, tablet_store: DeviceStore
):
    lead_id = tablet_store.save_lead(
        {
            "captured_by_id": booth.staff.id,
            "first_name": "Ann",
            "last_name": "Example",
            "email": f"ann.{uuid.uuid4().hex[:8]}@example.com",
            "company": "Example GmbH",
            "answers": {"budget": True},
            "consent": {"given": True, "at": "2026-11-23T10:59:00+01:00"},
        }
    )
    with SyncClient(tablet_store, timeout=10.0) as sync:
        sync.sync_once()
        assert tablet_store.get_lead(lead_id)["status"] == "assigned"
        link = f"{live_server}{_ack_path(app, lead_id, booth.rep.id)}"
        # The rep's browser: the page, the acknowledge button, then the outcome form.
        with requests.Session() as browser:
            page = browser.get(link, timeout=10)
            assert page.status_code == 200 and "Acknowledge" in page.text
            assert browser.post(link, timeout=10).status_code == 200
            action = re.search(r'action="([^"]+/outcome)"', browser.get(link, timeout=10).text)
            assert action is not None
            won = browser.post(
                f"{live_server}{action.group(1)}",
                data={"status": "won", "value": "1500.00"},
                timeout=10,
            )
            assert won.status_code == 200
        # Not yet on the tablet: it learns on its next pull.
        assert tablet_store.get_lead(lead_id)["status"] == "assigned"
        sync.sync_once()
    lead = tablet_store.get_lead(lead_id)
    assert lead["status"] == "won"
    assert lead["acknowledged_at"] is not None
    assert lead["owner_id"] == booth.rep.id
    assert lead["deal_value"] == "1500.00"
    assert lead["first_contact_at"] is not None
