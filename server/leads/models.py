"""Leads and their append-only activity timeline."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db_types import BigId, JSONType, str_enum, utcnow
from server.devices.models import Device
from server.events.models import Event
from server.extensions import db
from server.users.models import User


class LeadSource(enum.StrEnum):
    """How the contact details reached the tablet."""

    BADGE = "badge"
    MANUAL = "manual"
    CARD_PHOTO = "card_photo"


class Rating(enum.StrEnum):
    """The booth's judgement of the lead."""

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class LeadStatus(enum.StrEnum):
    """Where the lead stands with sales."""

    NEW = "new"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    CONTACTED = "contacted"
    MEETING = "meeting"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    WON = "won"
    LOST = "lost"


class ActivityKind(enum.StrEnum):
    """Entries of a lead's timeline."""

    CAPTURED = "captured"
    RECEIVED = "received"
    SCORED = "scored"
    ROUTED = "routed"
    ALERTED = "alerted"
    ACKNOWLEDGED = "acknowledged"
    STATUS_CHANGED = "status_changed"
    REASSIGNED = "reassigned"
    EDITED = "edited"
    MERGED = "merged"
    RECAPTURED = "recaptured"  # the person had asked to be forgotten (server/privacy)
    CRM_SYNCED = "crm_synced"  # pushed to the event's CRM (server/crm/)


class Lead(db.Model):
    """One visitor captured at one event; the id is a UUID made on the tablet."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_event_received", "event_id", "received_at"),
        # The dashboard's "today" and hourly figures and the export's order (0006).
        Index("ix_leads_event_captured", "event_id", "captured_at"),
        Index("ix_leads_event_status", "event_id", "status"),
        Index("ix_leads_owner_status", "owner_id", "status"),
        Index("ix_leads_event_email", "event_id", "email"),
        Index("ix_leads_event_phone", "event_id", "phone"),
        # A person's earlier touches at any event (server/alerts/context.py), rights requests.
        Index("ix_leads_email", "email"),
        Index("ix_leads_phone", "phone"),
        Index("ix_leads_device_version", "device_id", "server_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    captured_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    captured_at: Mapped[datetime]  # tablet clock: shown, never used for ordering
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))

    source: Mapped[LeadSource] = mapped_column(str_enum(LeadSource, "lead_source"))
    badge_payload: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    products: Mapped[list[str]] = mapped_column(JSONType, default=list)
    rating: Mapped[Rating | None] = mapped_column(str_enum(Rating, "rating"))
    notes: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[bool] = mapped_column(default=False)

    consent_given: Mapped[bool] = mapped_column(default=False)
    consent_version: Mapped[int | None]
    consent_at: Mapped[datetime | None]
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # The rubric's judgement (rating above is the staff's, which may differ).
    score_points: Mapped[int | None]
    score_band: Mapped[Rating | None] = mapped_column(str_enum(Rating, "score_band"))
    score_reasons: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default=text("'[]'")
    )
    rubric_version: Mapped[int | None]

    status: Mapped[LeadStatus] = mapped_column(
        str_enum(LeadStatus, "lead_status"), default=LeadStatus.NEW
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    deal_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None]  # when the current owner got it (escalation clock)
    # Speed to lead: captured_at and received_at above, then these, each set once.
    alerted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    first_contact_at: Mapped[datetime | None]

    # Set when this capture turned out to be a person already captured at the event
    # (server/leads/merging.py): the earlier lead carries on, this one stays as a record.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id"), index=True)

    server_version: Mapped[int] = mapped_column(BigInteger, index=True)
    # {field: [server_version, device_id or None]}: when each tablet-editable field last
    # changed and who changed it, for field-by-field conflict resolution in sync.
    field_versions: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )

    event: Mapped[Event] = relationship()
    device: Mapped[Device] = relationship()
    captured_by: Mapped[User] = relationship(foreign_keys=[captured_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    @property
    def score(self) -> dict[str, Any]:
        """Return the rubric's score as one object, as the API shows it."""
        return {
            "points": self.score_points,
            "band": self.score_band,
            "reasons": self.score_reasons or [],
            "rubric_version": self.rubric_version,
        }

    @property
    def consent(self) -> dict[str, Any]:
        """Return the consent record as one object, as the API shows it."""
        return {
            "given": self.consent_given,
            "version": self.consent_version,
            "at": self.consent_at,
            "by_id": self.consent_by_id,
        }


class Activity(db.Model):
    """One entry of a lead's timeline; rows are only ever inserted."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # Declared so the unit of work inserts a new lead before its first activities.
    lead: Mapped[Lead] = relationship()
    actor_user: Mapped[User | None] = relationship()
