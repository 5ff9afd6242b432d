"""Hand alert jobs to Redis/RQ workers when LEADBRIDGE_REDIS_URL is set.

The outbox table stays the record of what is owed. In RQ mode a new job is written
with a short lease, and once the transaction that wrote it commits its idempotency
key is put on the RQ queue, so a ``leadbridge worker`` delivers it within moments.
If Redis is unreachable at that moment nothing is lost: the lease runs out and a
worker's relay (server/alerts/worker.py) finds the job in the outbox and enqueues it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event, update
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# (key, lease) of jobs written in the current transaction, to enqueue once it commits.
_PENDING = "leadbridge_alert_keys"
_WAKE = "leadbridge_alert_wake"
# Where a running in-process dispatcher keeps the event that wakes it.
WAKE_EXTENSION = "leadbridge_dispatcher_wake"
TASK = "server.alerts.worker.deliver_alerts"
# Deliveries per RQ job. A job costs the pushing request about as much Python as a lead's
# validation (RQ's job hash, its serialisation, the commands), so a batch of 100 leads
# goes as 10 jobs: ten workers can still share it, and a lead waits for at most nine
# deliveries before its own.
DELIVERIES_PER_TASK = 10


def rq_enabled(app: Flask) -> bool:
    """Return whether alerts go through Redis and RQ workers rather than the server process."""
    return bool(app.config.get("LEADBRIDGE_REDIS_URL"))


def alert_queue(app: Flask) -> Queue:
    """Return the app's RQ queue of alert deliveries (one Redis connection pool per app)."""
    url, name = app.config["LEADBRIDGE_REDIS_URL"], app.config["LEADBRIDGE_ALERT_QUEUE"]
    queues = app.extensions.setdefault("leadbridge_alert_queues", {})
    if (url, name) not in queues:
        connection = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        queues[url, name] = Queue(name, connection=connection)
    return queues[url, name]


def prepare_rows(rows: list[dict[str, Any]]) -> None:
    """Lease new outbox rows to the workers and remember their keys for after the commit.

    Without Redis, remember only that the in-process dispatcher should wake after it.
    """
    if not has_app_context():
        return
    from server.extensions import db

    if not rq_enabled(current_app):
        db.session.info[_WAKE] = True
        return

    # Leased so the relay leaves them to the workers; taken back at once if Redis fails.
    lease = timedelta(seconds=current_app.config["LEADBRIDGE_ALERT_LEASE_SECONDS"])
    for row in rows:
        row["lease_until"] = row["next_attempt_at"] + lease
    db.session.info.setdefault(_PENDING, []).extend(
        (row["idempotency_key"], row["lease_until"]) for row in rows
    )


def queue_after_commit(app: Flask, key: str, now: datetime) -> datetime | None:
    """Have a re-armed outbox job delivered once this transaction commits; return its lease.

    Like prepare_rows() for a job row that already exists (server/crm/outbox.py).
    """
    from server.extensions import db

    if not rq_enabled(app):
        db.session.info[_WAKE] = True
        return None
    lease = now + timedelta(seconds=app.config["LEADBRIDGE_ALERT_LEASE_SECONDS"])
    db.session.info.setdefault(_PENDING, []).append((key, lease))
    return lease


def enqueue(app: Flask, leased: Iterable[tuple[str, datetime]]) -> int:
    """Put deliveries on the queue; return how many went. A Redis failure is logged, not raised.

    Each goes with the lease its job had when queued: the worker takes the job only if
    that lease is unchanged, so a job queued twice is delivered by one worker.
    """
    leased = list(leased)
    if not leased:
        return 0
    keys = [key for key, _lease in leased]
    queue = alert_queue(app)
    pairs = [(key, lease.isoformat()) for key, lease in leased]
    jobs = [
        Queue.prepare_data(
            TASK,
            args=(pairs[start : start + DELIVERIES_PER_TASK],),
            result_ttl=0,
            failure_ttl=86400,
            timeout=120 * DELIVERIES_PER_TASK,
        )
        for start in range(0, len(pairs), DELIVERIES_PER_TASK)
    ]
    try:
        queue.enqueue_many(jobs)
    except RedisError as error:
        # The outbox still holds the jobs: free them so the next relay round enqueues them.
        log.warning("could not enqueue %d alerts: %s", len(keys), type(error).__name__)
        _release(keys)
        return 0
    return len(keys)


def _release(keys: list[str]) -> None:
    """Drop the lease of jobs that never reached Redis (own connection: may run after commit)."""
    from server.alerts.models import AlertJob, JobStatus
    from server.extensions import db

    with db.engine.begin() as connection:
        connection.execute(
            update(AlertJob)
            .where(AlertJob.idempotency_key.in_(keys), AlertJob.status == JobStatus.PENDING)
            .values(lease_until=None)
        )


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    # Releasing a savepoint fires this hook too (every push applies its batch in one): a
    # worker handed the job then could not see its row yet, miss it, and leave it leased.
    if session.in_nested_transaction():
        return
    leased = session.info.pop(_PENDING, None)
    wake = session.info.pop(_WAKE, None)
    if not has_app_context():
        return
    if leased:
        enqueue(current_app._get_current_object(), leased)
    if wake:
        dispatcher_wake = current_app.extensions.get(WAKE_EXTENSION)
        if dispatcher_wake is not None:
            dispatcher_wake.set()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # A savepoint rolled back keeps the rest of the transaction's jobs owed: they are queued
    # at its commit (a job of the savepoint queued too is only missed by the worker's take).
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_WAKE, None)
