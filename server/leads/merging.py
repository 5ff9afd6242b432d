"""Recognise a person captured twice at one event, and fold the later capture into the first.

The same person is the same normalised email, or, when the new capture has no email, the
same normalised phone (both normalised by sync/contact.py before they reach here). The
earlier lead carries on: it takes the higher rating, answers it lacked, and the union of
products. The later capture is kept as its own row, with its author, notes and answers,
marked merged_into, so nothing anyone typed is lost and its tablet learns of the merge.

Two tablets pushing the same person at once must not both become the first capture. On
PostgreSQL each person looked up is locked (a transaction-level advisory lock) until the
looking transaction commits, so the second push waits for the first and then finds its
lead; pushes of different people never wait for each other. SQLite runs one writing
transaction at a time: there a no-op write takes that one write lock before the lookup.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger

from server.extensions import db
from server.leads.models import Lead, Rating

_RANK = {None: 0, Rating.COLD: 1, Rating.WARM: 2, Rating.HOT: 3}


def identity(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return what identifies the person of a lead row: its email, else its phone."""
    if row.get("email"):
        return ("email", row["email"])
    if row.get("phone"):
        return ("phone", row["phone"])
    return None


def higher_rating(first: Rating | None, second: Rating | None) -> Rating | None:
    """Return the hotter of two ratings."""
    return second if _RANK[second] > _RANK[first] else first


def merged_changes(primary: Mapping[str, Any], duplicate: Mapping[str, Any]) -> dict[str, Any]:
    """Return the columns of primary that change when duplicate is merged into it."""
    changes: dict[str, Any] = {}
    rating = higher_rating(primary.get("rating"), duplicate.get("rating"))
    if rating != primary.get("rating"):
        changes["rating"] = rating
    answers = dict(primary.get("answers") or {})
    for question, answer in (duplicate.get("answers") or {}).items():
        answers.setdefault(question, answer)
    if answers != (primary.get("answers") or {}):
        changes["answers"] = answers
    products = list(dict.fromkeys([*(primary.get("products") or []), *duplicate["products"]]))
    if products != list(primary.get("products") or []):
        changes["products"] = products
    if duplicate.get("follow_up") and not primary.get("follow_up"):
        changes["follow_up"] = True
    return changes


def lead_values(lead: Lead) -> dict[str, Any]:
    """Return the columns of a stored lead that merging reads."""
    return {
        "rating": lead.rating,
        "answers": lead.answers,
        "products": lead.products,
        "follow_up": lead.follow_up,
    }


_LOCK_PEOPLE = text(
    # unnest yields the (sorted) array in order, so every transaction locks in one order.
    "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(:keys) AS people(key)"
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


_TAKE_SQLITE_WRITE_LOCK = text("UPDATE counters SET value = value WHERE name = 'server_version'")


def _lock_key(event_id: int, key: tuple[str, str]) -> int:
    """Return a signed 64-bit advisory-lock key for one person at one event."""
    digest = hashlib.blake2b(f"{event_id}:{key[0]}:{key[1]}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_people(event_id: int, keys: Iterable[tuple[str, str]]) -> None:
    """Hold the people of keys at event_id until commit (PostgreSQL; see the module)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(_TAKE_SQLITE_WRITE_LOCK)
        return
    lock_keys = sorted({_lock_key(event_id, key) for key in keys})
    if lock_keys:
        db.session.execute(_LOCK_PEOPLE, {"keys": lock_keys})


# Run by every push that captures someone: built once (docs/performance.md). Ids, not
# objects: most captures are of someone not met before, and only a repeat needs its lead.
_PEOPLES_LEADS = (
    select(Lead.id, Lead.email, Lead.phone)
    .where(Lead.event_id == bindparam("event_id"), Lead.merged_into_id.is_(None))
    .where(
        or_(
            Lead.email.in_(bindparam("emails", expanding=True)),
            Lead.phone.in_(bindparam("phones", expanding=True)),
        )
    )
    .order_by(Lead.received_at, Lead.id)
)
_LEADS_BY_ID = select(Lead).where(Lead.id.in_(bindparam("lead_ids", expanding=True)))


class DuplicateFinder:
    """Find the lead a new capture repeats: earlier in the same batch, else in the database."""

    def __init__(self, event_id: int):
        self.event_id = event_id
        self.in_batch: dict[tuple[str, str], dict[str, Any]] = {}
        # Looked up ahead for a whole batch: identity -> the earliest stored lead, or None.
        self.stored: dict[tuple[str, str], Lead | None] = {}

    def prefetch(self, rows: list[Mapping[str, Any]]) -> None:
        """Look up the stored leads of many rows' people in one query."""
        keys = {key for key in map(identity, rows) if key is not None}
        if not keys:
            return
        lock_people(self.event_id, keys)
        emails = [value for kind, value in keys if kind == "email"]
        phones = [value for kind, value in keys if kind == "phone"]
        found = db.session.execute(
            _PEOPLES_LEADS, {"event_id": self.event_id, "emails": emails, "phones": phones}
        )
        for key in keys:
            self.stored[key] = None
        # Each person's earliest lead: the rows come in capture order.
        earliest: dict[tuple[str, str], uuid.UUID] = {}
        for lead_id, email, phone in found:
            for key in (("email", email), ("phone", phone)):
                if key in self.stored and self.stored[key] is None:
                    earliest.setdefault(key, lead_id)
        if not earliest:
            return
        leads = {
            lead.id: lead
            for lead in db.session.scalars(
                _LEADS_BY_ID, {"lead_ids": sorted(set(earliest.values()))}
            )
        }
        for key, lead_id in earliest.items():
            self.stored[key] = leads[lead_id]

    def find(self, row: Mapping[str, Any]) -> Lead | dict[str, Any] | None:
        """Return the primary lead (a stored Lead or a batch row) for row, or None."""
        key = identity(row)
        if key is None:
            return None
        if key in self.in_batch:
            return self.in_batch[key]
        if key in self.stored:
            return self.stored[key]
        lock_people(self.event_id, [key])
        column = Lead.email if key[0] == "email" else Lead.phone
        return db.session.scalars(
            select(Lead)
            .where(Lead.event_id == self.event_id, column == key[1])
            .where(Lead.merged_into_id.is_(None), Lead.id != row["id"])
            .order_by(Lead.received_at, Lead.id)
            .limit(1)
        ).first()

    def forget_batch(self) -> None:
        """Drop batch rows once inserted: from then on the database finds them."""
        for key in self.in_batch:
            self.stored.pop(key, None)
        self.in_batch.clear()

    def remember(self, row: dict[str, Any]) -> None:
        """Note a new primary lead of this batch, so later captures in it merge into it."""
        key = identity(row)
        if key is not None:
            self.in_batch.setdefault(key, row)


def duplicate_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the primary's timeline keeps of a merged capture, with its author."""
    return {
        "duplicate_id": str(row["id"]),
        "captured_by_id": row["captured_by_id"],
        "captured_at": row["captured_at"].isoformat(),
        "rating": row["rating"].value if row.get("rating") else None,
        "notes": row.get("notes"),
        "answers": row.get("answers") or {},
        "products": row.get("products") or [],
    }


def primary_id(primary: Lead | Mapping[str, Any]) -> uuid.UUID:
    """Return the id of a primary lead, stored or in the batch."""
    return primary.id if isinstance(primary, Lead) else primary["id"]
