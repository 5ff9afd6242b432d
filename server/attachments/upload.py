"""Resumable, checksummed, exactly-once uploads of card photos by the tablet that owns the lead.

The tablet declares a photo (lead, SHA-256, size), asks how much the server holds, and sends
the rest in chunks at the offset the server names. A chunk is stored whole or not at all (its
body is read completely before anything is written), the stored length moves by a
compare-and-set, so a chunk sent twice after a cut connection is refused with the offset to go
on from, and the last chunk is checked against the SHA-256 before the photo counts as received.
Receiving it queues the card-reading job in the same transaction (server/attachments/reading.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.alerts.models import AlertKind, Channel
from server.alerts.outbox import job_row, write_jobs
from server.attachments.models import CardPhoto
from server.attachments.storage import storage
from server.devices.models import Device
from server.errors import fail
from server.extensions import db
from server.leads.models import Lead
from server.privacy.models import LeadTombstone

MAX_PHOTO_BYTES = 8 * 1024 * 1024  # a 1600-pixel JPEG is well under 1 MiB
MAX_CHUNK_BYTES = 512 * 1024
CONTENT_TYPES = ("image/jpeg",)


def _owned_lead(device: Device, lead_id: uuid.UUID) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        if db.session.get(LeadTombstone, lead_id) is not None:
            fail(410, "This lead was erased: delete its photo.")
        fail(404, "No such lead on the server yet: push the lead first.")
    if lead.device_id != device.id:
        fail(403, "Only the tablet that captured a lead may attach photos to it.")
    return lead


def find_photo(device: Device, lead_id: uuid.UUID, sha256: str) -> CardPhoto:
    """Return the tablet's photo of lead_id named sha256, answering 404 when there is none."""
    _owned_lead(device, lead_id)
    photo = db.session.scalars(
        select(CardPhoto).where(CardPhoto.lead_id == lead_id, CardPhoto.sha256 == sha256)
    ).first()
    if photo is None:
        fail(404, "No such photo: declare it first.")
    return photo


def declare(
    device: Device, lead_id: uuid.UUID, sha256: str, size: int, content_type: str
) -> CardPhoto:
    """Record that a photo is coming (once: declaring it again returns the same photo)."""
    _owned_lead(device, lead_id)
    query = select(CardPhoto).where(CardPhoto.lead_id == lead_id, CardPhoto.sha256 == sha256)
    photo = db.session.scalars(query).first()
    if photo is not None:
        if photo.size != size:
            fail(409, "This photo was declared with another size.", errors={"size": photo.size})
        return photo
    photo = CardPhoto(
        lead_id=lead_id, device_id=device.id, sha256=sha256, size=size, content_type=content_type
    )
    db.session.add(photo)
    try:
        db.session.commit()
    except IntegrityError:  # the same declaration, sent twice at once
        db.session.rollback()
        photo = db.session.scalars(query).one()
    return photo


def _behind(photo: CardPhoto, offset: int) -> None:
    fail(
        409,
        f"The server holds {photo.received} bytes of this photo: send from there.",
        errors={"offset": photo.received},
    )


def append(photo: CardPhoto, offset: int, data: bytes, now: datetime | None = None) -> CardPhoto:
    """Store one chunk at offset; on the last, check the SHA-256 and queue the reading."""
    if photo.complete:
        return photo  # already received whole: a repeat changes nothing
    if offset != photo.received:
        _behind(photo, offset)
    if not data or offset + len(data) > photo.size:
        fail(422, "A chunk must hold between 1 byte and the rest of the photo.")
    end = offset + len(data)
    taken = db.session.execute(
        update(CardPhoto)
        .where(CardPhoto.id == photo.id, CardPhoto.received == offset)
        .where(CardPhoto.completed_at.is_(None))
        .values(received=end)
    ).rowcount
    if not taken:  # another request stored this chunk first
        db.session.rollback()
        db.session.refresh(photo)
        if photo.complete:
            return photo
        _behind(photo, offset)
    blobs = storage()
    # The bytes reach the disk before the length that admits them is committed.
    blobs.write_at(str(photo.id), offset, data)
    if end == photo.size:
        _complete(photo, now or datetime.now(UTC))
    db.session.commit()
    db.session.refresh(photo)
    return photo


def _complete(photo: CardPhoto, now: datetime) -> None:
    """Check the whole photo against its SHA-256; queue its reading in this transaction."""
    blobs = storage()
    if not blobs.finish(str(photo.id), photo.sha256):
        blobs.discard(str(photo.id))
        db.session.execute(update(CardPhoto).where(CardPhoto.id == photo.id).values(received=0))
        db.session.commit()
        fail(
            422,
            "The photo's bytes do not match its SHA-256: send it again from 0.",
            errors={"offset": 0},
        )
    db.session.execute(update(CardPhoto).where(CardPhoto.id == photo.id).values(completed_at=now))
    key = f"card-reading:{photo.id}"
    job = job_row(photo.lead_id, AlertKind.CARD_READING, Channel.INTERNAL, str(photo.id), key, now)
    write_jobs([job])
