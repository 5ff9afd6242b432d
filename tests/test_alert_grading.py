"""How hot an alert says a lead is: staff's rating always, the rubric's band only when it scored.

End to end through the dispatcher to real loopback peers (SMTP, webhook, chat), and the demo
event's own rubric and territory routing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from server.alerts.dispatcher import Dispatcher
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead, Rating
from server.seed import DEMO_RUBRIC, demo_routing, seed_demo
from server.users.models import User
from tests.alerting import smtp_for
from tests.helpers import ApiHelper, Booth, bearer, lead_body
from tests.peers import SmtpRecorder, WebhookReceiver

RUBRIC = {
    "hot": 40,
    "warm": 20,
    "rules": [{"question": "budget", "equals": True, "points": 30, "reason": "Budget confirmed"}],
}


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch) as recorder:
        yield recorder


def _deliver(
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    smtp: SmtpRecorder,
    **event_changes: object,
) -> tuple[str, str, dict, dict]:
    alerts = {
        "webhook_url": receiver.url("/hook"),
        "webhook_secret": "whsec-grading",
        "chat_webhook_url": receiver.url("/chat"),
    }
    changed = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"alerts": alerts, **event_changes},
        headers=booth.marketer.headers,
    )
    assert changed.status_code == 200, changed.json
    api.capture(booth.tablet, booth.staff, rating="hot", answers={"budget": True})
    assert dispatcher.run_once() == 3
    [mail] = smtp.wait_for(1)
    hook = next(r.json for r in receiver.wait_for(2) if r.path == "/hook")
    chat = next(r.json for r in receiver.requests if r.path == "/chat")
    return mail["Subject"], mail.get_body(("plain",)).get_content(), hook, chat


def test_an_event_without_rubric_alerts_a_hot_lead_as_hot_with_no_band(
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    smtp: SmtpRecorder,
) -> None:
    subject, text, hook, chat = _deliver(client, api, booth, receiver, dispatcher, smtp)
    assert subject.startswith("New lead, rated hot: Ann Example")
    assert "Staff rating: hot" in text and "no rubric rules" in text
    for shown in (subject, text, hook["subject"], chat["text"], str(chat["blocks"])):
        assert "cold" not in shown.lower()
    assert hook["score"]["band"] is None
    assert hook["grading"] == {"rating": "hot", "band": None, "points": None, "text": "rated hot"}
    assert chat["text"] == subject


def test_an_event_with_a_rubric_shows_the_band_beside_the_rating(
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
    smtp: SmtpRecorder,
) -> None:
    subject, text, hook, chat = _deliver(
        client, api, booth, receiver, dispatcher, smtp, rubric=RUBRIC
    )
    assert subject.startswith("New lead, rated hot, scored warm: Ann Example")
    assert "Score: Warm, 30 points" in text and "+30 Budget confirmed" in text
    assert hook["grading"]["band"] == "warm" and hook["grading"]["points"] == 30
    assert chat["text"] == subject


def _demo_leads(app: Flask, client: FlaskClient, *leads: dict) -> list[dict]:
    """Seed the demo, pair a tablet with its code and capture leads there as its staff."""
    with app.app_context():
        info = seed_demo(date(2026, 11, 23))
        staff_id = db.session.scalars(
            db.select(User.id).where(User.email == "staff@example.com")
        ).one()
    paired = client.post("/api/v1/devices/pair", json={"code": info.pairing_code, "name": "T"})
    assert paired.status_code == 201, paired.json
    answers = {"budget": True, "timeframe": "This quarter", "role": "Decision maker"}
    captured = []
    for fields in leads:
        body = lead_body(staff_id, answers=answers, **fields)
        response = client.post("/api/v1/leads", json=body, headers=bearer(paired.json["token"]))
        assert response.status_code == 201, response.json
        captured.append(response.json)
    return captured


def test_demo_leads_go_to_the_rep_whose_territory_holds_their_country(
    app: Flask, client: FlaskClient
) -> None:
    # One after another, so plain round-robin would have alternated between the two reps;
    # interest in analytics (Sofia's product) must not beat the visitor's territory either.
    countries = ["DE", "de", "AT", "CH", "IT", "ES"]
    leads = _demo_leads(
        app, client, *({"country": c, "products": ["analytics"]} for c in countries)
    )
    owners = [lead["owner"]["name"] for lead in leads]
    assert owners == ["Nils North"] * 4 + ["Sofia South"] * 2


def test_demo_leads_are_scored_by_the_demo_rubric(app: Flask, client: FlaskClient) -> None:
    [lead] = _demo_leads(app, client, {"country": "IT", "products": []})
    # Budget 30 + this quarter 25 + decision maker 20.
    assert lead["score"]["points"] == 75 and lead["score"]["band"] == "hot"
    assert lead["score"]["reasons"][0] == {"reason": "Budget confirmed", "points": 30}


def test_a_demo_seeded_without_rubric_or_routing_gets_them_on_the_next_seed(app: Flask) -> None:
    with app.app_context():
        event_id = seed_demo().event_id
        event = db.session.get_one(Event, event_id)
        event.rubric, event.routing = {**event.rubric, "rules": []}, {}
        db.session.commit()
        seed_demo()
        event = db.session.get_one(Event, event_id)
        assert event.rubric["rules"] == DEMO_RUBRIC["rules"]
        users = {user.email: user for user in db.session.scalars(db.select(User))}
        assert event.routing == demo_routing(users)


def test_migration_clears_bands_invented_for_leads_of_rubrics_without_rules(
    app: Flask, client: FlaskClient, api: ApiHelper, booth: Booth
) -> None:
    unscored = api.capture(booth.tablet, booth.staff)
    empty_rules = {"hot": 60, "warm": 30, "rules": []}
    changed = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": empty_rules},
        headers=booth.marketer.headers,
    )
    assert changed.status_code == 200
    saved_empty = api.capture(booth.tablet, booth.staff)
    changed = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": RUBRIC},
        headers=booth.marketer.headers,
    )
    scored = api.capture(booth.tablet, booth.staff, answers={"budget": False})
    with app.app_context():
        # As the scoring of earlier releases stored them: "cold" from 0 points.
        db.session.execute(
            sa.update(Lead)
            .where(Lead.id.in_([uuid.UUID(unscored["id"]), uuid.UUID(saved_empty["id"])]))
            .values(score_band=Rating.COLD)
        )
        db.session.commit()
        downgrade(revision="0007")
        upgrade(revision="0008")
        bands = dict(db.session.execute(sa.select(Lead.id, Lead.score_band)).all())
        upgrade()
    assert bands[uuid.UUID(unscored["id"])] is None
    assert bands[uuid.UUID(saved_empty["id"])] is None
    assert bands[uuid.UUID(scored["id"])] == Rating.COLD  # a real rubric's verdict stays
