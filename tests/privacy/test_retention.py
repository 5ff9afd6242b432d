"""Per-event retention: idle leads of an ended event are erased after retention_days."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.cli import retention
from server.extensions import db
from server.leads.models import Lead
from server.privacy.models import AuditEntry, LeadTombstone
from server.privacy.retention import erase_expired
from tests.helpers import ApiHelper, Booth

# event_body(): the show ends on 2026-11-25.
LAST_KEPT_DAY = date(2026, 12, 25)  # 30 days after the last day


def _leads(app: Flask) -> set[str]:
    with app.app_context():
        return {str(lead_id) for lead_id in db.session.scalars(sa.select(Lead.id))}


def test_idle_leads_go_after_the_retention_period_worked_ones_stay(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    url = f"/api/v1/privacy/events/{booth.event['id']}/retention"
    assert client.get(url, headers=booth.marketer.headers).json == {"retention_days": None}
    assert (
        client.put(url, json={"retention_days": -1}, headers=booth.admin.headers).status_code == 422
    )
    response = client.put(url, json={"retention_days": 30}, headers=booth.marketer.headers)
    assert response.status_code == 200 and response.json == {"retention_days": 30}
    idle = api.capture(booth.tablet, booth.staff, email="idle@example.com")
    worked = api.capture(booth.tablet, booth.staff, email="worked@example.com")
    acted = client.patch(
        f"/api/v1/leads/{worked['id']}", json={"status": "contacted"}, headers=booth.rep.headers
    )
    assert acted.status_code == 200, acted.json
    other_event = api.event(booth.marketer)
    other_tablet = api.tablet(booth.marketer, other_event["id"])
    api.add_member(booth.marketer, other_event["id"], booth.staff.id)
    elsewhere = api.capture(other_tablet, booth.staff, email="elsewhere@example.com")

    with app.app_context():
        assert erase_expired(LAST_KEPT_DAY) == []
    assert idle["id"] in _leads(app)

    with app.app_context():
        done = erase_expired(date(2026, 12, 26))
    assert done == [{"event_id": booth.event["id"], "leads_erased": 1}]
    assert idle["id"] not in _leads(app)
    assert {worked["id"], elsewhere["id"]} <= _leads(app)  # no retention set there
    with app.app_context():
        tombstone = db.session.get(LeadTombstone, uuid.UUID(idle["id"]))
        assert tombstone is not None and tombstone.reason.value == "retention"
        actions = [e.action.value for e in db.session.scalars(sa.select(AuditEntry))]
        assert actions.count("retention") == 1 and actions.count("retention_setting") == 1


def test_the_retention_command_runs_the_same_job(
    app: Flask, api: ApiHelper, client: FlaskClient, booth: Booth
) -> None:
    client.put(
        f"/api/v1/privacy/events/{booth.event['id']}/retention",
        json={"retention_days": 0},
        headers=booth.admin.headers,
    )
    lead = api.capture(booth.tablet, booth.staff)

    runner = app.test_cli_runner()
    bad = runner.invoke(retention, ["--today", "yesterday"])
    assert bad.exit_code != 0 and lead["id"] in _leads(app)
    result = runner.invoke(retention, ["--today", "2026-11-26"])

    assert result.exit_code == 0, result.output
    assert f"event {booth.event['id']}: erased 1 leads" in result.output
    assert "example" not in result.output.lower()
    assert lead["id"] not in _leads(app)
