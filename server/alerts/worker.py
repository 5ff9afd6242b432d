"""``leadbridge worker``: deliver alerts from the RQ queue, and relay what the queue missed.

Each worker process runs an RQ SimpleWorker (no fork per job, so a delivery starts within
milliseconds of the push that caused it) and, in a thread, a relay: the dispatcher's
round of escalations and due jobs, which enqueues instead of delivering. The relay is
what makes Redis a fast path rather than the record: retries whose backoff has passed,
jobs whose worker died mid-delivery (their lease ran out) and jobs that never reached
Redis are all found in the outbox and enqueued again. Any number of workers may run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from rq import SimpleWorker
from sqlalchemy import bindparam, select, update

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import AlertJob, JobStatus
from server.alerts.queue import alert_queue, enqueue
from server.extensions import db
from server.ops.logs import describe_error

log = logging.getLogger(__name__)

_worker_app: Flask | None = None


class Relay(Dispatcher):
    """A dispatcher round that hands claimed jobs to the RQ queue instead of sending them."""

    def handle(self, claimed: list[int]) -> None:
        """Enqueue the claimed jobs by idempotency key."""
        if claimed:
            leased = db.session.execute(
                select(AlertJob.idempotency_key, AlertJob.lease_until).where(
                    AlertJob.id.in_(claimed)
                )
            ).all()
            enqueue(self.app, [(key, lease) for key, lease in leased])


_JOBS = AlertJob.__table__
# Every delivery runs it: built once, and on the table (Core), which costs a fraction of
# the ORM's bulk UPDATE (docs/performance.md).
_TAKE = (
    update(_JOBS)
    .where(_JOBS.c.idempotency_key == bindparam("job_key"))
    .where(_JOBS.c.status == JobStatus.PENDING)
    .where(_JOBS.c.lease_until.is_not_distinct_from(bindparam("queued_lease")))
    .values(lease_until=bindparam("new_lease"))
    .returning(_JOBS.c.id)
)


def _take(job_key: str, queued_lease: datetime, now: datetime, lease: timedelta) -> int | None:
    """Take a pending job for this delivery; return its id, or None if settled or taken.

    A compare-and-set on the lease the job had when it was queued: if another worker
    took it since (the same job queued twice), the lease has changed and this one skips.
    """
    taken = db.session.execute(
        _TAKE, {"job_key": job_key, "queued_lease": queued_lease, "new_lease": now + lease}
    ).scalar()
    db.session.commit()
    return taken


def deliver_alerts(leased: list[tuple[str, str]]) -> None:
    """Deliver outbox jobs by (idempotency key, queued lease), one after another (the RQ task).

    One failing unexpectedly does not hold back the rest; the first such error is raised
    at the end, so RQ records the task as failed (the outbox still holds that job: its
    lease runs out and the relay queues it again).
    """
    failed: Exception | None = None
    for job_key, queued_lease in leased:
        try:
            deliver_alert(job_key, queued_lease)
        except Exception as error:  # noqa: BLE001 - raised below, once the others are done
            log.error("Alert job delivery failed unexpectedly: %s", describe_error(error))
            failed = failed or error
    if failed is not None:
        raise failed


def deliver_alert(job_key: str, queued_lease: str) -> None:
    """Deliver the outbox job with this idempotency key (the RQ task of earlier versions)."""
    if _worker_app is None:
        raise RuntimeError("deliver_alert runs inside `leadbridge worker`")
    dispatcher = _worker_app.extensions["leadbridge_dispatcher"]
    with _worker_app.app_context():
        job_id = _take(
            job_key, datetime.fromisoformat(queued_lease), dispatcher.clock(), dispatcher.lease
        )
        if job_id is not None:
            dispatcher.deliver(job_id)


def run_worker(app: Flask, *, burst: bool = False, relay_seconds: float = 0.5) -> None:
    """Work the alert queue until stopped (or, with burst, until it is empty)."""
    global _worker_app
    _worker_app = app
    app.extensions["leadbridge_dispatcher"] = Dispatcher(app)
    relay = Relay(app, poll_seconds=relay_seconds)
    relay.start()
    queue = alert_queue(app)
    try:
        worker = SimpleWorker([queue], connection=queue.connection)
        worker.work(burst=burst, logging_level="WARNING")
    finally:
        relay.stop()
