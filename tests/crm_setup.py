"""Shared pieces of the CRM tests: quick CRM timeouts, connect to a loopback CRM, run deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, AlertKind
from server.extensions import db
from tests.alerting import Clock, smtp_for
from tests.helpers import Booth
from tests.peers import SmtpRecorder

TOKEN = "pat-test-token"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    """Deliver the reps' alert emails to a loopback recorder; CRM calls time out quickly."""
    monkeypatch.setitem(app.config, "LEADBRIDGE_CRM_TIMEOUT_SECONDS", 0.5)
    with smtp_for(app, monkeypatch, max_attempts=5) as recorder:
        yield recorder


def connect(
    client: FlaskClient, booth: Booth, kind: str, url: str, **fields: Any
) -> dict[str, Any]:
    """Connect the booth's event to the CRM at url through the API; return the answer."""
    body = {"kind": kind, "base_url": url, "token": TOKEN, **fields}
    response = client.put(
        f"/api/v1/events/{booth.event['id']}/crm", json=body, headers=booth.marketer.headers
    )
    assert response.status_code == 200, response.json
    return response.json


def crm_jobs() -> list[AlertJob]:
    """Return every CRM outbox job."""
    return list(
        db.session.scalars(
            db.select(AlertJob).where(AlertJob.kind == AlertKind.CRM_SYNC).order_by(AlertJob.id)
        )
    )


def deliver_until_settled(
    dispatcher: Dispatcher, clock: Clock, rounds: int = 12, step: float = 70.0
) -> None:
    """Run dispatcher rounds, moving the clock past every backoff, until no CRM job is pending."""
    for _ in range(rounds):
        dispatcher.run_once()
        with dispatcher.app.app_context():
            if all(job.status != "pending" for job in crm_jobs()):
                return
        clock.advance(seconds=step)
