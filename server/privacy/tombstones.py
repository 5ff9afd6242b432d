"""Deleted leads as pull changes, so the tablet that captured them deletes them too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from server.extensions import db
from server.privacy.models import LeadTombstone

# Run by every pull: built once (docs/performance.md).
_TOMBSTONES_AFTER = (
    select(LeadTombstone)
    .where(
        LeadTombstone.device_id == bindparam("device_id"),
        LeadTombstone.server_version > bindparam("cursor"),
    )
    .order_by(LeadTombstone.server_version)
    .limit(bindparam("limit"))
)


def tombstone_changes(device_id: int, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Return up to limit erasure changes for device_id after cursor, in version order."""
    tombstones = db.session.scalars(
        _TOMBSTONES_AFTER, {"device_id": device_id, "cursor": cursor, "limit": limit}
    ).all()
    return [
        {"kind": "erasure", "version": tombstone.server_version, "row": tombstone}
        for tombstone in tombstones
    ]


def erasure_data(tombstone: LeadTombstone) -> dict[str, Any]:
    """Return what a tablet needs to delete the lead: its id and why."""
    return {"id": str(tombstone.lead_id), "reason": tombstone.reason.value}
