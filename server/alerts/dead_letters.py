"""List alert jobs for admins (dead letters above all) and put a dead one back in the queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from server.alerts.channels import _host
from server.alerts.models import AlertJob, Channel, JobStatus
from server.db_types import utcnow
from server.errors import fail
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead
from server.users.models import User


def masked_target(channel: Channel, target: str) -> str:
    """Return where a job goes without the address: the mail domain or the URL's host.

    A thank-you goes to a visitor's own address, and a webhook URL's path may be its secret.
    """
    if channel == Channel.EMAIL:
        return f"***@{target.rpartition('@')[2] or 'unknown'}"
    if channel == Channel.CRM:
        return target  # the CRM's name (server/crm/outbox.py)
    return _host(target)


def _item(job: AlertJob, event: Event, rep: User | None) -> dict[str, Any]:
    return {
        "id": job.id,
        "lead_id": job.lead_id,
        "event_id": event.id,
        "event_name": event.name,
        "rep_id": job.rep_id,
        "rep_name": rep.name if rep is not None else None,
        "kind": job.kind,
        "channel": job.channel,
        "target": masked_target(job.channel, job.target),
        "status": job.status,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "created_at": job.created_at,
        "next_attempt_at": job.next_attempt_at,
        "delivered_at": job.delivered_at,
    }


def list_jobs(args: dict[str, Any]) -> dict[str, Any]:
    """Return one page of alert jobs in a status (dead by default), newest first."""
    query = (
        select(AlertJob, Event, User)
        .join(Lead, AlertJob.lead_id == Lead.id)
        .join(Event, Lead.event_id == Event.id)
        .outerjoin(User, AlertJob.rep_id == User.id)
        .where(AlertJob.status == args["status"])
    )
    if "event_id" in args:
        query = query.where(Lead.event_id == args["event_id"])
    if "kind" in args:
        query = query.where(AlertJob.kind == args["kind"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, size = args["page"], args["page_size"]
    rows = db.session.execute(
        query.order_by(AlertJob.created_at.desc(), AlertJob.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return {
        "items": [_item(job, event, rep) for job, event, rep in rows],
        "page": page,
        "page_size": size,
        "total": total,
    }


def retry(job_id: int) -> dict[str, Any]:
    """Put a dead job back to pending, due now with its attempts reset; 409 unless dead."""
    job = db.session.get(AlertJob, job_id)
    if job is None:
        fail(404, "No such alert.")
    if job.status != JobStatus.DEAD:
        fail(409, f"Only a dead alert can be retried; this one is {job.status.value}.")
    # The last error stays until the next attempt replaces it, so the reason remains visible.
    job.status = JobStatus.PENDING
    job.attempts = 0
    job.failing_since = None
    job.next_attempt_at = utcnow()
    job.lease_until = None
    db.session.commit()
    event = job.lead.event
    rep = db.session.get(User, job.rep_id) if job.rep_id is not None else None
    return _item(job, event, rep)
