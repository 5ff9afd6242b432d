"""The alert outbox: one row per message owed to a rep, written with the lead it is about."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db_types import BigId, str_enum, utcnow
from server.extensions import db
from server.leads.models import Lead


class AlertKind(enum.StrEnum):
    """Why the rep is alerted."""

    NEW_LEAD = "new_lead"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    # To the visitor, not a rep (server/alerts/thank_you.py): rep_id is None.
    THANK_YOU = "thank_you"
    # The lead pushed to the event's CRM (server/crm/): rep_id is None, target the CRM kind.
    CRM_SYNC = "crm_sync"
    # Work, not a message: OCR of a card photo (server/attachments/reading.py); rep_id is None.
    CARD_READING = "card_reading"


class Channel(enum.StrEnum):
    """How the alert travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    CHAT = "chat"
    CRM = "crm"
    # Done inside the server by the dispatcher; nothing leaves it (card reading).
    INTERNAL = "internal"


class JobStatus(enum.StrEnum):
    """Where an alert stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class AlertJob(db.Model):
    """An alert to deliver at least once; the idempotency key makes repeats recognisable."""

    __tablename__ = "alert_jobs"
    __table_args__ = (Index("ix_alert_jobs_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("leads.id"), index=True)
    # None for a thank-you email, which goes to the visitor rather than to a rep.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "alert_channel"))
    target: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The first of the failed attempts since the last success, new push or retry.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # The consent text version a thank-you email relied on when it was queued.
    consent_version: Mapped[int | None]

    lead: Mapped[Lead] = relationship()
