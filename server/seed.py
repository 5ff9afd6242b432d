"""Create the demo event, its people and a pairing code, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from server.devices.service import issue_pairing_code
from server.events.models import Event
from server.events.service import add_member, create_event, update_event
from server.extensions import db
from server.users.models import Role, User
from server.users.service import create_user
from sync.scoring import has_rules

DEMO_PASSWORD = "leadbridge-demo"
DEMO_EVENT_NAME = "Demo Expo"
# The reps' territories are also the demo event's territory routing (demo_routing), so the
# rep a visitor's country names on the Users page is the one who gets the lead.
DACH = ["DE", "AT", "CH", "LI"]
NORDICS_BENELUX = ["DK", "SE", "NO", "FI", "IS", "NL", "BE", "LU"]
SOUTHERN_EUROPE = ["IT", "ES", "FR", "PT", "GR", "MT", "MC", "SM", "AD"]
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", Role.ADMIN, [], []),
    ("marketer@example.com", "Mia Marketing", Role.MARKETER, [], []),
    ("rep.north@example.com", "Nils North", Role.REP, DACH + NORDICS_BENELUX, ["scanner"]),
    ("rep.south@example.com", "Sofia South", Role.REP, SOUTHERN_EUROPE, ["analytics"]),
    ("staff@example.com", "Sam Booth", Role.STAFF, [], []),
)
# Who takes what no territory or product names, and hot leads nobody acknowledged.
DEMO_FALLBACK_OWNER = "marketer@example.com"
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
# Points over the demo's questions and products: budget, timing and authority make a lead hot.
DEMO_RUBRIC = {
    "hot": 60,
    "warm": 30,
    "rules": [
        {"question": "budget", "equals": True, "points": 30, "reason": "Budget confirmed"},
        {"question": "budget", "equals": False, "points": -10, "reason": "No budget yet"},
        {
            "question": "timeframe",
            "equals": "This quarter",
            "points": 25,
            "reason": "Buying this quarter",
        },
        {
            "question": "timeframe",
            "equals": "This year",
            "points": 10,
            "reason": "Buying this year",
        },
        {"question": "role", "equals": "Decision maker", "points": 20, "reason": "Decision maker"},
        {
            "question": "role",
            "equals": "Influencer",
            "points": 5,
            "reason": "Influences the choice",
        },
        {"question": "seats", "at_least": 100, "points": 15, "reason": "100 or more users"},
        {"product": "crm-sync", "points": 5, "reason": "Wants CRM sync"},
    ],
}
DEMO_CONSENT = (
    "I agree that Demo Corp may store my details to follow up on this conversation "
    "and send me related product information. I can withdraw at any time."
)


def demo_routing(users: dict[str, User]) -> dict[str, Any]:
    """Route by each demo rep's territory, then by product; the marketer takes the rest."""
    reps = [(email, territory, products) for email, _, role, territory, products in DEMO_USERS]
    rules: list[dict[str, Any]] = [
        {"type": "territory", "countries": territory, "rep_ids": [users[email].id]}
        for email, territory, _products in reps
        if territory and users[email].role == Role.REP
    ]
    rules += [
        {"type": "product", "products": products, "rep_ids": [users[email].id]}
        for email, _territory, products in reps
        if products and users[email].role == Role.REP
    ]
    fallback = users[DEMO_FALLBACK_OWNER].id
    return {"rules": rules, "fallback_owner_id": fallback, "backup_owner_id": fallback}


def _demo_users() -> dict[str, User]:
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
    return users


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
        users = _demo_users()
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
                "rubric": DEMO_RUBRIC,
                "routing": demo_routing(users),
            }
        )
        for email, _name, role, _territory, _products in DEMO_USERS:
            if role in (Role.STAFF, Role.REP):
                add_member(event, users[email].id)
    elif not has_rules(event.rubric) and not (event.routing or {}).get("rules"):
        # A demo seeded before it shipped a rubric and routing: give it both, once.
        update_event(event, {"rubric": DEMO_RUBRIC, "routing": demo_routing(_demo_users())})
    admin = db.session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    code = issue_pairing_code(event, admin, valid_minutes=7 * 24 * 60)["code"]
    return DemoInfo(event_id=event.id, pairing_code=code, created=created)
