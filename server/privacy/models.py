"""Tables of the data-protection features; none of them holds a visitor's personal data."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db_types import BigId, JSONType, str_enum, utcnow
from server.extensions import db


class AuditAction(enum.StrEnum):
    """A rights action or retention run written to the audit log."""

    SEARCH = "search"
    CONSENT_TEXT = "consent_text"
    ACCESS_EXPORT = "access_export"
    ERASURE = "erasure"
    RETENTION = "retention"
    RETENTION_SETTING = "retention_setting"


class ForgetReason(enum.StrEnum):
    """Why a lead was deleted for good."""

    ERASED = "erased"
    RETENTION = "retention"


class AuditEntry(db.Model):
    """Who did which rights action when; the person is named only by a keyed hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None for the retention job run from the command line or a scheduler.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction, "audit_action"))
    subject_hash: Mapped[str | None] = mapped_column(String(64))
    lead_count: Mapped[int] = mapped_column(default=0)
    # Counts and ids only (event id, rows deleted per table), never names or addresses.
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Erasure(db.Model):
    """A person who asked to be forgotten, kept only as keyed hashes of email and phone."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    lead_count: Mapped[int] = mapped_column(default=0)


class LeadTombstone(db.Model):
    """A deleted lead's id, pulled by the tablet that captured it so it deletes it too."""

    __tablename__ = "lead_tombstones"

    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    server_version: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[ForgetReason] = mapped_column(str_enum(ForgetReason, "forget_reason"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Recapture(db.Model):
    """A lead captured after its person asked to be forgotten (matched by hash)."""

    __tablename__ = "recaptures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("leads.id"), index=True)
    erasure_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("erasures.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRetention(db.Model):
    """How many days after an event ends its leads nobody worked on are erased."""

    __tablename__ = "event_retention"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    retention_days: Mapped[int]


class ConsentPurpose(enum.StrEnum):
    """What a visitor may agree to."""

    SALES_FOLLOW_UP = "sales_follow_up"
    MARKETING_EMAIL = "marketing_email"


class ConsentText(db.Model):
    """One wording of an event's consent text in one language.

    Versions are numbered per event (event.consent_version is the counter), so a lead's
    version and language name exactly one wording; each language keeps its own history.
    """

    __tablename__ = "consent_texts"
    __table_args__ = (UniqueConstraint("event_id", "version", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    version: Mapped[int]
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(db.Model):
    """What one visitor agreed to: wording, language, purposes, when, by whom, on which tablet."""

    __tablename__ = "consent_records"

    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("leads.id"), primary_key=True)
    text_version: Mapped[int | None]
    language: Mapped[str | None] = mapped_column(String(16))
    purposes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    at: Mapped[datetime | None]
