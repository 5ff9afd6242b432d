"""Alert delivery end to end: outbox written with the lead, dispatcher, retries, dead letters,
escalation with a controlled clock, and the one-click acknowledge link.

Real peers on loopback: an SMTP server that records messages and an HTTP receiver that records
webhooks and can be told to fail or to answer slowly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, JobStatus
from server.alerts.signing import verify
from server.extensions import db
from tests.alerting import Clock, smtp_for
from tests.helpers import ApiHelper, Booth, tampered_signature
from tests.peers import SmtpRecorder, WebhookReceiver

SECRET = "whsec-test"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=3) as recorder:
        yield recorder


def _jobs(app: Flask) -> list[AlertJob]:
    with app.app_context():
        jobs = db.session.scalars(sa.select(AlertJob).order_by(AlertJob.id)).all()
        db.session.expunge_all()
        return list(jobs)


def _job(app: Flask, channel: str) -> AlertJob:
    return next(job for job in _jobs(app) if job.channel.value == channel)


def _with_webhook(client: FlaskClient, booth: Booth, receiver: WebhookReceiver) -> None:
    alerts = {
        "webhook_url": receiver.url("/hook"),
        "webhook_secret": SECRET,
        "chat_webhook_url": receiver.url("/chat"),
    }
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"alerts": alerts},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200
    assert "webhook_secret" not in response.json["alerts"]  # write-only


def test_a_new_lead_is_alerted_once_on_every_channel_with_its_context(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
):
    _with_webhook(client, booth, receiver)
    lead = api.capture(booth.tablet, booth.staff, notes="Wants a demo <b>now</b>")
    jobs = _jobs(app)
    assert {job.channel.value for job in jobs} == {"email", "webhook", "chat"}
    assert all(job.rep_id == booth.rep.id and job.status == JobStatus.PENDING for job in jobs)
    assert dispatcher.run_once() == 3
    assert dispatcher.run_once() == 0  # nothing is sent twice
    smtp.wait_for(1)
    (mail,) = smtp.messages
    assert mail["To"] == booth.rep.email and "Ann Example" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    for expected in (
        "Test Expo",
        "B1",
        "TEST-26",
        "Example GmbH",
        "Budget?",
        "Yes",
        "Scanner",
        "Wants a demo",
        "/ack/",
    ):
        assert expected in text, expected
    hooks = [r for r in receiver.requests if r.path == "/hook"]
    assert len(hooks) == 1
    assert verify(SECRET, hooks[0].headers["X-Leadbridge-Signature"], hooks[0].body)
    assert hooks[0].json["lead"]["id"] == lead["id"]
    assert hooks[0].headers["Idempotency-Key"] == hooks[0].json["idempotency_key"]
    assert any(r.path == "/chat" and "blocks" in r.json for r in receiver.requests)
    assert {job.status for job in _jobs(app)} == {JobStatus.DELIVERED}
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=booth.marketer.headers).json
    assert shown["received_at"] <= shown["alerted_at"] and shown["first_contact_at"] is None
    timeline = client.get(
        f"/api/v1/leads/{lead['id']}/timeline", headers=booth.marketer.headers
    ).json
    assert sorted(e["detail"]["channel"] for e in timeline if e["kind"] == "alerted") == [
        "chat",
        "email",
        "webhook",
    ]


def test_a_channel_down_for_a_while_delivers_everything_once_when_back(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    _with_webhook(client, booth, receiver)
    receiver.fail_with = 503
    ids = {api.capture(booth.tablet, booth.staff, email=f"v{i}@x.example")["id"] for i in range(3)}
    dispatcher.run_once()
    failed = [job for job in _jobs(app) if job.channel.value == "webhook"]
    assert all(job.status == JobStatus.PENDING and job.attempts == 1 for job in failed)
    assert all(job.last_error and "x.example" not in job.last_error for job in failed)
    dispatcher.run_once()  # not due yet: backoff holds them
    assert all(job.attempts == 1 for job in _jobs(app) if job.channel.value == "webhook")
    receiver.fail_with = None
    clock.advance(minutes=11)
    dispatcher.run_once()
    delivered = [
        r.json["lead"]["id"] for r in receiver.requests if r.path == "/hook" and r.status == 200
    ]
    assert sorted(delivered) == sorted(ids)


def test_a_channel_that_stays_down_is_dead_lettered(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    _with_webhook(client, booth, receiver)
    receiver.fail_with = 500
    api.capture(booth.tablet, booth.staff)
    for _ in range(4):
        dispatcher.run_once()
        clock.advance(minutes=11)
    hook = _job(app, "webhook")
    assert hook.status == JobStatus.DEAD and hook.attempts == 3
    email = _job(app, "email")
    assert email.status == JobStatus.DELIVERED


def test_a_rejected_webhook_is_not_retried(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
):
    _with_webhook(client, booth, receiver)
    receiver.fail_with = 410
    api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    hook = _job(app, "webhook")
    assert hook.status == JobStatus.DEAD and hook.attempts == 1


def test_a_dispatcher_that_died_mid_delivery_is_taken_over_after_its_lease(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    clock: Clock,
):
    _with_webhook(client, booth, receiver)
    api.capture(booth.tablet, booth.staff)
    with app.app_context():
        claimed = dispatcher._claim(clock())  # it claimed, then the process died
    assert len(claimed) == 3
    assert dispatcher.run_once() == 0  # the lease still holds: nobody sends twice meanwhile
    clock.advance(seconds=61)
    assert dispatcher.run_once() == 3
    assert {job.status for job in _jobs(app)} == {JobStatus.DELIVERED}


def test_hot_leads_nobody_acknowledges_are_reminded_then_reassigned(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
    clock: Clock,
):
    backup = api.person("marketer", email="backup@example.com")
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"routing": {"rules": [], "backup_owner_id": backup.id}, "escalation_minutes": 15},
        headers=booth.marketer.headers,
    )
    hot = api.capture(booth.tablet, booth.staff, rating="hot")
    cold = api.capture(booth.tablet, booth.staff, rating="cold", email="c@x.example")
    dispatcher.run_once()
    clock.advance(minutes=16)
    dispatcher.run_once()
    kinds = sorted((str(job.lead_id), job.kind.value) for job in _jobs(app))
    assert (hot["id"], "reminder") in kinds and (cold["id"], "reminder") not in kinds
    clock.advance(minutes=15)
    dispatcher.run_once()
    moved = client.get(f"/api/v1/leads/{hot['id']}", headers=booth.marketer.headers).json
    assert moved["owner_id"] == backup.id
    timeline = client.get(
        f"/api/v1/leads/{hot['id']}/timeline", headers=booth.marketer.headers
    ).json
    assert any(e["kind"] == "reassigned" and e["detail"]["rule"] == "escalation" for e in timeline)
    escalated = [job for job in _jobs(app) if job.kind.value == "escalated"]
    assert [job.rep_id for job in escalated] == [backup.id]
    smtp.wait_for(3)
    assert any(m["To"] == "backup@example.com" for m in smtp.messages)


def test_the_ack_link_acknowledges_in_one_click(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    lead = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    smtp.wait_for(1)
    text = smtp.messages[0].get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/ack/[\w.\-]+)", text).group(1)
    page = client.get(path)
    assert page.status_code == 200 and b"Acknowledge" in page.data
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=booth.marketer.headers).json
    assert shown["status"] == "assigned"  # looking at the link changes nothing
    done = client.post(path)
    assert done.status_code == 200 and b"Acknowledged" in done.data
    acked = client.get(f"/api/v1/leads/{lead['id']}", headers=booth.marketer.headers).json
    assert acked["status"] == "acknowledged" and acked["acknowledged_at"]
    assert client.post(path).status_code == 200  # twice is harmless
    signed, signature = path.rsplit(".", 1)
    forged = f"{signed}.{tampered_signature(signature)}"
    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404


def test_alert_payloads_hold_no_secrets(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
):
    _with_webhook(client, booth, receiver)
    api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    assert all(SECRET not in json.dumps(r.json) for r in receiver.requests)


def test_webhooks_into_the_servers_own_network_are_refused(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    receiver: WebhookReceiver,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
):
    # Saved while the network was allowed (or under a name that later resolves inward)...
    _with_webhook(client, booth, receiver)
    # ...then delivered as deployed: no private network allowed.
    monkeypatch.setitem(app.config, "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", "")
    refusing = Dispatcher(app, clock=clock)
    api.capture(booth.tablet, booth.staff)
    assert refusing.run_once() == 3
    smtp.wait_for(1)  # email is not a webhook: it goes out
    assert receiver.requests == []
    for channel in ("webhook", "chat"):
        job = _job(app, channel)
        # Dead at once (no retry can help), shown to admins with the reason.
        assert job.status == JobStatus.DEAD and job.attempts == 1
        assert "refused" in job.last_error and "private" in job.last_error


def test_webhook_alerts_to_one_receiver_reuse_one_connection(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
):
    # A handshake per alert (TCP, and TLS to a real receiver) would be paid at every lead.
    _with_webhook(client, booth, receiver)
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"alerts": {"email": False, "chat_webhook_url": None}},
        headers=booth.marketer.headers,
    )
    for index in range(3):
        api.capture(booth.tablet, booth.staff, email=f"visitor{index}@example.com")
    assert dispatcher.run_once() == 3
    hooks = receiver.wait_for(3)
    assert len(hooks) == 3
    assert len({hook.client_port for hook in hooks}) == 1
