"""Tablets and the one-time codes that pair them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db


class Device(db.Model):
    """A paired tablet; its token works for one event until it is revoked."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    paired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paired_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Highest sync mutation id of this tablet the server has handled (applied or rejected).
    last_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    event: Mapped[Event] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class PairingCode(db.Model):
    """A short, single-use, expiring code a marketer hands to booth staff."""

    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
