"""Create the demo event, its people and a pairing code, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from server.devices.service import issue_pairing_code
from server.events.models import Event
from server.events.service import add_member, create_event
from server.extensions import db
from server.users.models import Role, User
from server.users.service import create_user

DEMO_PASSWORD = "leadbridge-demo"
DEMO_EVENT_NAME = "Demo Expo"
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", Role.ADMIN, [], []),
    ("marketer@example.com", "Mia Marketing", Role.MARKETER, [], []),
    ("rep.north@example.com", "Nils North", Role.REP, ["DE", "DK", "SE"], ["scanner"]),
    ("rep.south@example.com", "Sofia South", Role.REP, ["IT", "ES", "FR"], ["analytics"]),
    ("staff@example.com", "Sam Booth", Role.STAFF, [], []),
)
DEMO_QUESTIONS = [
    {"id": "budget", "label": "Is budget confirmed?", "type": "yes_no", "required": True},
    {
        "id": "timeframe",
        "label": "When do they want to buy?",
        "type": "single_choice",
        "required": False,
        "options": ["This quarter", "This year", "Later"],
    },
    {
        "id": "role",
        "label": "Their role in the decision",
        "type": "single_choice",
        "required": False,
        "options": ["Decision maker", "Influencer", "User"],
    },
    {"id": "seats", "label": "How many users?", "type": "number", "required": False},
    {"id": "pain", "label": "What problem are they solving?", "type": "text", "required": False},
]
DEMO_PRODUCTS = [
    {"id": "scanner", "name": "Badge scanner kit"},
    {"id": "crm-sync", "name": "CRM sync"},
    {"id": "analytics", "name": "Event analytics"},
]
DEMO_CONSENT = (
    "I agree that Demo Corp may store my details to follow up on this conversation "
    "and send me related product information. I can withdraw at any time."
)


@dataclass(frozen=True)
class DemoInfo:
    """What to tell the person who just seeded the demo."""

    event_id: int
    pairing_code: str
    created: bool


def seed_demo(today: date | None = None) -> DemoInfo:
    """Create the demo data unless it exists; always issue a fresh pairing code."""
    event = db.session.scalars(select(Event).where(Event.name == DEMO_EVENT_NAME)).first()
    created = event is None
    if event is None:
        start = today or date.today()
        users = {}
        for email, name, role, territory, products in DEMO_USERS:
            existing = db.session.scalars(select(User).where(User.email == email)).first()
            users[email] = existing or create_user(
                {
                    "email": email,
                    "name": name,
                    "role": role,
                    "password": DEMO_PASSWORD,
                    "territory": territory,
                    "products": products,
                    "daily_capacity": 25 if role == Role.REP else None,
                }
            )
        event = create_event(
            {
                "name": DEMO_EVENT_NAME,
                "venue": "Messe Berlin",
                "starts_on": start,
                "ends_on": start + timedelta(days=2),
                "timezone": "Europe/Berlin",
                "country": "DE",
                "booth": "Hall 2, Stand B14",
                "campaign_code": "DEMO-EXPO",
                "cost": Decimal("25000.00"),
                "currency": "EUR",
                "target_leads": 300,
                "target_hot_leads": 60,
                "questions": DEMO_QUESTIONS,
                "products": DEMO_PRODUCTS,
                "consent_text": DEMO_CONSENT,
            }
        )
        for email, _name, role, _territory, _products in DEMO_USERS:
            if role in (Role.STAFF, Role.REP):
                add_member(event, users[email].id)
    admin = db.session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    code = issue_pairing_code(event, admin, valid_minutes=7 * 24 * 60)["code"]
    return DemoInfo(event_id=event.id, pairing_code=code, created=created)
