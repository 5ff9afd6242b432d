"""Which CRM an event's leads go to, and which CRM record each pushed lead became."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db_types import JSONType, str_enum, utcnow
from server.events.models import Event
from server.extensions import db


class CrmKind(enum.StrEnum):
    """The CRMs leadbridge has a connector for."""

    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"
    PIPEDRIVE = "pipedrive"


class CrmConnection(db.Model):
    """One event's CRM: where to reach it, its encrypted credentials, mappings and poll cursor."""

    __tablename__ = "crm_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[CrmKind] = mapped_column(str_enum(CrmKind, "crm_kind"))
    # Empty for the CRM's public API; a sandbox (or a loopback test server) otherwise.
    base_url: Mapped[str | None] = mapped_column(String(300))
    # AES-GCM ciphertext (server/crm/credentials.py); never returned, shown or logged.
    credentials: Mapped[str] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    # leadbridge field -> CRM field; missing keys take the connector's defaults.
    field_mapping: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    # str(rep user id) -> CRM user email; a rep not listed is looked up by their own email.
    owner_mapping: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    # Where the last incremental poll of outcomes stopped (the connector's own format).
    poll_cursor: Mapped[str | None] = mapped_column(String(200))
    polled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()


class CrmRecord(db.Model):
    """The CRM record a lead became, and which of its changes the CRM has seen.

    wanted counts the pushes the lead is owed (capture, then each edit or merge);
    pushed is the count the last finished delivery covered. A delivery that finds
    wanted moved on while it ran stays pending, so no edit is lost.
    """

    __tablename__ = "crm_records"
    __table_args__ = (Index("ix_crm_records_connection_record", "connection_id", "record_id"),)

    lead_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    # Stored the moment the CRM names it, before anything else is sent: a retry updates it.
    record_id: Mapped[str | None] = mapped_column(String(64))
    wanted: Mapped[int] = mapped_column(default=1)
    pushed: Mapped[int] = mapped_column(default=0)
    # The context note is owed on the first push and after a merge adds a capture.
    note_owed: Mapped[bool] = mapped_column(default=True)
    # The last outcome read back, so a poll repeating it changes nothing.
    last_outcome: Mapped[str | None] = mapped_column(String(200))
    pushed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    connection: Mapped[CrmConnection] = relationship()
