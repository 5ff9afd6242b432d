"""Alert delivery by `leadbridge worker` processes over Redis and RQ.

Real parts: Redis (LEADBRIDGE_TEST_REDIS_URL), worker processes started with the real
command, a webhook receiver on loopback. Each test uses its own queue name.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.models import AlertJob, JobStatus
from server.db_types import utcnow
from server.extensions import db
from tests.helpers import ApiHelper, Booth, create_mutation
from tests.peers import WebhookReceiver, closed_port_url

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent

needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="needs Redis: set LEADBRIDGE_TEST_REDIS_URL (CI does)"
)

Worker = Callable[[], subprocess.Popen]


@pytest.fixture
def queue_name() -> str:
    return f"lbtest-alerts-{secrets.token_hex(4)}"


@pytest.fixture
def rq_app(app: Flask, queue_name: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app in RQ mode: alerts are enqueued, never sent by the web process."""
    monkeypatch.setitem(app.config, "LEADBRIDGE_REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "LEADBRIDGE_ALERT_QUEUE", queue_name)
    monkeypatch.setitem(app.config, "LEADBRIDGE_ALERT_LEASE_SECONDS", 2.0)
    return app


@pytest.fixture
def start_worker(
    database_url: str, queue_name: str, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start `leadbridge worker` processes on the test database; kill them all afterwards."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LEADBRIDGE_DATABASE_URL": database_url,
        "LEADBRIDGE_REDIS_URL": REDIS_URL or "",
        "LEADBRIDGE_ALERT_QUEUE": queue_name,
        "LEADBRIDGE_ALERT_LEASE_SECONDS": "2",
        "LEADBRIDGE_ALERT_TIMEOUT_SECONDS": "10",
        "LEADBRIDGE_SECRET_KEY": "test-secret-key",
        "LEADBRIDGE_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _alert_by_webhook_only(client: FlaskClient, booth: Booth, receiver: WebhookReceiver) -> None:
    alerts = {"email": False, "webhook_url": receiver.url("/hook"), "webhook_secret": "s"}
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"alerts": alerts},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200


def _jobs(app: Flask) -> list[AlertJob]:
    with app.app_context():
        jobs = list(db.session.scalars(sa.select(AlertJob).order_by(AlertJob.id)))
        db.session.expunge_all()
        return jobs


def _wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _hooked_leads(receiver: WebhookReceiver) -> list[str]:
    return [r.json["lead"]["id"] for r in receiver.requests if r.status == 200]


@needs_redis
def test_workers_deliver_each_alert_once(
    rq_app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient, start_worker: Worker
):
    with WebhookReceiver() as receiver:
        _alert_by_webhook_only(client, booth, receiver)
        start_worker()
        start_worker()
        leads = {
            api.capture(booth.tablet, booth.staff, email=f"w{i}@x.example")["id"] for i in range(6)
        }
        _wait_until(lambda: {job.status for job in _jobs(rq_app)} == {JobStatus.DELIVERED})
        time.sleep(0.5)  # room for a duplicate to show up, were there one
        assert sorted(_hooked_leads(receiver)) == sorted(leads)
        keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
        assert len(set(keys)) == len(keys) == 6


@needs_redis
def test_a_push_while_redis_is_down_is_stored_and_delivered_later(
    rq_app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    start_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
):
    with WebhookReceiver() as receiver:
        _alert_by_webhook_only(client, booth, receiver)
        monkeypatch.setitem(
            rq_app.config, "LEADBRIDGE_REDIS_URL", closed_port_url("/0").replace("http", "redis")
        )
        lead = api.capture(booth.tablet, booth.staff)  # asserts the push was answered 200
        (job,) = _jobs(rq_app)
        assert job.status == JobStatus.PENDING and job.lease_until is None  # free for the relay
        start_worker()  # the workers' Redis is up: their relay finds the job in the outbox
        _wait_until(lambda: _hooked_leads(receiver) == [lead["id"]])
        _wait_until(lambda: _jobs(rq_app)[0].status == JobStatus.DELIVERED)


@needs_redis
def test_a_worker_killed_mid_delivery_is_taken_over_with_the_same_idempotency_key(
    rq_app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient, start_worker: Worker
):
    with WebhookReceiver() as receiver:
        _alert_by_webhook_only(client, booth, receiver)
        receiver.delay_s = 5  # the first delivery hangs until the worker is gone
        first = start_worker()
        lead = api.capture(booth.tablet, booth.staff)
        receiver.wait_for(1, timeout=20)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert _jobs(rq_app)[0].status == JobStatus.PENDING
        receiver.delay_s = 0
        start_worker()
        _wait_until(lambda: _jobs(rq_app)[0].status == JobStatus.DELIVERED)
        requests = receiver.requests
        assert len(requests) >= 2
        assert {r.json["lead"]["id"] for r in requests} == {lead["id"]}
        assert len({r.headers["Idempotency-Key"] for r in requests}) == 1


def test_worker_refuses_to_start_without_redis(database_url: str, tmp_path: Path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "LEADBRIDGE_REDIS_URL"},
        "PYTHONPATH": str(ROOT),
        "LEADBRIDGE_DATABASE_URL": database_url,
        "LEADBRIDGE_INSTANCE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "worker", "--burst"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "LEADBRIDGE_REDIS_URL" in done.stderr


def test_a_job_queued_twice_is_taken_by_one_worker_only(app: Flask, api: ApiHelper, booth: Booth):
    from server.alerts.worker import _take

    api.capture(booth.tablet, booth.staff)
    job = _jobs(app)[0]
    with app.app_context():
        now = utcnow()
        first = _take(job.idempotency_key, job.lease_until, now, timedelta(seconds=60))
        second = _take(job.idempotency_key, job.lease_until, now, timedelta(seconds=60))
    assert first == job.id and second is None


@needs_redis
def test_crm_pushes_go_through_the_same_workers_once_each(
    rq_app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient, start_worker: Worker
):
    from tests.crm_peers import FakeHubSpot
    from tests.crm_setup import TOKEN, connect

    with WebhookReceiver() as receiver, FakeHubSpot(TOKEN) as hubspot:
        _alert_by_webhook_only(client, booth, receiver)
        connect(client, booth, "hubspot", hubspot.url)
        start_worker()
        start_worker()
        emails = [
            api.capture(booth.tablet, booth.staff, email=f"crm{i}@x.example")["email"]
            for i in range(6)
        ]
        _wait_until(lambda: {job.status for job in _jobs(rq_app)} == {JobStatus.DELIVERED})
        assert all(len(hubspot.by_email(email)) == 1 for email in emails)
        assert len(hubspot.notes) == 6


def _without_redis(app: Flask, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Run the app without RQ and give it a dispatcher wake to watch."""
    from server.alerts.queue import WAKE_EXTENSION

    monkeypatch.setitem(app.config, "LEADBRIDGE_REDIS_URL", None)
    wake = threading.Event()
    monkeypatch.setitem(app.extensions, WAKE_EXTENSION, wake)
    return wake


def test_a_released_savepoint_hands_nothing_on_before_the_commit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
):
    from server.alerts.queue import prepare_rows

    wake = _without_redis(app, monkeypatch)
    with app.app_context():
        with db.session.begin_nested():  # as every push applies its batch
            prepare_rows([])
        assert not wake.is_set(), "woken before the jobs' transaction committed"
        db.session.commit()
    assert wake.is_set()


def test_a_savepoint_rolled_back_keeps_what_the_transaction_owes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
):
    from server.alerts.queue import prepare_rows

    wake = _without_redis(app, monkeypatch)
    with app.app_context():
        prepare_rows([])
        with pytest.raises(RuntimeError), db.session.begin_nested():
            raise RuntimeError("one mutation failed; its savepoint is rolled back")
        db.session.commit()
    assert wake.is_set()


@needs_redis
def test_a_job_written_in_a_savepoint_is_queued_at_the_commit_not_before(
    rq_app: Flask, queue_name: str
):
    from server.alerts.queue import alert_queue, prepare_rows

    row = {"idempotency_key": f"test-{secrets.token_hex(4)}", "next_attempt_at": utcnow()}
    with rq_app.app_context():
        queue = alert_queue(rq_app)
        with db.session.begin_nested():
            prepare_rows([row])
        assert queue.count == 0, "queued while the row was not yet committed"
        db.session.commit()
        assert queue.count == 1
        queue.empty()


def _push_new_leads(client: FlaskClient, booth: Booth, count: int) -> set[str]:
    """Push count new leads of different people in one batch; return their ids."""
    mutations = [create_mutation(offset + 1, booth.staff.id, phone="") for offset in range(count)]
    response = client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )
    assert response.status_code == 200, response.json
    assert {result["outcome"] for result in response.json["results"]} == {"applied"}
    return {str(mutation["lead_id"]) for mutation in mutations}


@needs_redis
def test_a_pushed_batch_is_queued_ten_deliveries_a_task_and_each_is_delivered_once(
    rq_app: Flask, booth: Booth, client: FlaskClient, start_worker: Worker
):
    from server.alerts.queue import alert_queue

    with WebhookReceiver() as receiver:
        _alert_by_webhook_only(client, booth, receiver)
        leads = _push_new_leads(client, booth, 25)
        with rq_app.app_context():
            assert alert_queue(rq_app).count == 3  # 10 + 10 + 5
        start_worker()
        start_worker()
        _wait_until(lambda: {job.status for job in _jobs(rq_app)} == {JobStatus.DELIVERED})
        time.sleep(0.5)  # room for a duplicate to show up, were there one
        assert sorted(_hooked_leads(receiver)) == sorted(leads)


@needs_redis
def test_a_delivery_failing_unexpectedly_does_not_hold_back_the_rest_of_its_task(
    rq_app: Flask, booth: Booth, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    from server.alerts import worker
    from server.alerts.dispatcher import Dispatcher
    from server.alerts.queue import alert_queue

    with WebhookReceiver() as receiver:
        _alert_by_webhook_only(client, booth, receiver)
        (lead,) = _push_new_leads(client, booth, 1)
        (job,) = _jobs(rq_app)
        with rq_app.app_context():
            alert_queue(rq_app).empty()  # this test is the worker
        monkeypatch.setattr(worker, "_worker_app", rq_app)
        monkeypatch.setitem(rq_app.extensions, "leadbridge_dispatcher", Dispatcher(rq_app))
        # The first pair's lease is not a time: its delivery raises before it takes its job.
        with pytest.raises(ValueError):
            worker.deliver_alerts(
                [("no-such-job", "not a time"), (job.idempotency_key, job.lease_until.isoformat())]
            )
        assert _hooked_leads(receiver) == [lead]
        assert _jobs(rq_app)[0].status == JobStatus.DELIVERED
