"""Decide which alerts a routed lead owes, as outbox rows for the same transaction."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from server.alerts.models import AlertJob, AlertKind, Channel, JobStatus
from server.alerts.queue import prepare_rows
from server.bulk_insert import insert_rows
from server.events.models import Event
from server.extensions import db


def idempotency_key(
    lead_id: uuid.UUID, rep_id: int, kind: AlertKind, channel: Channel, target: str
) -> str:
    """Return the key that makes one alert unique: this lead, to this rep, for this reason."""
    where = hashlib.sha256(target.encode()).hexdigest()[:12]
    return f"{lead_id}:{rep_id}:{kind.value}:{channel.value}:{where}"


class Recipient(Protocol):
    """What alerting reads of a rep: a User, or the light row routing loads."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def alerts(self) -> dict[str, Any]: ...


def targets(event: Event, rep: Recipient) -> list[tuple[Channel, str]]:
    """Return the channels and addresses an alert to rep about event goes to."""
    mine, theirs = rep.alerts or {}, event.alerts or {}
    chosen: list[tuple[Channel, str]] = []
    if mine.get("email", True) and theirs.get("email", True):
        chosen.append((Channel.EMAIL, rep.email))
    for channel, key in ((Channel.WEBHOOK, "webhook_url"), (Channel.CHAT, "chat_webhook_url")):
        for url in dict.fromkeys(u for u in (mine.get(key), theirs.get(key)) if u):
            chosen.append((channel, url))
    return chosen


def alert_rows(
    event: Event,
    rep: Recipient,
    lead_id: uuid.UUID,
    kind: AlertKind,
    now: datetime,
    channels: list[tuple[Channel, str]] | None = None,
) -> list[dict[str, Any]]:
    """Return the outbox rows for one alert to rep, one per channel.

    channels, when given, are what targets(event, rep) returned (a batch asks once per rep).
    """
    return [
        job_row(
            lead_id,
            kind,
            channel,
            target,
            idempotency_key(lead_id, rep.id, kind, channel, target),
            now,
            rep_id=rep.id,
        )
        for channel, target in (targets(event, rep) if channels is None else channels)
    ]


def job_row(
    lead_id: uuid.UUID,
    kind: AlertKind,
    channel: Channel,
    target: str,
    key: str,
    now: datetime,
    *,
    rep_id: int | None = None,
    consent_version: int | None = None,
) -> dict[str, Any]:
    """Return one pending outbox row, due now; every row has the same columns (multi-row INSERT)."""
    return {
        "lead_id": lead_id,
        "rep_id": rep_id,
        "kind": kind,
        "channel": channel,
        "target": target,
        "idempotency_key": key,
        "status": JobStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "delivered_at": None,
        "consent_version": consent_version,
    }


def insert_new_alerts(rows: list[dict[str, Any]]) -> None:
    """Add alert jobs whose idempotency key is not in the outbox yet (same transaction)."""
    keys = [row["idempotency_key"] for row in rows]
    if not keys:
        return
    known = set(
        db.session.scalars(
            select(AlertJob.idempotency_key).where(AlertJob.idempotency_key.in_(keys))
        )
    )
    write_jobs([row for row in rows if row["idempotency_key"] not in known])


def write_jobs(rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows in the current transaction (handed to RQ after commit in RQ mode)."""
    if rows:
        prepare_rows(rows)
        insert_rows(AlertJob.__table__, rows)
