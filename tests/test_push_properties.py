"""Property tests: no push batch, whatever its values, stops a tablet's sync.

Batches are generated from the sync schema's own field types (tests/strategies.py):
extreme times with offsets, huge and tiny numbers, long and odd Unicode text, every
optional field present or absent. For each:

- the server answers without a 5xx, and every mutation is applied or rejected with a
  reason of its own (never the generic one of an unexpected failure);
- through a real tablet store and sync client: the outbox drains, and every lead the
  server took comes back unchanged when a fresh tablet pulls it;
- through the alert path: every alert of the batch is rendered and sent.

The runs are bounded (max_examples, no per-example deadline) to stay within seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, JobStatus
from server.extensions import db
from server.leads.service import EDITABLE_FIELDS
from server.sync.push import UNEXPECTED_ERRORS
from sync.bounds import TIME_MESSAGE
from sync.client import SyncClient
from sync.store import CREATE_FIELDS, DeviceStore, LeadInvalid
from tests.alerting import Clock, smtp_for
from tests.helpers import ApiHelper, Booth
from tests.peers import SmtpRecorder, WebhookReceiver
from tests.strategies import as_utc, lead_fields

# Bounded and derandomised: the same examples every run, so CI neither slows down nor
# flickers; the strategies aim at the edges, so these examples reach them.
BOUNDED = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _batch(data: st.DataObject, client: FlaskClient, booth: Booth) -> list[dict[str, Any]]:
    """Draw a batch of creates, with now and then an edit of one of them."""
    leads = data.draw(st.lists(lead_fields(booth.event, booth.staff.id), min_size=1, max_size=5))
    changes = []
    for fields in leads:
        lead_id = str(uuid.uuid4())
        changes.append(("create", lead_id, fields))
        if data.draw(st.booleans()):
            other = data.draw(lead_fields(booth.event, booth.staff.id))
            changes.append(
                ("update", lead_id, {k: v for k, v in other.items() if k in EDITABLE_FIELDS})
            )
    # Numbered once drawn, after what the server has: an example hypothesis abandons
    # mid-draw leaves no hole.
    status = client.get("/api/v1/sync/status", headers=booth.tablet.headers).json
    first = status["last_mutation_id"] + 1
    return [
        {"mutation_id": first + offset, "kind": kind, "lead_id": lead_id, "fields": fields}
        for offset, (kind, lead_id, fields) in enumerate(changes)
    ]


def _push(client: FlaskClient, booth: Booth, mutations: list[dict[str, Any]]) -> list[dict]:
    """Push a batch; check the answer mutation by mutation and return the results."""
    response = client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["mutation_id"] for r in results] == [m["mutation_id"] for m in mutations]
    for result in results:
        assert result["outcome"] in ("applied", "rejected")
        if result["outcome"] == "rejected":
            assert result["errors"], "a rejection says why"
            assert result["errors"] != UNEXPECTED_ERRORS, result
    assert response.json["last_mutation_id"] == mutations[-1]["mutation_id"]
    return results


@BOUNDED
@given(data=st.data())
def test_any_push_batch_is_answered_mutation_by_mutation(
    booth: Booth, client: FlaskClient, data: st.DataObject
) -> None:
    _push(client, booth, _batch(data, client, booth))


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=3) as recorder:
        yield recorder


@BOUNDED
@given(data=st.data())
def test_any_push_batch_is_alerted_on_every_channel(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    receiver: WebhookReceiver,
    data: st.DataObject,
) -> None:
    if not booth.event.get("alerts", {}).get("webhook_url"):
        alerts = {
            "webhook_url": receiver.url("/hook"),
            "webhook_secret": "s",
            "chat_webhook_url": receiver.url("/chat"),
        }
        patched = client.patch(
            f"/api/v1/events/{booth.event['id']}",
            json={"alerts": alerts},
            headers=booth.marketer.headers,
        )
        assert patched.status_code == 200
        booth.event["alerts"] = patched.json["alerts"]
    mutations = _batch(data, client, booth)
    results = _push(client, booth, mutations)
    applied = {r["lead_id"] for r in results if r["outcome"] == "applied"}
    Dispatcher(app, clock=Clock()).run_once()
    with app.app_context():
        jobs = db.session.scalars(
            sa.select(AlertJob).where(AlertJob.lead_id.in_([uuid.UUID(i) for i in applied]))
        ).all()
        for job in jobs:
            # Rendered and sent; a visitor's address the mail server cannot take is the
            # one reason left to give up, and it is given as a reason, not a crash.
            assert job.status != JobStatus.PENDING, (job.kind, job.channel, job.last_error)
            if job.status == JobStatus.DEAD:
                assert job.kind.value == "thank_you" and "address" in job.last_error
            assert not (job.last_error or "").startswith("could not be sent"), job.last_error


def _comparable(lead: dict[str, Any]) -> dict[str, Any]:
    """Return a lead's create fields, its times as UTC instants."""
    fields = {name: lead[name] for name in CREATE_FIELDS}
    fields["captured_at"] = as_utc(fields["captured_at"])
    consent = dict(fields["consent"] or {})
    consent["at"] = as_utc(consent.get("at"))
    # No purposes named and an empty list of them say the same (the server sends the list).
    if not consent.get("purposes"):
        consent.pop("purposes", None)
    fields["consent"] = consent
    return fields


