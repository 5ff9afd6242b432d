"""Receipts of sync mutations whose outcome a replay must repeat exactly."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db_types import utcnow
from server.extensions import db


class MutationReceipt(db.Model):
    """A tablet mutation that was rejected or met a conflict.

    Plainly applied mutations need no receipt: a replay of one is answered from the
    lead itself. Payload and result are JSON text rather than JSON columns because
    a rejected payload may hold anything, NUL characters included, which
    PostgreSQL's JSONB refuses.
    """

    __tablename__ = "mutation_receipts"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    mutation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(10))
    payload: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
