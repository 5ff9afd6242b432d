"""Pipedrive end to end: persons, notes and a deal on a loopback Pipedrive; deal outcomes back.

The loopback server (tests/crm_peers.py) answers as Pipedrive's REST API v1 reference
documents, with the bodies of tests/contracts/pipedrive.json; the connector uses requests.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import JobStatus
from server.crm.models import CrmConnection
from server.extensions import db
from server.leads.models import Lead, LeadStatus
from tests.alerting import Clock
from tests.crm_peers import FakePipedrive
from tests.crm_setup import (
    TOKEN,
    connect,
    crm_jobs,
    deliver_until_settled,
    smtp,  # noqa: F401 (the dispatcher's fixture)
)
from tests.helpers import ApiHelper, Booth


@pytest.fixture
def pipedrive(booth: Booth) -> Iterator[FakePipedrive]:
    with FakePipedrive(TOKEN, hang_seconds=1.5) as fake:
        fake.rep_user = fake.add_user(booth.rep.email)
        yield fake


@pytest.fixture
def connected(client: FlaskClient, booth: Booth, pipedrive: FakePipedrive) -> dict:
    return connect(client, booth, "pipedrive", pipedrive.url, webhook_secret="hook:pass-9")


def test_a_lead_becomes_a_person_with_a_note_and_one_deal(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    pipedrive: FakePipedrive,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    [person_id] = pipedrive.by_email(lead["email"])
    person = pipedrive.persons[person_id]
    assert person["name"] == "Ann Example" and person["owner_id"] == pipedrive.rep_user
    assert person["phone"][0]["value"] == lead["phone"]
    [note] = pipedrive.notes
    assert note["person_id"] == person_id and "Budget?: Yes" in note["content"]
    [deal] = pipedrive.deals.values()
    assert (deal["title"], deal["person_id"], deal["user_id"]) == (
        "TEST-26",
        person_id,
        pipedrive.rep_user,
    )
    assert all(c.query["api_token"] == [TOKEN] for c in pipedrive.calls())

    edited = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"job_title": "CEO"}, headers=booth.marketer.headers
    )
    assert edited.status_code == 200
    deliver_until_settled(dispatcher, clock)
    assert pipedrive.by_email(lead["email"]) == [person_id]
    assert pipedrive.persons[person_id]["job_title"] == "CEO"
    assert len(pipedrive.deals) == 1, "the person's deal is opened once"


def test_a_timeout_after_the_create_does_not_make_a_second_person(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    pipedrive: FakePipedrive,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    dispatcher.run_once()
    pipedrive.fail_only, pipedrive.fail_next = "POST /v1/persons", ["timeout"]
    lead = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.PENDING
    time.sleep(1.2)
    deliver_until_settled(dispatcher, clock)
    assert len(pipedrive.by_email(lead["email"])) == 1
    assert len(pipedrive.persons) == 1


def test_a_429_waits_for_retry_after(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    pipedrive: FakePipedrive,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    dispatcher.run_once()
    pipedrive.contract["rate_limited"]["response"]["headers"]["Retry-After"] = "40"
    pipedrive.fail_only, pipedrive.fail_next = "GET /v1/persons/search", ["429"]
    api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    with app.app_context():
        [job] = crm_jobs()
        assert job.next_attempt_at >= clock() + timedelta(seconds=39)


def _basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def test_deal_outcomes_come_back_by_poll_and_by_basic_auth_webhook(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    pipedrive: FakePipedrive,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    won, lost = api.capture(booth.tablet, booth.staff), api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    dispatcher.run_once()
    deal_of = {d["person_id"]: d["id"] for d in pipedrive.deals.values()}
    pipedrive.page_size = 1  # the poll must follow the pages
    pipedrive.close_deal(deal_of[pipedrive.by_email(won["email"])[0]], "won", value=3000)
    pipedrive.close_deal(deal_of[pipedrive.by_email(lost["email"])[0]], "lost", reason="No budget")
    body = pipedrive.contract["webhook_event"]["request"]["body"]
    path = connected["webhook_path"]
    assert client.post(path, json=body, headers=_basic("hook:wrong")).status_code == 401
    assert client.post(path, json=body).status_code == 401
    with app.app_context():
        assert db.session.scalar(db.select(CrmConnection.polled_at)) is not None
    assert client.post(path, json=body, headers=_basic("hook:pass-9")).status_code == 204
    dispatcher.run_once()
    with app.app_context():
        leads = {str(lead.id): lead for lead in db.session.scalars(db.select(Lead))}
        assert leads[won["id"]].status == LeadStatus.WON
        assert str(leads[won["id"]].deal_value) == "3000.00"
        assert leads[lost["id"]].status == LeadStatus.LOST
        assert leads[lost["id"]].status_reason == "No budget"
    assert len(pipedrive.calls("GET", "/v1/recents")) >= 2