@BOUNDED
@given(data=st.data())
def test_a_tablet_drains_its_outbox_and_a_fresh_tablet_pulls_the_same_leads(
    api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path, data: st.DataObject
) -> None:
    # Each example is a tablet of its own, newly paired.
    tablet = api.tablet(booth.marketer, booth.event["id"])
    path = tmp_path / "tablet.sqlite3"
    store = DeviceStore(path)
    store.set_pairing(live_server, tablet.id, booth.event["id"], tablet.token, booth.event)
    fresh = DeviceStore(tmp_path / f"fresh-{uuid.uuid4().hex}.sqlite3")
    try:
        saved: dict[str, dict[str, Any]] = {}
        for fields in data.draw(st.lists(lead_fields(booth.event, booth.staff.id), max_size=5)):
            try:
                lead_id = store.save_lead(fields)
            except LeadInvalid as refused:
                # Refused at save time, with the reasons to show.
                assert refused.errors and all(refused.errors.values())
                continue
            if data.draw(st.booleans()):
                other = data.draw(lead_fields(booth.event, booth.staff.id))
                edit = {k: v for k, v in other.items() if k in EDITABLE_FIELDS}
                try:
                    store.update_lead(lead_id, edit)
                except LeadInvalid as refused:
                    assert refused.errors
            saved[lead_id] = store.get_lead(lead_id)
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()
        assert store.outbox_size() == 0, "the outbox drains"
        taken = []
        for lead_id in saved:
            lead = store.get_lead(lead_id)
            assert lead is not None and lead["sync_state"] in ("uploaded", "rejected")
            if lead["sync_state"] == "rejected":
                assert lead["rejected_errors"] and lead["rejected_errors"] != UNEXPECTED_ERRORS
                # The tablet holds the server's bounds: what breaks them never leaves it.
                assert TIME_MESSAGE not in str(lead["rejected_errors"]), lead["rejected_errors"]
            else:
                taken.append(lead_id)
        fresh.set_pairing(live_server, tablet.id, booth.event["id"], tablet.token)
        with SyncClient(fresh, timeout=10.0) as sync:
            sync.pull()
        pulled = {lead_id: fresh.get_lead(lead_id) for lead_id in taken}
        merged = {lead["merged_into_id"] for lead in pulled.values() if lead}
        for lead_id in taken:
            lead = pulled[lead_id]
            assert lead is not None, "every lead the server took is pulled"
            if lead["merged_into_id"] or lead_id in merged:
                continue  # the same person captured twice: merging changes the first
            assert _comparable(lead) == _comparable(saved[lead_id])
    finally:
        store.close()
        fresh.close()
        path.unlink()
