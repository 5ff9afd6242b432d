"""The "Send a test alert" buttons deliver through the real channel code to loopback peers
(aiosmtpd for email, an HTTP receiver for webhook and chat) and say plainly how it went."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.models import AlertJob
from server.alerts.signing import verify
from server.events.models import Event
from server.extensions import db
from server.users.models import User
from tests.alerting import smtp_for
from tests.helpers import Booth
from tests.peers import SmtpRecorder, WebhookReceiver
from tests.web.test_pages import logged_in
from tests.web.webclient import csrf_token

SECRET = "whsec-button-test"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch) as recorder:
        yield recorder


def _save_event_channels(client: FlaskClient, booth: Booth, receiver: WebhookReceiver) -> None:
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={
            "alerts": {
                "webhook_url": receiver.url("/hook"),
                "webhook_secret": SECRET,
                "chat_webhook_url": receiver.url("/chat"),
            }
        },
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json


def _press(web: FlaskClient, path: str, channel: str, page: str) -> str:
    """Press one test button and return the page it lands on, as text."""
    token = csrf_token(web, page)
    response = web.post(path, data={"channel": channel, "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_each_event_channel_gets_a_real_test_alert(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    receiver: WebhookReceiver,
    smtp: SmtpRecorder,
) -> None:
    _save_event_channels(client, booth, receiver)
    web = logged_in(app, booth.marketer)
    page = f"/web/events/{booth.event['id']}/settings/alerts"
    path = f"/web/events/{booth.event['id']}/settings/alerts/test"

    shown = _press(web, path, "webhook", page)
    assert "Test alert sent by webhook to the saved URL." in shown
    [hook] = receiver.wait_for(1)
    assert hook.path == "/hook" and hook.json["type"] == "test"
    assert hook.json["event"]["name"] == "Test Expo"
    assert verify(SECRET, hook.headers["X-Leadbridge-Signature"], hook.body)

    shown = _press(web, path, "chat", page)
    assert "Test alert sent by chat webhook" in shown
    chat = receiver.wait_for(2)[1]
    assert chat.path == "/chat" and chat.json["text"].startswith("Test alert, rated hot: ")

    shown = _press(web, path, "email", page)
    assert f"Test alert sent by email to {booth.marketer.email}." in shown
    [mail] = smtp.wait_for(1)
    assert mail["To"] == booth.marketer.email
    assert mail["Subject"].startswith("Test alert, rated hot: Test Visitor (Example Ltd)")
    assert "This is a test alert" in mail.get_body(("plain",)).get_content()

    # Sent at once, not queued: nothing in the outbox, nothing on any lead.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertJob)) == 0


def test_a_failing_channel_shows_its_error_plainly(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    receiver: WebhookReceiver,
    smtp: SmtpRecorder,
) -> None:
    _save_event_channels(client, booth, receiver)
    web = logged_in(app, booth.marketer)
    page = f"/web/events/{booth.event['id']}/settings/alerts"
    path = f"/web/events/{booth.event['id']}/settings/alerts/test"
    receiver.fail_with = 500
    shown = _press(web, path, "webhook", page)
    assert "The test alert by webhook failed: webhook to 127.0.0.1: HTTP 500." in shown
    smtp.fail_with = "550 5.1.1 Mailbox unavailable"
    shown = _press(web, path, "email", page)
    assert "The test alert by email failed: email via 127.0.0.1:" in shown
    assert "SMTPDataError (550)" in shown


def test_a_channel_with_nothing_saved_says_so(app: Flask, booth: Booth) -> None:
    web = logged_in(app, booth.marketer)
    page = f"/web/events/{booth.event['id']}/settings/alerts"
    path = f"/web/events/{booth.event['id']}/settings/alerts/test"
    shown = _press(web, path, "chat", page)
    assert "No chat webhook address is saved yet" in shown
    with app.app_context():
        event = db.session.get_one(Event, booth.event["id"])
        event.alerts = {"email": False}
        db.session.commit()
    shown = _press(web, path, "email", page)
    assert "Email alerts are switched off here" in shown
    token = csrf_token(web, page)
    assert web.post(path, data={"channel": "pigeon", "csrf_token": token}).status_code == 400


def test_a_rep_tests_their_own_channels(
    app: Flask, client: FlaskClient, booth: Booth, receiver: WebhookReceiver, smtp: SmtpRecorder
) -> None:
    changed = client.patch(
        f"/api/v1/users/{booth.rep.id}",
        json={"alerts": {"webhook_url": receiver.url("/mine")}},
        headers=booth.admin.headers,
    )
    assert changed.status_code == 200, changed.json
    web = logged_in(app, booth.rep)
    page = "/web/account/alerts"
    shown = _press(web, "/web/account/alerts/test", "webhook", page)
    assert "Test alert sent by webhook" in shown
    [hook] = receiver.wait_for(1)
    assert hook.path == "/mine" and hook.json["type"] == "test"
    shown = _press(web, "/web/account/alerts/test", "email", page)
    assert f"Test alert sent by email to {booth.rep.email}." in shown
    assert smtp.wait_for(1)[0]["To"] == booth.rep.email
    # Another person's test buttons are for admins only.
    token = csrf_token(web, page)
    other = web.post(
        f"/web/users/{booth.marketer.id}/alerts/test",
        data={"channel": "email", "csrf_token": token},
    )
    assert other.status_code == 403


def test_test_alerts_are_rate_limited_per_person(
    booth: Booth, app_factory: Callable[..., Flask], receiver: WebhookReceiver
) -> None:
    limited = app_factory(
        LEADBRIDGE_RATELIMIT_ENABLED=True,
        LEADBRIDGE_RATELIMIT_TEST_ALERTS="2 per minute",
    )
    with limited.app_context():
        rep = db.session.get_one(User, booth.rep.id)
        rep.alerts = {"webhook_url": receiver.url("/mine")}
        db.session.commit()
    web = logged_in(limited, booth.rep)
    token = csrf_token(web, "/web/account/alerts")
    statuses = [
        web.post(
            "/web/account/alerts/test", data={"channel": "webhook", "csrf_token": token}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(receiver.wait_for(2)) == 2
    # Someone else still has their own budget.
    other = logged_in(limited, booth.admin)
    token = csrf_token(other, "/web/account/alerts")
    pressed = other.post("/web/account/alerts/test", data={"channel": "chat", "csrf_token": token})
    assert pressed.status_code == 302
    assert len(receiver.requests) == 2
