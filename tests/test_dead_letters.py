"""Dead letters shown to admins and sent again: a real webhook receiver that keeps failing,
the dispatcher with a controlled clock, then GET /api/v1/alerts and POST .../retry.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dead_letters import masked_target
from server.alerts.dispatcher import Dispatcher
from server.alerts.models import Channel
from tests.alerting import Clock, smtp_for
from tests.helpers import ApiHelper, Booth
from tests.peers import SmtpRecorder, WebhookReceiver

MAX_ATTEMPTS = 2


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=MAX_ATTEMPTS) as recorder:
        yield recorder


def _patch_event(client: FlaskClient, booth: Booth, body: dict) -> None:
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}", json=body, headers=booth.marketer.headers
    )
    assert response.status_code == 200, response.json


def _dead_webhook(
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
) -> str:
    """Capture a lead whose webhook receiver keeps failing until the job is dead."""
    hook = receiver.url("/secret-path/hook")
    _patch_event(client, booth, {"alerts": {"webhook_url": hook, "webhook_secret": "s"}})
    receiver.fail_with = 503
    lead = api.capture(booth.tablet, booth.staff)
    for _ in range(MAX_ATTEMPTS):
        dispatcher.run_once()
        clock.advance(seconds=30)  # past the retry delay, well before escalation
    assert len(receiver.wait_for(MAX_ATTEMPTS)) == MAX_ATTEMPTS
    return lead["id"]


def _list(client: FlaskClient, booth: Booth, query: str = "") -> dict:
    response = client.get(f"/api/v1/alerts{query}", headers=booth.admin.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_dead_letter_is_listed_for_admins_retried_and_delivered(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead_id = _dead_webhook(api, booth, client, receiver, dispatcher, clock)
    page = _list(client, booth, "?status=dead")
    assert page["total"] == 1 and page["page"] == 1
    (item,) = page["items"]
    assert item["lead_id"] == lead_id and item["event_id"] == booth.event["id"]
    assert item["event_name"] == "Test Expo"
    assert item["rep_id"] == booth.rep.id and item["rep_name"]
    assert item["channel"] == "webhook" and item["kind"] == "new_lead"
    assert item["target"] == "127.0.0.1"  # the host only: a webhook's path may be its secret
    assert "secret-path" not in str(page)
    assert item["attempts"] == MAX_ATTEMPTS and item["status"] == "dead"
    assert item["last_error"] == "webhook to 127.0.0.1: HTTP 503"
    assert item["created_at"]
    assert _list(client, booth) == page  # dead letters are the default view
    # The rep's email went out: it is delivered, not dead.
    assert [i["channel"] for i in _list(client, booth, "?status=delivered")["items"]] == ["email"]

    # The receiver is fixed; an admin sends the alert again.
    receiver.fail_with = None
    response = client.post(f"/api/v1/alerts/{item['id']}/retry", headers=booth.admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "pending" and response.json["attempts"] == 0
    again = client.post(f"/api/v1/alerts/{item['id']}/retry", headers=booth.admin.headers)
    assert again.status_code == 409 and again.json["code"] == 409
    assert _list(client, booth)["total"] == 0
    assert dispatcher.run_once() == 1
    requests = receiver.wait_for(MAX_ATTEMPTS + 1)
    assert requests[-1].status == 200
    assert requests[-1].headers["Idempotency-Key"] == requests[0].headers["Idempotency-Key"]
    delivered = _list(client, booth, "?status=delivered")["items"]
    assert {i["channel"] for i in delivered} == {"email", "webhook"}
    webhook = next(i for i in delivered if i["channel"] == "webhook")
    assert webhook["attempts"] == 1 and webhook["delivered_at"]


def test_only_admins_see_and_retry_dead_letters(
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    _dead_webhook(api, booth, client, receiver, dispatcher, clock)
    (item,) = _list(client, booth)["items"]
    for person in (booth.marketer, booth.rep, booth.staff):
        assert client.get("/api/v1/alerts", headers=person.headers).status_code == 403
        retried = client.post(f"/api/v1/alerts/{item['id']}/retry", headers=person.headers)
        assert retried.status_code == 403
    assert _list(client, booth)["items"][0]["status"] == "dead"  # unchanged
    missing = client.post("/api/v1/alerts/999999/retry", headers=booth.admin.headers)
    assert missing.status_code == 404 and missing.json["code"] == 404


def test_a_visitors_address_is_masked_and_the_list_pages_and_filters(
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    _dead_webhook(api, booth, client, receiver, dispatcher, clock)
    # A thank-you whose consent is withdrawn before it goes dies at once.
    _patch_event(client, booth, {"alerts": {"thank_you": {"enabled": True}}})
    lead = api.capture(booth.tablet, booth.staff, email="visitor@mail.example")
    withdrawn = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"consent": {"given": False}},
        headers=booth.marketer.headers,
    )
    assert withdrawn.status_code == 200
    dispatcher.run_once()
    first = _list(client, booth, "?page_size=1")
    second = _list(client, booth, "?page_size=1&page=2")
    assert first["total"] == second["total"] == 2
    items = first["items"] + second["items"]
    assert {i["kind"] for i in items} == {"thank_you", "new_lead"}
    thanks = next(i for i in items if i["kind"] == "thank_you")
    assert thanks["target"] == "***@mail.example" and thanks["rep_id"] is None
    assert "visitor@" not in str(items)
    only = _list(client, booth, "?kind=thank_you")["items"]
    assert [i["id"] for i in only] == [thanks["id"]]
    other_event = api.event(booth.marketer, name="Other Expo")
    assert _list(client, booth, f"?event_id={other_event['id']}")["total"] == 0
    assert _list(client, booth, f"?event_id={booth.event['id']}")["total"] == 2
    bad = client.get("/api/v1/alerts?status=lost", headers=booth.admin.headers)
    assert bad.status_code == 422


def test_masked_target_keeps_only_the_domain_or_host():
    assert masked_target(Channel.EMAIL, "ann@example.com") == "***@example.com"
    assert masked_target(Channel.WEBHOOK, "https://hooks.example/T0/B1/sekret") == "hooks.example"
    assert masked_target(Channel.CHAT, "not a url") == "unknown host"
