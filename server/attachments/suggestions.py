"""What card reading suggests for a lead, and accepting it one field at a time.

A suggestion is offered only for a field the lead has no value in: whatever staff typed, on
the tablet or on the web, is never replaced by what OCR read. Accepting goes through the lead
service like any edit, so the tablet that captured the lead pulls the accepted value.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, select

from server.attachments.models import CardPhoto
from server.extensions import db
from server.leads.models import Lead

# Lead fields a suggestion may fill; the website has no column and goes into the notes.
LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title")
WEBSITE_NOTE = "Website: "

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "website": "Website",
}


def photos_of(lead_id: uuid.UUID) -> list[CardPhoto]:
    """Return the lead's received photos, oldest first."""
    return list(
        db.session.scalars(
            select(CardPhoto)
            .where(CardPhoto.lead_id == lead_id, CardPhoto.completed_at.is_not(None))
            .order_by(CardPhoto.id)
        )
    )


def _has_website(lead: Lead, website: str) -> bool:
    return website.lower() in (lead.notes or "").lower()


def open_suggestions(lead: Lead, photo: CardPhoto) -> dict[str, str]:
    """Return the photo's suggestions for fields the lead has no value in yet."""
    offered = {}
    for field, value in (photo.suggestions or {}).items():
        if field == "website":
            if not _has_website(lead, value):
                offered[field] = value
        elif field in LEAD_FIELDS and not getattr(lead, field):
            offered[field] = value
    return offered


def accepted_change(lead: Lead, photo: CardPhoto, field: str) -> dict[str, Any] | None:
    """Return the lead edit that accepts one suggestion, or None when it is not on offer."""
    value = open_suggestions(lead, photo).get(field)
    if value is None:
        return None
    if field == "website":
        notes = (lead.notes or "").rstrip()
        return {"notes": f"{notes}\n{WEBSITE_NOTE}{value}".strip()}
    return {field: value}


# Run by every pull: built once (docs/performance.md).
_READ_AFTER = (
    select(CardPhoto)
    .where(
        CardPhoto.device_id == bindparam("device_id"),
        CardPhoto.server_version > bindparam("cursor"),
        CardPhoto.read_at.is_not(None),
    )
    .order_by(CardPhoto.server_version)
    .limit(bindparam("limit"))
)


def card_changes(device_id: int, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Return up to limit read cards of device_id's leads after cursor, as pull changes."""
    photos = db.session.scalars(
        _READ_AFTER, {"device_id": device_id, "cursor": cursor, "limit": limit}
    ).all()
    return [{"kind": "card", "version": photo.server_version, "row": photo} for photo in photos]


def card_data(photo: CardPhoto) -> dict[str, Any]:
    """Return what a tablet needs to offer a card's suggestions: lead, photo and fields."""
    return {
        "lead_id": str(photo.lead_id),
        "sha256": photo.sha256,
        "suggestions": dict(photo.suggestions or {}),
    }
