"""Consent: versioned texts per event and language, and each lead's consent record.

An event's consent texts share one version counter (event.consent_version, which the
event's own consent_text also bumps), so a lead's consent version plus its language
name exactly the wording the visitor saw. A record per lead keeps what was agreed
(purposes), in which language, when, by whom and on which tablet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from server.bulk_insert import insert_rows
from server.devices.models import Device
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead
from server.privacy.models import AuditAction, AuditEntry, ConsentRecord, ConsentText
from server.users.models import User
from server.versioning import next_server_version


def add_consent_text(event: Event, language: str, text: str, actor: User) -> ConsentText:
    """Add a new wording for one language as the event's next consent version."""
    # Versions first (server/versioning.py): tablets pull the event with its new text.
    event.server_version = next_server_version()
    event.consent_version = (event.consent_version or 0) + 1
    wording = ConsentText(
        event_id=event.id,
        version=event.consent_version,
        language=language,
        text=text,
        created_by_id=actor.id,
    )
    db.session.add(wording)
    db.session.add(
        AuditEntry(
            actor_user_id=actor.id,
            action=AuditAction.CONSENT_TEXT,
            detail={"event_id": event.id, "version": event.consent_version, "language": language},
        )
    )
    db.session.commit()
    return wording


def consent_texts(event_id: int) -> list[ConsentText]:
    """Return every wording of the event, newest version first."""
    return list(
        db.session.scalars(
            select(ConsentText)
            .where(ConsentText.event_id == event_id)
            .order_by(ConsentText.version.desc(), ConsentText.language)
        )
    )


def current_texts(event: Event) -> list[dict[str, Any]]:
    """Return the newest wording per language, as a tablet offers them."""
    latest: dict[str, ConsentText] = {}
    for wording in consent_texts(event.id):
        latest.setdefault(wording.language, wording)
    return [
        {"language": w.language, "version": w.version, "text": w.text}
        for w in sorted(latest.values(), key=lambda w: w.language)
    ]


def record_consents(
    device: Device, created: Iterable[tuple[uuid.UUID, Mapping[str, Any], int]]
) -> None:
    """Write the consent record of each newly created lead (in the push transaction).

    created holds (lead id, the create's validated consent object, who captured it). A
    create without language or purposes (an older app) records them as unknown.
    """
    records = [
        {
            "lead_id": lead_id,
            "text_version": consent.get("version"),
            "language": consent.get("language"),
            "purposes": sorted(set(consent.get("purposes") or [])),
            # As the lead's consent_by_id and consent_at columns were set from the same create.
            "captured_by_id": captured_by_id,
            "device_id": device.id,
            "at": consent.get("at"),
        }
        for lead_id, consent, captured_by_id in created
        if consent.get("given")  # no consent given: nothing was agreed
    ]
    if records:
        # New leads have no record yet: one multi-row INSERT, no look-up per lead.
        insert_rows(ConsentRecord.__table__, records)


def record_changed_consent(lead: Lead, consent: Mapping[str, Any], device_id: int | None) -> None:
    """Record a lead's consent as edited after capture (or drop the record when withdrawn)."""
    if not lead.consent_given:
        record = db.session.get(ConsentRecord, lead.id)
        if record is not None:
            db.session.delete(record)
        return
    db.session.merge(
        ConsentRecord(
            lead_id=lead.id,
            text_version=consent.get("version"),
            language=consent.get("language"),
            purposes=sorted(set(consent.get("purposes") or [])),
            captured_by_id=lead.consent_by_id or lead.captured_by_id,
            device_id=device_id,
            at=lead.consent_at,
        )
    )


def consent_of(lead: Lead) -> dict[str, Any]:
    """Return what the lead's visitor agreed to, with the wording, for the lead page."""
    record = db.session.get(ConsentRecord, lead.id)
    wording = None
    if lead.consent_given and lead.consent_version:
        query = select(ConsentText).where(
            ConsentText.event_id == lead.event_id, ConsentText.version == lead.consent_version
        )
        if record is not None and record.language:
            query = query.where(ConsentText.language == record.language)
        wording = db.session.scalars(query.limit(1)).first()
    return {
        "given": lead.consent_given,
        "version": lead.consent_version,
        "at": lead.consent_at,
        "captured_by_id": record.captured_by_id if record else lead.consent_by_id,
        "device_id": record.device_id if record else lead.device_id,
        "language": record.language if record else None,
        "purposes": record.purposes if record else [],
        "text": wording.text if wording else None,
    }
