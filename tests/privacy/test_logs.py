"""No personal data in logs or stored alert errors, over a full capture -> sync -> alert run."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob
from server.extensions import db
from server.leads.models import Lead
from server.privacy.scrub import install_log_scrubbing, scrub
from sync.client import SyncClient
from sync.store import DeviceStore
from tests.alerting import Clock, smtp_for
from tests.dbfaults import POISON, notes_refused_by_the_database
from tests.helpers import ApiHelper, Booth, create_mutation
from tests.peers import SmtpRecorder, WebhookReceiver

VISITORS = [
    {
        "first_name": "Ottilie",
        "last_name": "Brandstetter",
        "email": "ottilie.brandstetter@logs.example",
        "phone": "030 55501234",
        "company": "Brandstetter Mühle",
        "notes": "Ottilie prefers calls before noon",
    },
    {
        "first_name": "Kasimir",
        "last_name": "Wendeburg",
        "email": "k.wendeburg@logs.example",
        "phone": "+44 20 7946 0958",
        "company": "Wendeburg Ltd",
        "notes": None,
    },
]
SECRETS = [
    "Ottilie",
    "Brandstetter",
    "ottilie.brandstetter@logs.example",
    "+493055501234",
    "55501234",
    "Kasimir",
    "Wendeburg",
    "k.wendeburg@logs.example",
    "+442079460958",
    "7946 0958",
]


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch, max_attempts=2) as recorder:
        yield recorder


def test_scrubbing_rewrites_emails_and_phones_in_any_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_scrubbing()
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("some.library")
    logger.info("sending to %s at %s", "ann@example.com", "+49 30 1234567")
    try:
        raise ValueError("bad address bob@example.org")
    except ValueError:
        logger.exception("failed for 030 1234567")
    text = caplog.text
    assert "ann@example.com" not in text and "bob@example.org" not in text
    assert "1234567" not in text
    assert text.count("[email]") >= 2 and text.count("[phone]") == 2
    assert scrub("at 2026-11-23 10:00:00, 12 leads") == "at 2026-11-23 10:00:00, 12 leads"


def test_a_full_capture_sync_alert_run_logs_no_personal_data(
    app: Flask,
    api: ApiHelper,
    client: FlaskClient,
    booth: Booth,
    live_server: str,
    smtp: SmtpRecorder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver() as receiver:
        alerts = {"webhook_url": receiver.url("/hook"), "webhook_secret": "s"}
        patched = client.patch(
            f"/api/v1/events/{booth.event['id']}",
            json={"alerts": alerts},
            headers=booth.marketer.headers,
        )
        assert patched.status_code == 200
        receiver.fail_with = 500
        store = DeviceStore(tmp_path / "tablet.sqlite3")
        try:
            store.set_pairing(
                live_server, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event
            )
            for visitor in VISITORS:
                store.save_lead(
                    {**visitor, "captured_by_id": booth.staff.id, "answers": {"budget": True}}
                )
            # One the server rejects: its reasons travel back, but must not quote the person.
            store.save_lead({**VISITORS[0], "captured_by_id": 999_999, "answers": {"budget": True}})
            with SyncClient(store, timeout=10.0) as sync:
                sync.sync_once()
                assert store.counts()["rejected"] == 1
                clock = Clock()
                dispatcher = Dispatcher(app, clock=clock)
                for _ in range(3):
                    dispatcher.run_once()
                    clock.now += timedelta(minutes=11)
                smtp.wait_for(2)
                with app.app_context():
                    doomed = {
                        job.id: job.status.value
                        for job in db.session.scalars(
                            sa.select(AlertJob)
                            .join(Lead, Lead.id == AlertJob.lead_id)
                            .where(Lead.email == VISITORS[1]["email"])
                        )
                    }
                # Erasure reaches delivered and dead-lettered alerts alike.
                assert {"dead", "delivered"} <= set(doomed.values())
                erased = client.post(
                    "/api/v1/privacy/erase",
                    json={"email": VISITORS[1]["email"], "confirm": True},
                    headers=booth.admin.headers,
                )
                assert erased.status_code == 200
                sync.sync_once()
        finally:
            store.close()

    with app.app_context():
        jobs = db.session.scalars(sa.select(AlertJob)).all()
        errors = [job.last_error for job in jobs if job.last_error]
        assert not {job.id for job in jobs} & set(doomed)
    assert errors, "the failing webhook left error messages"
    # aiosmtpd's "mail.log" is the test's peer, the rep's mail server, reading the alert
    # it received; every other record comes from leadbridge and the libraries it uses.
    records = [record for record in caplog.records if not record.name.startswith("mail.")]
    assert len(records) > 10, "the run logged"
    assert any(record.name.startswith("server.") for record in records)
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (record.name, secret)
    for error in errors:
        for secret in SECRETS:
            assert secret.lower() not in error.lower(), secret


def _assert_no_visitor_in(records: list[logging.LogRecord], visitors: list[dict]) -> None:
    secrets = [*SECRETS, *(v["notes"] for v in visitors if v.get("notes"))]
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in secrets:
            assert secret.lower() not in text.lower(), (record.name, secret, text[:300])


POISONED = {**VISITORS[1], "notes": f"Kasimir {POISON}: call after the show"}


def test_a_push_failing_inside_the_database_logs_no_personal_data(
    app: Flask, booth: Booth, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fields = [VISITORS[0], POISONED]
    mutations = [
        create_mutation(i, booth.staff.id, **visitor) for i, visitor in enumerate(fields, 1)
    ]
    with notes_refused_by_the_database(app):
        response = client.post(
            "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
        )
    assert response.status_code == 200
    assert [r["outcome"] for r in response.json["results"]] == ["applied", "rejected"]
    assert any(r.levelno == logging.ERROR for r in caplog.records), "the failure was logged"
    _assert_no_visitor_in(caplog.records, [*VISITORS, POISONED])


def test_a_database_error_and_its_causes_quote_no_row_in_any_log(
    app: Flask, api: ApiHelper, booth: Booth, caplog: pytest.LogCaptureFixture
) -> None:
    # Whoever logs a database error with its traceback (Flask on a 500, a library, a
    # job runner): neither its parameters nor PostgreSQL's "Failing row" reach the log.
    caplog.set_level(logging.DEBUG)
    lead = api.capture(booth.tablet, booth.staff, **VISITORS[0])
    with notes_refused_by_the_database(app), app.app_context():
        try:
            db.session.execute(
                sa.update(Lead)
                .where(Lead.id == uuid.UUID(lead["id"]))
                .values(last_name=VISITORS[0]["last_name"], notes=POISONED["notes"])
            )
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            try:
                raise RuntimeError("saving the lead failed") from error
            except RuntimeError:
                logging.getLogger("some.library").exception("unexpected error")
        else:
            pytest.fail("the database refused nothing")
    (record,) = [r for r in caplog.records if r.name == "some.library"]
    assert "saving the lead failed" in record.exc_text and "IntegrityError" in record.exc_text
    _assert_no_visitor_in(caplog.records, [*VISITORS, POISONED])


def test_scrubbing_covers_chained_causes_and_database_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_scrubbing()
    caplog.set_level(logging.DEBUG)
    try:
        try:
            raise ValueError(
                "DETAIL:  Failing row contains (1, Ottilie, Brandstetter, ann@example.com).\n"
                "[parameters: {'first_name': 'Ottilie'}]"
            )
        except ValueError as cause:
            raise KeyError("lead") from cause
    except KeyError:
        logging.getLogger("some.library").exception("failed")
    (record,) = caplog.records
    assert "ValueError" in record.exc_text, "the cause is shown"
    for secret in ("Ottilie", "Brandstetter", "ann@example.com"):
        assert secret not in record.exc_text
