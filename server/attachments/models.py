"""A business-card photo of a lead: named by its SHA-256, uploaded in resumable chunks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db_types import JSONType, utcnow
from server.extensions import db


class CardPhoto(db.Model):
    """One photo of one lead; bytes in the blob storage under its SHA-256 once complete."""

    __tablename__ = "card_photos"
    __table_args__ = (
        UniqueConstraint("lead_id", "sha256", name="uq_card_photos_lead_sha256"),
        Index("ix_card_photos_device_version", "device_id", "server_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("leads.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(50))
    # Bytes stored so far: the next chunk must start here (the upload's one source of truth).
    received: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    # What OCR read off the card, by lead field; staff accept them one by one.
    suggestions: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Changes when the suggestions arrive, so the capturing tablet pulls them in order.
    server_version: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def complete(self) -> bool:
        """Tell whether every byte arrived and matched the SHA-256."""
        return self.completed_at is not None
