"""Pair tablets with events through one-time codes, and revoke them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from server.auth.tokens import (
    new_device_token,
    new_pairing_code,
    normalise_pairing_code,
    token_hash,
)
from server.db_types import utcnow
from server.devices.models import Device, PairingCode
from server.errors import fail
from server.events.models import Event
from server.extensions import db
from server.users.models import User


def issue_pairing_code(
    event: Event, created_by: User | None, valid_minutes: int | None = None
) -> dict[str, Any]:
    """Create a single-use code for pairing one tablet with event; return it once."""
    if not event.active:
        fail(409, "This event is not active.")
    minutes = valid_minutes or current_app.config["LEADBRIDGE_PAIRING_CODE_TTL_MINUTES"]
    code = new_pairing_code()
    row = PairingCode(
        event_id=event.id,
        code_hash=token_hash(normalise_pairing_code(code)),
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(minutes=minutes),
    )
    db.session.add(row)
    db.session.commit()
    return {"code": code, "event_id": event.id, "expires_at": row.expires_at}


def pair_device(code: str, name: str) -> dict[str, Any]:
    """Spend a pairing code on a new tablet; return the tablet, its token and its event."""
    now = utcnow()
    # Mark the code used in one conditional UPDATE, so two tablets racing for the
    # same code cannot both win.
    spent = db.session.execute(
        update(PairingCode)
        .where(
            PairingCode.code_hash == token_hash(normalise_pairing_code(code)),
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(PairingCode.id, PairingCode.event_id, PairingCode.created_by_id)
    ).first()
    if spent is None:
        db.session.rollback()
        fail(401, "This pairing code is unknown, used or expired.")
    event = db.session.get(Event, spent.event_id)
    if event is None or not event.active:
        db.session.rollback()
        fail(409, "This event is not active.")
    secret = new_device_token()
    device = Device(
        name=name,
        event_id=event.id,
        token_hash=token_hash(secret),
        paired_by_id=spent.created_by_id,
        paired_at=now,
        last_seen_at=now,
    )
    db.session.add(device)
    db.session.flush()
    db.session.execute(
        update(PairingCode).where(PairingCode.id == spent.id).values(device_id=device.id)
    )
    db.session.commit()
    return {"token": secret, "device": device, "event": event}


def revoke_device(device: Device, revoked_by: User | None) -> Device:
    """Revoke a tablet: its token stops working with its next request."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by_id = revoked_by.id if revoked_by else None
        db.session.commit()
    return device


def list_devices(event_id: int | None, revoked: bool | None) -> list[Device]:
    """Return tablets, optionally of one event and by revocation state."""
    query = select(Device).order_by(Device.event_id, Device.id)
    if event_id is not None:
        query = query.where(Device.event_id == event_id)
    if revoked is not None:
        query = query.where(
            Device.revoked_at.is_not(None) if revoked else Device.revoked_at.is_(None)
        )
    return list(db.session.scalars(query))
