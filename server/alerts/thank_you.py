"""Thank-you emails to visitors: when one is owed, its outbox row, and what it says.

A thank-you is an alert job of kind ``thank_you`` with no rep (rep_id is None), sent by
email to the visitor through the same outbox, dispatcher, retries and dead letters as
the alerts to reps. It is owed when the event has thank-you emails enabled
(``event.alerts.thank_you.enabled``), the visitor gave consent (and, where the tablet
recorded purposes, chose ``marketing_email``: materials about products are marketing)
and left an email address. It goes once per lead (the idempotency key is per lead and
unique) and once per visitor and event (a re-capture of the same address is checked
in the same transaction), whatever later edits, consent changes or re-pushes do.
The job records the consent version it relied on. The email holds only the visitor's
own first name, the event and the materials of the products they chose: nothing
internal (no score, notes, rating or rep).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from server.alerts.message import AlertMessage, _environment
from server.alerts.models import AlertJob, AlertKind, Channel, JobStatus
from server.alerts.outbox import job_row
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead

MARKETING_PURPOSE = "marketing_email"
DEFAULT_SUBJECT = "Thank you for visiting us at {event}"
DEFAULT_INTRO = (
    "Thank you for stopping by our booth. Here is more about the products you asked about."
)


def settings(event: Event) -> dict[str, Any] | None:
    """Return the event's thank-you settings when thank-you emails are on, else None."""
    chosen = (event.alerts or {}).get("thank_you") or {}
    return chosen if chosen.get("enabled") else None


def consent_allows(given: bool, version: int | None, purposes: list[str] | None) -> bool:
    """Return whether the visitor's consent covers a thank-you email.

    No purposes recorded (an older app) means the visitor agreed to the whole text.
    """
    if not (given and version):
        return False
    return not purposes or MARKETING_PURPOSE in purposes


def idempotency_key(lead_id: uuid.UUID) -> str:
    """Return the key that makes a lead's thank-you unique: one per lead, ever."""
    return f"{lead_id}:{AlertKind.THANK_YOU.value}"


def _row(lead_id: uuid.UUID, email: str, consent_version: int, now: datetime) -> dict[str, Any]:
    return job_row(
        lead_id,
        AlertKind.THANK_YOU,
        Channel.EMAIL,
        email,
        idempotency_key(lead_id),
        now,
        consent_version=consent_version,
    )


def already_thanked(event_id: int, lead_id: uuid.UUID, email: str) -> bool:
    """Return whether this lead, or the same address at this event, has a thank-you job."""
    query = (
        select(AlertJob.id)
        .join(Lead, AlertJob.lead_id == Lead.id)
        .where(AlertJob.kind == AlertKind.THANK_YOU)
        .where(
            or_(
                AlertJob.lead_id == lead_id,
                and_(Lead.event_id == event_id, Lead.email == email),
                # The address it went to, should the lead's email have been edited since.
                and_(Lead.event_id == event_id, AlertJob.target == email),
            )
        )
        .limit(1)
    )
    return db.session.scalar(query) is not None


def rows_for_capture(
    event: Event,
    lead: dict[str, Any],
    purposes: list[str] | None,
    now: datetime,
    queued: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Return the thank-you row a newly captured lead (a row dict) owes, if any.

    queued holds outbox rows of the same batch not yet written, so two captures of one
    address in one push are thanked once.
    """
    email = lead.get("email")
    if settings(event) is None or not email:
        return []
    if not consent_allows(lead.get("consent_given"), lead.get("consent_version"), purposes):
        return []
    if any(row["kind"] == AlertKind.THANK_YOU and row["target"] == email for row in queued):
        return []
    if already_thanked(event.id, lead["id"], email):
        return []
    return [_row(lead["id"], email, lead["consent_version"], now)]


def rows_for_edit(lead: Lead, purposes: list[str] | None, now: datetime) -> list[dict[str, Any]]:
    """Return the thank-you row an edited lead owes now (consent or email given later)."""
    if settings(lead.event) is None or not lead.email:
        return []
    if purposes is None:
        from server.privacy.models import ConsentRecord

        record = db.session.get(ConsentRecord, lead.id)
        purposes = record.purposes if record is not None else None
    if not consent_allows(lead.consent_given, lead.consent_version, purposes):
        return []
    if already_thanked(lead.event_id, lead.id, lead.email):
        return []
    return [_row(lead.id, lead.email, lead.consent_version or 0, now)]


def reserve(job: AlertJob, now: datetime, lease: timedelta) -> bool:
    """Mark a pending thank-you as being sent now (committed); return False if taken.

    The outbox is at least once: two RQ workers can be handed the same job when a lease
    runs out under load. A rep's alert may come twice (receivers de-duplicate by key);
    a visitor's email must not, so delivered_at doubles as a "sending since" mark that
    one process alone can set. A mark older than the lease is from a process that died.
    """
    won = db.session.execute(
        update(AlertJob)
        .where(AlertJob.id == job.id, AlertJob.status == JobStatus.PENDING)
        .where(or_(AlertJob.delivered_at.is_(None), AlertJob.delivered_at < now - lease))
        .values(delivered_at=now)
    ).rowcount
    db.session.commit()
    return bool(won)


def still_allowed(job: AlertJob) -> bool:
    """Return whether the lead still consents and has an address (checked just before sending)."""
    lead = job.lead
    return bool(lead.consent_given and lead.email)


def context(job: AlertJob) -> dict[str, Any]:
    """Return what a thank-you email shows: the visitor's own first name, event, materials."""
    lead = job.lead
    event = lead.event
    chosen = settings(event) or {}
    offered = {product["id"]: product for product in event.products}
    materials = [
        {"name": offered[pid]["name"], "url": offered[pid].get("material_url")}
        for pid in lead.products
        if pid in offered
    ]
    return {
        "first_name": _one_line(lead.first_name),
        "event": {"name": event.name, "booth": event.booth, "venue": event.venue},
        "subject": _one_line(chosen.get("subject") or DEFAULT_SUBJECT.format(event=event.name)),
        "intro": chosen.get("intro") or DEFAULT_INTRO,
        "materials": materials,
        "consent_version": job.consent_version,
    }


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def render(values: dict[str, Any], key: str) -> AlertMessage:
    """Render a thank-you email (text and HTML) from context()."""
    environment = _environment()
    text = environment.get_template("thank_you.txt").render(values)
    html = environment.get_template("thank_you.html").render(values)
    # Email only: the webhook and chat forms stay empty, nothing internal goes anywhere.
    return AlertMessage(
        subject=values["subject"],
        text=text,
        html=html,
        payload={},
        chat={},
        idempotency_key=key,
    )
