"""One mutation or alert that cannot be handled costs that one alone, never the rest.

A mutation failing for an unexpected reason (a bug, a constraint, a conversion) is
rejected with a generic reason, its payload kept, logged once by mutation id; the rest of
its batch is applied (docs/sync-protocol.md). An alert job that cannot be
rendered or sent for such a reason is dead-lettered at once, with the reason.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import dispatcher as dispatcher_module
from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, JobStatus
from server.extensions import db
from server.leads.models import Lead
from server.routing.router import Router
from server.sync.models import MutationReceipt
from server.sync.push import UNEXPECTED_ERRORS
from tests.alerting import smtp_for
from tests.dbfaults import POISON, notes_refused_by_the_database
from tests.helpers import ApiHelper, Booth, Tablet, create_mutation
from tests.peers import SmtpRecorder


def _push(client: FlaskClient, tablet: Tablet, mutations: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/sync/push", json={"mutations": mutations}, headers=tablet.headers)


@pytest.fixture
def notes_refused(app: Flask) -> Iterator[None]:
    with notes_refused_by_the_database(app):
        yield


def _receipt(app: Flask, tablet: Tablet, mutation_id: int) -> MutationReceipt:
    with app.app_context():
        return db.session.get_one(MutationReceipt, (tablet.id, mutation_id))


def _stored_ids(app: Flask) -> set[str]:
    with app.app_context():
        return {str(lead_id) for lead_id in db.session.scalars(sa.select(Lead.id))}


def test_a_mutation_the_database_refuses_is_rejected_alone(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    notes_refused: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 6)]
    mutations[2]["fields"]["notes"] = POISON
    response = _push(client, booth.tablet, mutations)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["outcome"] for r in results] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
    ]
    assert results[2]["errors"] == UNEXPECTED_ERRORS
    assert response.json["last_mutation_id"] == 5
    good = {m["lead_id"] for i, m in enumerate(mutations) if i != 2}
    assert _stored_ids(app) == good
    # The payload is kept for an administrator, as sent.
    receipt = _receipt(app, booth.tablet, 3)
    assert receipt.outcome == "rejected"
    assert json.loads(receipt.payload) == mutations[2]["fields"]
    # Logged once, by mutation id and request id, naming no one.
    reports = [r for r in caplog.records if "Mutation 3 " in r.getMessage()]
    assert len(reports) == 1 and reports[0].levelno == logging.ERROR
    assert reports[0].request_id == response.headers["X-Request-ID"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r not in reports]
    # A replay repeats the rejection; the queue carries on after it.
    replay = _push(client, booth.tablet, mutations[2:3]).json["results"][0]
    assert replay["outcome"] == "rejected" and replay["replayed"]
    assert replay["errors"] == UNEXPECTED_ERRORS


def test_an_edit_the_database_refuses_is_rejected_alone(
    app: Flask, booth: Booth, client: FlaskClient, notes_refused: None
) -> None:
    creates = [create_mutation(i, booth.staff.id) for i in (1, 2)]
    assert _push(client, booth.tablet, creates).status_code == 200
    edits = [
        {"mutation_id": 3, "kind": "update", "lead_id": creates[0]["lead_id"], "fields": {}},
        {"mutation_id": 4, "kind": "update", "lead_id": creates[1]["lead_id"], "fields": {}},
    ]
    edits[0]["fields"] = {"notes": POISON, "company": "Changed One"}
    edits[1]["fields"] = {"company": "Changed Two"}
    response = _push(client, booth.tablet, edits)
    assert response.status_code == 200, response.json
    assert [r["outcome"] for r in response.json["results"]] == ["rejected", "applied"]
    with app.app_context():
        companies = dict(db.session.execute(sa.select(Lead.id, Lead.company)).all())
    by_id = {str(key): value for key, value in companies.items()}
    assert by_id[creates[0]["lead_id"]] == "Example GmbH"  # nothing of the refused edit
    assert by_id[creates[1]["lead_id"]] == "Changed Two"


def test_a_bug_met_by_one_lead_rejects_that_lead_alone(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_route = Router.route

    def route(self: Router, lead: dict[str, Any]) -> Any:
        if lead["company"] == "Crash Co":
            raise KeyError("a bug in routing")
        return real_route(self, lead)

    monkeypatch.setattr(Router, "route", route)
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 5)]
    for index in (0, 3):
        mutations[index]["fields"]["company"] = "Crash Co"
    response = _push(client, booth.tablet, mutations)
    assert response.status_code == 200
    outcomes = [r["outcome"] for r in response.json["results"]]
    assert outcomes == ["rejected", "applied", "applied", "rejected"]
    assert _stored_ids(app) == {mutations[1]["lead_id"], mutations[2]["lead_id"]}


def test_a_lost_database_connection_fails_the_push_and_rejects_nothing(
    app: Flask, booth: Booth, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Retrying can fix that: the push fails as a whole and the tablet sends it again.
    def route(self: Router, lead: dict[str, Any]) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    real_route = Router.route
    monkeypatch.setattr(Router, "route", route)
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 4)]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        failed = _push(client, booth.tablet, mutations)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert failed.status_code >= 500
    monkeypatch.setattr(Router, "route", real_route)
    retried = _push(client, booth.tablet, mutations)
    assert [r["outcome"] for r in retried.json["results"]] == ["applied"] * 3
    assert not retried.json["results"][0]["replayed"]


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=5) as recorder:
        yield recorder


def test_an_alert_that_cannot_be_rendered_is_dead_lettered_at_once_and_delays_no_other(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    doomed = api.capture(booth.tablet, booth.staff, first_name="Ottilie", last_name="Unsendbar")
    fine = api.capture(booth.tablet, booth.staff)
    # Stored before times were bounded (sync/bounds.py): in the event's zone (Berlin)
    # this instant falls after year 9999, so no message can show it.
    with app.app_context():
        db.session.execute(
            sa.update(Lead)
            .where(Lead.id == uuid.UUID(doomed["id"]))
            .values(captured_at=datetime(9999, 12, 31, 23, 30, tzinfo=UTC))
        )
        db.session.commit()
    assert dispatcher.run_once() == 2
    with app.app_context():
        jobs = {str(job.lead_id): job for job in db.session.scalars(sa.select(AlertJob)).all()}
        dead, delivered = jobs[doomed["id"]], jobs[fine["id"]]
        assert dead.status == JobStatus.DEAD and dead.attempts == 1
        assert dead.last_error.startswith("could not be sent: OverflowError at server/alerts/")
        assert delivered.status == JobStatus.DELIVERED
    smtp.wait_for(1)
    assert len(smtp.messages) == 1
    reports = [r for r in caplog.records if "dead-lettered" in r.getMessage()]
    assert len(reports) == 1
    assert not any("Unsendbar" in r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert dispatcher.run_once() == 0, "a dead letter is not tried again"


def test_a_bug_met_by_one_alert_dead_letters_that_alert_alone(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_render = dispatcher_module.render_alert

    def render(context: dict[str, Any], *args: Any) -> Any:
        if context["lead"]["company"] == "Crash Co":
            raise KeyError("a bug in rendering")
        return real_render(context, *args)

    monkeypatch.setattr(dispatcher_module, "render_alert", render)
    first = api.capture(booth.tablet, booth.staff, company="Crash Co")
    second = api.capture(booth.tablet, booth.staff)
    assert dispatcher.run_once() == 2
    with app.app_context():
        status = {
            str(job.lead_id): job.status for job in db.session.scalars(sa.select(AlertJob)).all()
        }
    assert status == {first["id"]: JobStatus.DEAD, second["id"]: JobStatus.DELIVERED}
