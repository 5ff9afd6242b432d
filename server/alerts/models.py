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


class Channel(enum.StrEnum):
    """How the alert travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    CHAT = "chat"


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
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    lead: Mapped[Lead] = relationship()
