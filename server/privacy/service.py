"""A person's rights, handled by an admin: find, export (access) and erase everything about them.

A person is named by an email address and/or a phone number, normalised with the one
implementation in sync/contact.py, so ``Ann@X.com`` finds leads stored as ``ann@x.com``
and ``030 1234567`` (with the event's country) finds ``+49301234567``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select

from server.alerts.models import AlertJob
from server.attachments.erasure import forget_photos
from server.attendees.erasure import remove_person
from server.db_types import utcnow
from server.errors import fail_validation
from server.events.models import Event
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from server.privacy.hashing import request_hash, subject_hash, subject_hasher
from server.privacy.models import (
    AuditAction,
    AuditEntry,
    Erasure,
    ForgetReason,
    LeadTombstone,
    Recapture,
)
from server.privacy.rows import collect, delete_all, json_safe
from server.users.models import User
from server.versioning import reserve_server_versions
from sync.contact import ContactError, normalise_email, normalise_phone


@dataclass(frozen=True)
class Subject:
    """The person a request is about, in normalised form."""

    email: str | None
    phone: str | None

    @property
    def audit_hash(self) -> str:
        """Return the keyed hash that names this person in the audit log."""
        return request_hash(self.email, self.phone)


def subject_from(fields: dict[str, Any]) -> Subject:
    """Normalise a request's email and phone; answer 422 when one cannot be read."""
    errors: dict[str, list[str]] = {}
    email = phone = None
    if fields.get("email"):
        try:
            email = normalise_email(fields["email"])
        except ContactError as error:
            errors["email"] = [str(error)]
    if fields.get("phone"):
        try:
            phone = normalise_phone(fields["phone"], fields.get("country"))
        except ContactError as error:
            errors["phone"] = [str(error)]
    if errors:
        fail_validation(errors)
    if email is None and phone is None:
        fail_validation({"_schema": ["Give an email address or a phone number."]})
    return Subject(email=email, phone=phone)


def _audit(actor: User | None, action: AuditAction, subject: Subject | None, **detail: Any) -> None:
    db.session.add(
        AuditEntry(
            actor_user_id=actor.id if actor else None,
            action=action,
            subject_hash=subject.audit_hash if subject else None,
            lead_count=int(detail.pop("lead_count", 0)),
            detail=json_safe(detail),
        )
    )


def matching_leads(subject: Subject) -> list[Lead]:
    """Return every lead of any event with the subject's email or phone, oldest first."""
    conditions = []
    if subject.email:
        conditions.append(Lead.email == subject.email)
    if subject.phone:
        conditions.append(Lead.phone == subject.phone)
    return list(db.session.scalars(select(Lead).where(or_(*conditions)).order_by(Lead.received_at)))


def find(subject: Subject, actor: User) -> dict[str, Any]:
    """Return the subject's leads (across events) and the alerts about them; audit it."""
    leads = matching_leads(subject)
    ids = [lead.id for lead in leads]
    jobs = (
        list(db.session.scalars(select(AlertJob).where(AlertJob.lead_id.in_(ids)))) if ids else []
    )
    events = {event.id: event.name for event in db.session.scalars(select(Event))}
    result = {
        "leads": [
            {
                "id": lead.id,
                "event_id": lead.event_id,
                "event_name": events.get(lead.event_id),
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "email": lead.email,
                "phone": lead.phone,
                "company": lead.company,
                "status": lead.status.value,
                "received_at": lead.received_at,
            }
            for lead in leads
        ],
        "alert_jobs": [
            {
                "id": job.id,
                "lead_id": job.lead_id,
                "kind": job.kind.value,
                "channel": job.channel.value,
                "status": job.status.value,
                "created_at": job.created_at,
            }
            for job in jobs
        ],
        "previously_erased": _erasure_of(subject) is not None,
    }
    _audit(actor, AuditAction.SEARCH, subject, lead_count=len(leads), alert_jobs=len(jobs))
    db.session.commit()
    return result


def export(subject: Subject, actor: User) -> dict[str, Any]:
    """Return everything stored about the subject as JSON (an access request); audit it."""
    leads = matching_leads(subject)
    ids = [lead.id for lead in leads]
    rows = collect(ids)
    events = {lead.event_id for lead in leads}
    _audit(
        actor,
        AuditAction.ACCESS_EXPORT,
        subject,
        lead_count=len(ids),
        tables={name: len(found) for name, found in rows.items()},
    )
    db.session.commit()
    return {
        "subject": {"email": subject.email, "phone": subject.phone},
        "exported_at": utcnow().isoformat(),
        "events": [
            {"id": event.id, "name": event.name, "starts_on": event.starts_on.isoformat()}
            for event in db.session.scalars(select(Event).where(Event.id.in_(events)))
        ],
        "tables": rows,
    }


