"""Deleted leads as pull changes, so the tablet that captured them deletes them too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.privacy.models import LeadTombstone


def tombstone_changes(device_id: int, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Return up to limit erasure changes for device_id after cursor, in version order."""
    tombstones = db.session.scalars(
        select(LeadTombstone)
        .where(LeadTombstone.device_id == device_id, LeadTombstone.server_version > cursor)
        .order_by(LeadTombstone.server_version)
        .limit(limit)
    ).all()
    return [
        {"kind": "erasure", "version": tombstone.server_version, "row": tombstone}
        for tombstone in tombstones
    ]


def erasure_data(tombstone: LeadTombstone) -> dict[str, Any]:
    """Return what a tablet needs to delete the lead: its id and why."""
    return {"id": str(tombstone.lead_id), "reason": tombstone.reason.value}
