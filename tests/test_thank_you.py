"""Thank-you emails to visitors: only with consent and an address, once, with the materials.

Real peers: an aiosmtpd server on loopback records the mail; the dispatcher runs with a
controlled clock, as in tests/test_alert_delivery.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import thank_you
from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, AlertKind, JobStatus
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from tests.alerting import Clock, smtp_for
from tests.helpers import ApiHelper, Booth, create_mutation
from tests.peers import SmtpRecorder
from tests.test_alert_worker import (
    REDIS_URL,
    Worker,
    _wait_until,
    queue_name,
    rq_app,
    start_worker,
)

__all__ = ["queue_name", "rq_app", "start_worker"]  # fixtures shared with the worker tests

VISITOR = "ann.example@example.com"
SCANNER_URL = "https://example.com/materials/scanner.pdf"
CRM_URL = "https://example.com/materials/crm.pdf"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=3) as recorder:
        yield recorder


@pytest.fixture
def dispatcher(app: Flask, smtp: SmtpRecorder) -> Dispatcher:
    return Dispatcher(app, clock=Clock())


def _enable(client: FlaskClient, booth: Booth, enabled: bool = True) -> None:
    body = {
        "alerts": {
            "thank_you": {
                "enabled": enabled,
                "subject": "Thanks from the Example booth",
                "intro": "Great to meet you. Here is what you asked about.",
            }
        },
        "products": [
            {"id": "scanner", "name": "Scanner", "material_url": SCANNER_URL},
            {"id": "crm", "name": "CRM", "material_url": CRM_URL},
        ],
    }
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}", json=body, headers=booth.marketer.headers
    )
    assert response.status_code == 200, response.json
    assert response.json["alerts"]["thank_you"]["enabled"] is enabled


def _capture(api: ApiHelper, booth: Booth, **overrides: Any) -> dict[str, Any]:
    return api.capture(booth.tablet, booth.staff, **{"email": VISITOR, **overrides})


def _thank_you_jobs(app: Flask) -> list[AlertJob]:
    with app.app_context():
        jobs = db.session.scalars(
            sa.select(AlertJob).where(AlertJob.kind == AlertKind.THANK_YOU).order_by(AlertJob.id)
        ).all()
        db.session.expunge_all()
        return list(jobs)


def _mails_to(smtp: SmtpRecorder, address: str) -> list[EmailMessage]:
    return [mail for mail in smtp.messages if mail["To"] == address]


def _deliver_all(dispatcher: Dispatcher, smtp: SmtpRecorder) -> None:
    """Run dispatcher rounds until nothing is due, then wait for what was sent."""
    for _ in range(5):
        if dispatcher.run_once() == 0:
            break
    delivered = [job for job in _all_jobs(dispatcher.app) if job.status == JobStatus.DELIVERED]
    smtp.wait_for(len([job for job in delivered if job.channel.value == "email"]))


def _all_jobs(app: Flask) -> list[AlertJob]:
    with app.app_context():
        jobs = db.session.scalars(sa.select(AlertJob)).all()
        db.session.expunge_all()
        return list(jobs)


def _push(client: FlaskClient, booth: Booth, mutations: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )
    assert response.status_code == 200, response.json
    return response.json


def test_sent_once_with_the_materials_of_the_chosen_products_and_nothing_internal(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    _enable(client, booth)
    lead = _capture(api, booth, notes="Budget secret 42k", products=["scanner"])
    (job,) = _thank_you_jobs(app)
    assert job.target == VISITOR and job.rep_id is None and job.consent_version == 1
    assert job.idempotency_key == f"{lead['id']}:thank_you"
    _deliver_all(dispatcher, smtp)
    assert dispatcher.run_once() == 0  # a second round sends nothing
    (mail,) = _mails_to(smtp, VISITOR)
    assert mail["Subject"] == "Thanks from the Example booth"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Dear Ann" in body and "Great to meet you" in body
        assert SCANNER_URL in body and "Scanner" in body
        assert CRM_URL not in body  # not chosen
        assert "consent version 1" in body
        # Nothing internal and no one else's data: notes, score, rating, rep, staff, links.
        for internal in (
            "Budget secret",
            "points",
            "hot",
            booth.rep.email,
            "rep ",
            "staff ",
            "/ack/",
            "Acknowledge",
            "Example GmbH",
            "030",
        ):
            assert internal not in body, internal
    (job,) = _thank_you_jobs(app)
    assert job.status == JobStatus.DELIVERED and job.attempts == 1
    with app.app_context():
        entries = db.session.scalars(
            sa.select(Activity).where(
                Activity.lead_id == uuid.UUID(lead["id"]), Activity.kind == ActivityKind.ALERTED
            )
        ).all()
        thanked = [a.detail for a in entries if a.detail["alert"] == "thank_you"]
        assert thanked == [
            {"channel": "email", "alert": "thank_you", "rep_id": None, "consent_version": 1}
        ]
        # The rep's alert, not the thank-you, starts the speed-to-lead clock.
        rep_alert = next(a for a in entries if a.detail["alert"] == "new_lead")
        assert db.session.get_one(Lead, uuid.UUID(lead["id"])).alerted_at == rep_alert.at


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"consent": {"given": False}}, id="no consent"),
        pytest.param({"email": None}, id="no email"),
        pytest.param(
            {"consent": {"given": True, "version": 1, "purposes": ["sales_follow_up"]}},
            id="marketing email not chosen",
        ),
    ],
)
def test_not_sent_without_consent_address_or_marketing_purpose(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
    overrides: dict[str, Any],
):
    _enable(client, booth)
    _capture(api, booth, **overrides)
    assert _thank_you_jobs(app) == []
    _deliver_all(dispatcher, smtp)
    assert [mail["To"] for mail in smtp.messages] == [booth.rep.email]


def test_sent_when_marketing_email_is_among_the_purposes(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    _enable(client, booth)
    consent = {"given": True, "version": 1, "purposes": ["marketing_email", "sales_follow_up"]}
    _capture(api, booth, consent=consent)
    (job,) = _thank_you_jobs(app)
    assert job.consent_version == 1


def test_an_event_with_thank_you_emails_off_sends_none(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    _capture(api, booth)  # never configured
    _enable(client, booth, enabled=False)
    _capture(api, booth, email="bob@example.com")
    assert _thank_you_jobs(app) == []
    _deliver_all(dispatcher, smtp)
    assert {mail["To"] for mail in smtp.messages} == {booth.rep.email}


def test_never_twice_whatever_happens_to_the_lead(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    _enable(client, booth)
    create = create_mutation(1, booth.staff.id, email=VISITOR)
    _push(client, booth, [create])
    _deliver_all(dispatcher, smtp)
    assert len(_mails_to(smtp, VISITOR)) == 1
    lead_id = create["lead_id"]
    # The same push again, and the same create under a new mutation id.
    assert _push(client, booth, [create])["results"][0]["replayed"] is True
    _push(client, booth, [{**create, "mutation_id": 2}])
    # Consent withdrawn and given again, by the tablet and by a marketer; a new address.
    withdraw = {"consent": {"given": False}}
    give = {"consent": {"given": True, "version": 1}}
    for number, fields in ((3, withdraw), (4, give)):
        update = {"mutation_id": number, "kind": "update", "lead_id": lead_id, "fields": fields}
        result = _push(client, booth, [{**update, "base_version": 0}])["results"][0]
        assert result["outcome"] == "applied", result
    for changes in (withdraw, give, {"email": "ann@new.example"}):
        response = client.patch(
            f"/api/v1/leads/{lead_id}", json=changes, headers=booth.marketer.headers
        )
        assert response.status_code == 200, response.json
    # The same visitor captured again at the booth on another lead id.
    _push(client, booth, [create_mutation(5, booth.staff.id, email=VISITOR)])
    _push(client, booth, [create_mutation(6, booth.staff.id, email="ann@new.example")])
    _deliver_all(dispatcher, smtp)
    assert dispatcher.run_once() == 0
    (job,) = _thank_you_jobs(app)
    assert str(job.lead_id) == lead_id
    assert len(_mails_to(smtp, VISITOR)) == 1
    assert _mails_to(smtp, "ann@new.example") == []


def test_consent_given_later_through_an_edit_sends_it_then(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    _enable(client, booth)
    lead = _capture(api, booth, consent={"given": False})
    assert _thank_you_jobs(app) == []
    response = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"consent": {"given": True, "version": 1}},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json
    (job,) = _thank_you_jobs(app)
    assert job.consent_version == 1 and job.target == VISITOR
    _deliver_all(dispatcher, smtp)
    assert len(_mails_to(smtp, VISITOR)) == 1


def test_consent_withdrawn_before_sending_stops_it(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    _enable(client, booth)
    lead = _capture(api, booth)
    response = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"consent": {"given": False}},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json
    _deliver_all(dispatcher, smtp)
    assert _mails_to(smtp, VISITOR) == []
    (job,) = _thank_you_jobs(app)
    assert job.status == JobStatus.DEAD and "consent withdrawn" in (job.last_error or "")


@pytest.fixture
def worker_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    """An SMTP recorder that `leadbridge worker` processes started afterwards send to."""
    with SmtpRecorder() as recorder:
        monkeypatch.setenv("LEADBRIDGE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LEADBRIDGE_SMTP_PORT", str(recorder.port))
        yield recorder


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set LEADBRIDGE_TEST_REDIS_URL (CI does)")
def test_a_worker_over_rq_sends_it_once(
    worker_smtp: SmtpRecorder,
    rq_app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    start_worker: Worker,
):
    _enable(client, booth)
    _capture(api, booth)
    start_worker()
    start_worker()
    worker_smtp.wait_for(2)  # the rep's alert and the visitor's thank-you
    # The mail arrives a moment before the worker records it as delivered.
    _wait_until(lambda: _thank_you_jobs(rq_app)[0].status == JobStatus.DELIVERED)
    time.sleep(0.5)  # room for a duplicate to show up, were there one
    assert len(_mails_to(worker_smtp, VISITOR)) == 1
    (job,) = _thank_you_jobs(rq_app)
    assert job.status == JobStatus.DELIVERED and job.consent_version == 1


def test_a_thank_you_being_sent_elsewhere_is_not_sent_again(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
):
    # Two RQ workers handed the same job (a lease ran out under load) must not both send it.
    _enable(client, booth)
    _capture(api, booth)
    (job,) = _thank_you_jobs(app)
    now = dispatcher.clock()
    with app.app_context():
        held = db.session.get_one(AlertJob, job.id)
        assert thank_you.reserve(held, now, dispatcher.lease) is True  # "another worker"
        dispatcher.deliver(job.id)  # this one finds it taken and leaves it
        held = db.session.get_one(AlertJob, job.id)
        assert thank_you.reserve(held, now, dispatcher.lease) is False
        # A mark older than the lease is from a worker that died: it may be taken over.
        later = now + dispatcher.lease + timedelta(seconds=1)
        assert thank_you.reserve(held, later, dispatcher.lease) is True
    assert _mails_to(smtp, VISITOR) == []
    (job,) = _thank_you_jobs(app)
    assert job.status == JobStatus.PENDING and job.attempts == 0