def forget(leads: Iterable[Lead], reason: ForgetReason) -> dict[str, int]:
    """Delete leads with every row about them and leave tombstones for their tablets.

    Call inside the transaction that records why; versions are taken first, as
    server/versioning.py asks, so the tombstones are pulled in order.
    """
    targets = [(lead.id, lead.device_id) for lead in leads]
    if not targets:
        return {}
    first = reserve_server_versions(len(targets))
    forget_photos([lead_id for lead_id, _ in targets])
    counts = delete_all([lead_id for lead_id, _ in targets])
    now = utcnow()
    for offset, (lead_id, device_id) in enumerate(targets):
        db.session.merge(
            LeadTombstone(
                lead_id=lead_id,
                device_id=device_id,
                server_version=first + offset,
                reason=reason,
                at=now,
            )
        )
    return counts


def erase(subject: Subject, actor: User) -> dict[str, Any]:
    """Erase every lead of the subject and what refers to it; keep only keyed hashes.

    The leads, their timelines, alert jobs (pending, delivered and dead), sync receipts
    and any other row about them are deleted; tablets delete their copies at their
    next pull; a later capture of the same email or phone is flagged (recaptures).
    """
    leads = matching_leads(subject)
    counts = forget(leads, ForgetReason.ERASED)
    # Off the attendee lists too; tablets delete their copies at their next pull.
    attendees = remove_person(subject.email, subject.phone)
    erasure = Erasure(
        requested_by_id=actor.id,
        email_hash=subject_hash("email", subject.email),
        phone_hash=subject_hash("phone", subject.phone),
        lead_count=len(leads),
    )
    db.session.add(erasure)
    _audit(
        actor,
        AuditAction.ERASURE,
        subject,
        lead_count=len(leads),
        deleted=counts,
        attendees_removed=attendees,
    )
    db.session.commit()
    return {
        "erasure_id": erasure.id,
        "leads_erased": len(leads),
        "rows_deleted": counts,
        "attendees_removed": attendees,
    }


def _erasure_of(subject: Subject) -> Erasure | None:
    conditions = []
    if subject.email:
        conditions.append(Erasure.email_hash == subject_hash("email", subject.email))
    if subject.phone:
        conditions.append(Erasure.phone_hash == subject_hash("phone", subject.phone))
    return db.session.scalars(select(Erasure).where(or_(*conditions)).limit(1)).first()


# Run by every push that captures someone: built once (docs/performance.md).
_ERASURES_OF = (
    select(Erasure.id, Erasure.email_hash, Erasure.phone_hash)
    .where(
        or_(
            Erasure.email_hash.in_(bindparam("emails", expanding=True)),
            Erasure.phone_hash.in_(bindparam("phones", expanding=True)),
        )
    )
    .order_by(Erasure.id)
)


def flag_recaptures(
    people: Iterable[tuple[uuid.UUID, str | None, str | None]],
) -> set[uuid.UUID]:
    """Record which new leads belong to someone who asked to be forgotten; return their ids.

    people holds (lead id, normalised email, normalised phone) of leads created in the
    current transaction. One query for the whole batch, however many erasures there are.
    """
    hasher = subject_hasher()  # the key derived once for the batch, not twice per lead
    hashed = [
        (
            lead_id,
            hasher("email", email) if email is not None else None,
            hasher("phone", phone) if phone is not None else None,
        )
        for lead_id, email, phone in people
        if email or phone
    ]
    if not hashed:
        return set()
    emails = {email for _, email, _ in hashed if email}
    phones = {phone for _, _, phone in hashed if phone}
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    for erasure_id, email_hash, phone_hash in db.session.execute(
        _ERASURES_OF, {"emails": sorted(emails), "phones": sorted(phones)}
    ):
        if email_hash:
            by_email.setdefault(email_hash, erasure_id)
        if phone_hash:
            by_phone.setdefault(phone_hash, erasure_id)
    flagged = set()
    for lead_id, email_hash, phone_hash in hashed:
        erasure_id = by_email.get(email_hash or "") or by_phone.get(phone_hash or "")
        if erasure_id is None:
            continue
        db.session.add(Recapture(lead_id=lead_id, erasure_id=erasure_id))
        # On the timeline too, so whoever opens the lead sees the warning.
        db.session.add(
            Activity(
                lead_id=lead_id,
                kind=ActivityKind.RECAPTURED,
                at=utcnow(),
                detail={"erasure_id": erasure_id},
            )
        )
        flagged.add(lead_id)
    return flagged


def recaptures() -> list[Recapture]:
    """Return the leads captured after their person asked to be forgotten, newest first."""
    return list(db.session.scalars(select(Recapture).order_by(Recapture.id.desc()).limit(500)))


def audit_log(limit: int = 200) -> list[AuditEntry]:
    """Return the newest audit entries."""
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
