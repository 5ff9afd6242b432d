"""Events and who works them."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db_types import JSONType, utcnow
from server.extensions import db
from server.users.models import User

# Offered when an event names no disqualification reasons of its own (README, "Lead
# lifecycle"); migration 0004 writes the same list as the column's server default.
DEFAULT_DISQUALIFICATION_REASONS = (
    "No budget",
    "No need",
    "Competitor customer",
    "Student or job seeker",
    "Wrong contact",
    "Other",
)


def default_disqualification_reasons() -> list[str]:
    """Return a fresh copy of the default disqualification reasons."""
    return list(DEFAULT_DISQUALIFICATION_REASONS)


class Event(db.Model):
    """A show the company exhibits at, with everything a tablet needs to capture leads."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    booth: Mapped[str | None] = mapped_column(String(100))
    campaign_code: Mapped[str | None] = mapped_column(String(100))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    target_leads: Mapped[int | None]
    target_hot_leads: Mapped[int | None]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[int] = mapped_column(default=0)
    # The scoring rubric (sync/scoring.py); every change is kept in rubric_versions.
    rubric: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Routing rules (server/routing/router.py) and alert channels for the event's reps.
    routing: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    alerts: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    # Hot leads not acknowledged within this many minutes get a reminder, then a new owner.
    escalation_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # What a rep may give as the reason when disqualifying one of this event's leads.
    disqualification_reasons: Mapped[list[str]] = mapped_column(
        JSONType,
        default=default_disqualification_reasons,
        server_default=text(f"'{json.dumps(list(DEFAULT_DISQUALIFICATION_REASONS))}'"),
    )
    # How badge ids are written (prefix, URL pattern), sync/attendees.py; tablets pull it.
    badge_rules: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped from the shared server-version counter on every change, so tablets
    # pull configuration changes in the same ordered stream as leads.
    server_version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[EventMember]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    @property
    def active_members(self) -> list[EventMember]:
        """Return the team members whose accounts are active."""
        return [member for member in self.members if member.user.active]


class EventMember(db.Model):
    """A rep or staff member assigned to work an event."""

    __tablename__ = "event_members"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class RubricVersion(db.Model):
    """A scoring rubric as it stood at one version; leads record the version that scored them."""

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("event_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    version: Mapped[int]
    rubric: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()
