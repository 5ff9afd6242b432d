"""Create and change events, versioning their consent text and configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from server.devices.models import Device, PairingCode
from server.errors import fail, fail_validation
from server.events.models import Event, EventMember, RubricVersion
from server.extensions import db
from server.leads.models import Lead
from server.users.models import Role, User
from server.users.service import require_role
from server.versioning import next_server_version
from sync.scoring import EMPTY_RUBRIC

MEMBER_ROLES = (Role.STAFF, Role.REP, Role.MARKETER, Role.ADMIN)


def _rubric_errors(event: Event, rubric: dict[str, Any]) -> list[str]:
    questions = {question["id"]: question for question in event.questions}
    products = {product["id"] for product in event.products}
    errors = []
    for number, rule in enumerate(rubric["rules"], start=1):
        if "product" in rule and rule["product"] not in products:
            errors.append(f"Rule {number}: this event has no product {rule['product']}.")
        if "question" in rule and rule["question"] not in questions:
            errors.append(f"Rule {number}: this event has no question {rule['question']}.")
    return errors


def _set_rubric(event: Event, rubric: dict[str, Any], author: User | None) -> None:
    """Give the event a new rubric version and keep the old one for the leads it scored."""
    problems = _rubric_errors(event, rubric)
    if problems:
        fail_validation({"rubric": problems})
    version = (event.rubric or {}).get("version", 0) + 1
    event.rubric = {**rubric, "version": version}
    db.session.add(
        RubricVersion(
            event=event,
            version=version,
            rubric=event.rubric,
            created_by_id=author.id if author else None,
        )
    )


def _check_routing(routing: dict[str, Any]) -> None:
    reps = {
        rep_id
        for rule in routing.get("rules", [])
        for rep_id in [rule.get("rep_id"), *rule.get("rep_ids", [])]
        if rep_id
    }
    for rep_id in sorted(reps):
        require_role(rep_id, "routing", Role.REP)
    for key in ("fallback_owner_id", "backup_owner_id"):
        if routing.get(key):
            require_role(routing[key], "routing", Role.REP, Role.MARKETER, Role.ADMIN)


def _apply(event: Event, fields: dict[str, Any], author: User | None = None) -> None:
    # Tablets pull configuration in the same ordered stream as leads.
    event.server_version = next_server_version()
    rubric = fields.pop("rubric", None)
    if "routing" in fields:
        _check_routing(fields["routing"])
    if "alerts" in fields:
        # Keep a webhook secret set earlier unless this change names a new one.
        fields["alerts"] = {**(event.alerts or {}), **fields["alerts"]}
    if "consent_text" in fields and fields["consent_text"] != event.consent_text:
        # Each wording gets its own number so a lead records exactly what the visitor saw.
        event.consent_version = (event.consent_version or 0) + 1
    for name, value in fields.items():
        setattr(event, name, value)
    if event.ends_on < event.starts_on:
        fail_validation({"ends_on": ["The event cannot end before it starts."]})
    if rubric is not None:
        _set_rubric(event, rubric, author)


def create_event(fields: dict[str, Any], author: User | None = None) -> Event:
    """Create an event from validated fields and commit."""
    event = Event(questions=[], products=[], rubric=dict(EMPTY_RUBRIC), consent_version=0)
    _apply(event, fields, author)
    db.session.add(event)
    db.session.commit()
    return event


def update_event(event: Event, fields: dict[str, Any], author: User | None = None) -> Event:
    """Change an event and commit."""
    _apply(event, fields, author)
    db.session.commit()
    return event


def delete_event(event: Event) -> None:
    """Delete an event nothing refers to yet; others are deactivated instead."""
    in_use = [
        select(exists().where(model.event_id == event.id)) for model in (Lead, Device, PairingCode)
    ]
    if any(db.session.scalar(query) for query in in_use):
        fail(409, "This event has leads or tablets; set active to false instead of deleting it.")
    db.session.delete(event)
    db.session.commit()


def add_member(event: Event, user_id: int) -> EventMember:
    """Add a user to the people working an event (idempotent)."""
    user: User = require_role(user_id, "user_id", *MEMBER_ROLES)
    member = db.session.execute(
        select(EventMember).where(EventMember.event_id == event.id, EventMember.user_id == user.id)
    ).scalar_one_or_none()
    if member is None:
        event.server_version = next_server_version()
        member = EventMember(event=event, user=user)
        db.session.add(member)
        db.session.commit()
    return member


def remove_member(event: Event, user_id: int) -> None:
    """Remove a user from an event's people."""
    member = db.session.execute(
        select(EventMember).where(EventMember.event_id == event.id, EventMember.user_id == user_id)
    ).scalar_one_or_none()
    if member is None:
        fail(404, "This user does not work this event.")
    event.server_version = next_server_version()
    db.session.delete(member)
    db.session.commit()
