"""Deliver the alert outbox: at least once, retried with backoff, dead-lettered in the end.

Runs as a thread inside the server by default (``leadbridge serve``). Each round
claims due jobs with a lease (a conditional UPDATE, so two dispatchers never send
the same job at once, and a crashed one's jobs are taken over when the lease ends),
delivers them, and records the outcome. A job delivered but not yet recorded when
the process dies is sent again: receivers de-duplicate by its idempotency key.
The same round also escalates hot leads nobody acknowledged (server/alerts/escalation.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import Flask
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload

from server.alerts import thank_you
from server.alerts.channels import DeliveryError, send_email
from server.alerts.context import alert_context
from server.alerts.destinations import checked_session, parse_networks
from server.alerts.escalation import escalate_due
from server.alerts.message import render_alert
from server.alerts.models import AlertJob, AlertKind, JobStatus
from server.alerts.queue import WAKE_EXTENSION
from server.alerts.send import send_alert, smtp_settings
from server.attachments.reading import read_photo
from server.db_types import utcnow
from server.errors import RETRYABLE_DB_ERRORS
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from server.ops.logs import describe_error
from server.rounds import Rounds
from sync.backoff import Backoff

log = logging.getLogger(__name__)


# The job with its lead, the lead's event, who captured it and its owner (usually the rep
# alerted): every alert's message reads them, and each would be a round trip of its own.
# Built once: every delivery runs it (docs/performance.md).
_LEAD = joinedload(AlertJob.lead)
_JOB_WITH_LEAD = (
    select(AlertJob)
    .where(AlertJob.id == bindparam("job_id"))
    .options(
        _LEAD.joinedload(Lead.event),
        _LEAD.joinedload(Lead.captured_by),
        _LEAD.joinedload(Lead.owner),
    )
)


class Dispatcher(Rounds):
    """Deliver due alert jobs of one app; run_once() for a round, start() for a thread."""

    thread_name = "alert-dispatcher"
    # Set after a commit that wrote alert jobs (server/alerts/queue.py): deliver now,
    # rather than at the next poll.
    wake_extension = WAKE_EXTENSION

    def __init__(
        self,
        app: Flask,
        *,
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 0.2,
        batch: int = 20,
    ):
        super().__init__(app, poll_seconds)
        self.clock = clock
        self.batch = batch
        self.max_attempts = app.config["LEADBRIDGE_ALERT_MAX_ATTEMPTS"]
        self.crm_retry_window = timedelta(hours=app.config["LEADBRIDGE_CRM_RETRY_HOURS"])
        self.timeout = app.config["LEADBRIDGE_ALERT_TIMEOUT_SECONDS"]
        self.lease = timedelta(seconds=app.config["LEADBRIDGE_ALERT_LEASE_SECONDS"])
        self.allowed_networks = parse_networks(app.config["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"])
        self.backoff = Backoff(base=app.config["LEADBRIDGE_ALERT_RETRY_BASE_SECONDS"], cap=600.0)
        self._http = threading.local()

    def http_session(self) -> requests.Session:
        """Return this thread's HTTP session, whose kept-alive connections the next alert reuses.

        A new connection per alert would cost a TCP (and, to a real receiver, a TLS)
        handshake every time. Per thread: a requests Session is not made to be shared.
        """
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = checked_session(self.allowed_networks)
        return session

    def _claim(self, now: datetime) -> list[int]:
        due = db.session.scalars(
            select(AlertJob.id)
            .where(AlertJob.status == JobStatus.PENDING, AlertJob.next_attempt_at <= now)
            .where(or_(AlertJob.lease_until.is_(None), AlertJob.lease_until < now))
            .order_by(AlertJob.next_attempt_at, AlertJob.id)
            .limit(self.batch)
        ).all()
        claimed = []
        for job_id in due:
            won = db.session.execute(
                update(AlertJob)
                .where(AlertJob.id == job_id, AlertJob.status == JobStatus.PENDING)
                .where(or_(AlertJob.lease_until.is_(None), AlertJob.lease_until < now))
                .values(lease_until=now + self.lease)
            ).rowcount
            if won:
                claimed.append(job_id)
        db.session.commit()
        return claimed

    def _thank(self, job: AlertJob) -> None:
        if not thank_you.still_allowed(job):
            raise DeliveryError("thank-you: consent withdrawn or no address", retryable=False)
        # An address corrected after the job was queued is where the visitor is reached.
        job.target = job.lead.email or job.target
        message = thank_you.render(thank_you.context(job), job.idempotency_key)
        send_email(smtp_settings(self.app.config), job.target, message)

    def _send(self, job: AlertJob) -> None:
        if job.kind == AlertKind.THANK_YOU:
            self._thank(job)
            return
        if job.kind == AlertKind.CARD_READING:
            read_photo(job)
            return
        message = render_alert(alert_context(job), job.idempotency_key, job.kind.value)
        send_alert(
            job.channel,
            job.target,
            message,
            config=self.app.config,
            allowed_networks=self.allowed_networks,
            session=self.http_session(),
            secret=(job.lead.event.alerts or {}).get("webhook_secret") or "",
        )

    def _may_retry(self, job: AlertJob, now: datetime) -> bool:
        """Say whether a job whose attempt failed for a passing reason gets another.

        An alert is for a rep now: after a few tries a person should look. A CRM push is
        retried for a window of time instead, so a CRM that is down for hours gets every
        lead when it is back (the backoff's cap keeps the tries to one per 10 minutes).
        """
        if job.kind == AlertKind.CRM_SYNC:
            return now - job.failing_since < self.crm_retry_window
        return job.attempts < self.max_attempts

    def _failed(self, job: AlertJob, error: DeliveryError) -> None:
        """Record a failed attempt: retry later if it may help, else dead-letter the job."""
        if job.kind == AlertKind.THANK_YOU:
            job.delivered_at = None  # not sent: free the reservation for a retry
        job.attempts += 1
        job.last_error = str(error)[:300]
        job.lease_until = None
        now = self.clock()
        if job.failing_since is None:
            job.failing_since = now
        if error.retryable and self._may_retry(job, now):
            # Retry-After (a throttled CRM says when) is a lower bound on the delay.
            delay = self.backoff.next_delay(job.attempts - 1, retry_after=error.retry_after)
            job.next_attempt_at = now + timedelta(seconds=delay)
        else:
            job.status = JobStatus.DEAD
        # Only ids and the channel: the error text is free of personal data by contract.
        log.warning("alert %s via %s failed (attempt %s)", job.id, job.channel, job.attempts)

    def deliver(self, job_id: int) -> None:
        """Deliver one claimed job and record the outcome (needs an app context)."""
        job = db.session.scalars(_JOB_WITH_LEAD, {"job_id": job_id}).first()
        if job is None or job.status != JobStatus.PENDING:
            return
        if job.kind == AlertKind.THANK_YOU and not thank_you.reserve(job, self.clock(), self.lease):
            return  # another process is sending this thank-you right now: it must not go twice
        try:
            if job.kind == AlertKind.CRM_SYNC:
                # Imported here: the CRM package imports the outbox, which this module feeds.
                from server.crm.delivery import push

                settled = push(self.app, job)
            else:
                self._send(job)
                settled = True
        except DeliveryError as error:
            self._failed(job, error)
        except RETRYABLE_DB_ERRORS:
            raise  # the database, not the job: the job is taken again when its lease ends
        except Exception as error:  # noqa: BLE001 - whatever it is, it is this job's alone
            # The message could not be rendered or sent (a value it cannot hold, a bug):
            # retrying cannot fix that, so the job is dead-lettered now, with the reason,
            # and the jobs after it are delivered as if it had never been.
            reason = describe_error(error)
            db.session.rollback()
            job = db.session.get_one(AlertJob, job_id)
            self._failed(job, DeliveryError(f"could not be sent: {reason}", retryable=False))
            log.error("alert %s dead-lettered: unexpected %s", job_id, reason)
        else:
            if job.kind in (AlertKind.CRM_SYNC, AlertKind.CARD_READING):
                self._settle_work(job, settled)  # nobody alerted: no timeline entry
            else:
                self._record_alert(job)
        db.session.commit()

    def _settle_work(self, job: AlertJob, settled: bool) -> None:
        """Mark a job that alerts nobody (CRM push, card reading) done, or due again at once.

        A CRM push is not settled when the lead changed while it was pushed.
        """
        job.attempts += 1
        job.lease_until = None
        job.last_error = None
        job.failing_since = None
        if settled:
            job.status = JobStatus.DELIVERED
            job.delivered_at = self.clock()
        else:
            job.attempts = 0  # the lead changed while it was pushed: not a failure
            job.next_attempt_at = self.clock()
            self._wake.set()

    def _record_alert(self, job: AlertJob) -> None:
        """Mark an alert delivered and put it on the lead's timeline."""
        job.attempts += 1
        job.failing_since = None
        job.status = JobStatus.DELIVERED
        job.delivered_at = self.clock()
        job.lease_until = None
        # Speed to lead counts alerts to reps, not the visitor's thank-you.
        if job.lead.alerted_at is None and job.kind != AlertKind.THANK_YOU:
            job.lead.alerted_at = job.delivered_at
        detail: dict[str, Any] = {
            "channel": job.channel.value,
            "alert": job.kind.value,
            "rep_id": job.rep_id,
        }
        if job.kind == AlertKind.THANK_YOU:
            detail["consent_version"] = job.consent_version
        db.session.add(
            Activity(
                lead_id=job.lead_id,
                kind=ActivityKind.ALERTED,
                at=job.delivered_at,
                detail=detail,
            )
        )

    def _poll_crms(self) -> None:
        """Read outcomes back from the CRMs whose poll is due (server/crm/outcomes.py)."""
        from server.crm.outcomes import poll_due

        try:
            poll_due(self.app, self.clock())
        except Exception as error:  # a CRM poll must never stop alert delivery
            log.error("crm poll round failed: %s", type(error).__name__)
            db.session.rollback()

    def handle(self, claimed: list[int]) -> None:
        """Deliver claimed jobs here and now (the RQ relay enqueues them instead)."""
        for job_id in claimed:
            self.deliver(job_id)

    def run_once(self) -> int:
        """Escalate what is due, then handle due jobs; return how many jobs were handled."""
        with self.app.app_context():
            escalate_due(self.clock())
            self._poll_crms()
            handled = 0
            while True:
                claimed = self._claim(self.clock())
                self.handle(claimed)
                handled += len(claimed)
                if len(claimed) < self.batch:
                    return handled
