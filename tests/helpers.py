"""Helpers that drive the API the way clients do, for tests and benchmarks."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import itsdangerous.timed
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from server.alerts.links import ACK_LINK_DAYS
from server.auth.service import issue_token
from server.extensions import db
from server.users.models import Role
from server.users.service import create_user

PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD)


Headers = dict[str, str]


def move_past_ack_link_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make signed acknowledge links read as a minute past their lifetime (undo to return)."""
    late = time.time() + ACK_LINK_DAYS * 24 * 3600 + 60

    class Later:
        @staticmethod
        def time() -> float:
            return late

    monkeypatch.setattr(itsdangerous.timed, "time", Later)


def skip_unless_postgres(database_url: str, why: str = "") -> None:
    """Skip the calling test on SQLite: it is about PostgreSQL, which CI's second run has."""
    if database_url.startswith("sqlite"):
        reason = "needs PostgreSQL (LEADBRIDGE_TEST_DATABASE_URL)"
        pytest.skip(f"{reason}: {why}" if why else reason)


def tampered_signature(signature: str) -> str:
    """Change a base64 signature's first character.

    The last character of unpadded base64 carries spare bits a decoder ignores, so
    changing it can leave the signature valid; the first always changes a byte.
    """
    return ("B" if signature[0] == "A" else "A") + signature[1:]


def bearer(token: str) -> Headers:
    """Return the Authorization header for token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Person:
    """A user created for a test, with a logged-in token."""

    id: int
    email: str
    role: Role
    headers: Headers = field(repr=False)


@dataclass
class Tablet:
    """A tablet paired for a test."""

    id: int
    event_id: int
    headers: Headers = field(repr=False)
    token: str = field(repr=False)


def event_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid event creation body."""
    body: dict[str, Any] = {
        "name": "Test Expo",
        "venue": "Hall 1",
        "starts_on": "2026-11-23",
        "ends_on": "2026-11-25",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "booth": "B1",
        "campaign_code": "TEST-26",
        "cost": "1000.00",
        "target_leads": 100,
        "target_hot_leads": 20,
        "questions": [
            {"id": "budget", "label": "Budget?", "type": "yes_no", "required": True},
            {
                "id": "timeframe",
                "label": "When?",
                "type": "single_choice",
                "options": ["Now", "Later"],
            },
            {
                "id": "topics",
                "label": "Topics",
                "type": "multiple_choice",
                "options": ["A", "B", "C"],
            },
            {"id": "seats", "label": "Seats", "type": "number"},
            {"id": "pain", "label": "Pain", "type": "text"},
        ],
        "products": [{"id": "scanner", "name": "Scanner"}, {"id": "crm", "name": "CRM"}],
        "consent_text": "You may contact me.",
    }
    body.update(overrides)
    return body


def lead_body(captured_by_id: int, **overrides: Any) -> dict[str, Any]:
    """Return a valid lead as a tablet sends it, for the event of event_body()."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "captured_by_id": captured_by_id,
        "captured_at": datetime.now(UTC).isoformat(),
        "first_name": "Ann",
        "last_name": "Example",
        # A person of their own: the server merges captures of the same email at an event.
        "email": f"Ann.Example.{uuid.uuid4().hex[:8]}@Example.COM",
        "phone": "030 1234567",
        "company": "Example GmbH",
        "job_title": "CTO",
        "country": "de",
        "source": "manual",
        "answers": {"budget": True, "timeframe": "Now", "seats": 12},
        "products": ["scanner"],
        "rating": "hot",
        "notes": "Wants a demo.",
        "follow_up": True,
        "consent": {"given": True, "version": 1, "at": datetime.now(UTC).isoformat()},
    }
    body.update(overrides)
    return body


def create_mutation(mutation_id: int, captured_by_id: int, **overrides: Any) -> dict[str, Any]:
    """Return a sync 'create' mutation for a new lead."""
    fields = lead_body(captured_by_id, **overrides)
    lead_id = fields.pop("id")
    return {"mutation_id": mutation_id, "kind": "create", "lead_id": lead_id, "fields": fields}


def push_body(captured_by_id: int, first_id: int = 1, count: int = 1) -> dict[str, Any]:
    """Return a push body of count new leads with consecutive mutation ids."""
    return {
        "mutations": [create_mutation(first_id + offset, captured_by_id) for offset in range(count)]
    }


class ApiHelper:
    """Create people, events, tablets and leads through the public API."""

    def __init__(self, app: Flask, client: FlaskClient):
        self.app = app
        self.client = client
        self._count = 0

    def person(self, role: Role | str, **fields: Any) -> Person:
        """Create a user with role and log them in."""
        self._count += 1
        role = Role(role)
        email = fields.pop("email", f"{role.value}{self._count}@example.com")
        with self.app.app_context():
            user = create_user(
                {"email": email, "name": f"{role.value} {self._count}", "role": role, **fields}
            )
            # Hashing is deliberately slow, so hash the shared test password only once.
            user.password_hash = _password_hash()
            db.session.commit()
            token = issue_token(user)["token"]
            return Person(user.id, email, role, bearer(token))

    def login(self, email: str, password: str = PASSWORD) -> Headers:
        """Log in and return the bearer header."""
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 201, response.json
        return bearer(response.json["token"])

    def event(self, manager: Person, **overrides: Any) -> dict[str, Any]:
        """Create an event as manager."""
        response = self.client.post(
            "/api/v1/events", json=event_body(**overrides), headers=manager.headers
        )
        assert response.status_code == 201, response.json
        return response.json

    def add_member(self, manager: Person, event_id: int, user_id: int) -> None:
        """Put a user on an event's team."""
        response = self.client.post(
            f"/api/v1/events/{event_id}/members",
            json={"user_id": user_id},
            headers=manager.headers,
        )
        assert response.status_code == 201, response.json

    def tablet(self, manager: Person, event_id: int, name: str = "Tablet") -> Tablet:
        """Pair a tablet with an event."""
        code = self.client.post(
            "/api/v1/devices/pairing-codes", json={"event_id": event_id}, headers=manager.headers
        )
        assert code.status_code == 201, code.json
        paired = self.client.post(
            "/api/v1/devices/pair", json={"code": code.json["code"], "name": name}
        )
        assert paired.status_code == 201, paired.json
        token = paired.json["token"]
        return Tablet(paired.json["device"]["id"], event_id, bearer(token), token)

    def capture(self, tablet: Tablet, staff: Person, **overrides: Any) -> dict[str, Any]:
        """Send a lead from tablet, captured by staff."""
        response = self.client.post(
            "/api/v1/leads", json=lead_body(staff.id, **overrides), headers=tablet.headers
        )
        assert response.status_code == 201, response.json
        return response.json


@dataclass
class Booth:
    """A ready event: its manager, a staff member and a rep on the team, and a tablet."""

    admin: Person
    marketer: Person
    staff: Person
    rep: Person
    event: dict[str, Any]
    tablet: Tablet


def make_booth(api: ApiHelper) -> Booth:
    """Create an event with a team and a paired tablet."""
    admin = api.person(Role.ADMIN)
    marketer = api.person(Role.MARKETER)
    staff = api.person(Role.STAFF)
    rep = api.person(Role.REP)
    event = api.event(marketer)
    for member in (staff, rep):
        api.add_member(marketer, event["id"], member.id)
    tablet = api.tablet(marketer, event["id"])
    return Booth(admin, marketer, staff, rep, event, tablet)
