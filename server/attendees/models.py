"""An event's attendees (the organiser's registration list) and the imports that fill it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db_types import BigId, JSONType, str_enum, utcnow
from server.extensions import db


class Attendee(db.Model):
    """One registered visitor of an event, found by the normalised badge id.

    An erased or withdrawn attendee keeps its row with every personal column emptied
    and removed set, under a new server version: that is how the tablets that hold
    it learn to delete it.
    """

    __tablename__ = "attendees"
    __table_args__ = (
        UniqueConstraint("event_id", "badge_id"),
        Index("ix_attendees_event_version", "event_id", "server_version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # Normalised with the event's badge rules (sync/attendees.py); None once removed.
    badge_id: Mapped[str | None] = mapped_column(String(128))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    # As matching.email_key gives it: equal to sync/contact.py's form for usual addresses.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # As the organiser wrote it (the tablet's form normalises it on save, as for a typed one).
    phone: Mapped[str | None] = mapped_column(String(40))
    # Its last digits, to find a person's rows for an erasure (matching.phone_tail).
    phone_tail: Mapped[str | None] = mapped_column(String(8), index=True)
    company: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    removed: Mapped[bool] = mapped_column(default=False)
    server_version: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportStatus(enum.StrEnum):
    """Where an import stands."""

    UPLOADED = "uploaded"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AttendeeImport(db.Model):
    """One upload of the organiser's file: its column mapping and progress (no personal data)."""

    __tablename__ = "attendee_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    filename: Mapped[str] = mapped_column(String(200))
    file_format: Mapped[str] = mapped_column(String(8))
    # The upload's name in the instance folder; the file is deleted when the import ends.
    stored_name: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # {field: column header} chosen in the form.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, "import_status"))
    rows_total: Mapped[int | None]
    rows_read: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    # Rows without a usable id, and people who asked to be forgotten.
    skipped: Mapped[int] = mapped_column(default=0)
    erased_skipped: Mapped[int] = mapped_column(default=0)
    leads_filled: Mapped[int] = mapped_column(default=0)
    # Row numbers and reasons only, never cell values.
    error: Mapped[str | None] = mapped_column(Text)
