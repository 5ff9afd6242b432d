"""Realistic, reproducible visitor data for benchmarks (no real people)."""

from __future__ import annotations

import random
from typing import Any

FIRST = [
    "Anna",
    "Ben",
    "Chiara",
    "Dmitri",
    "Elif",
    "Femi",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaja",
    "Luca",
    "Maren",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
]
LAST = [
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Olsen",
    "Peters",
    "Rossi",
]
COMPANIES = [
    "Acme Logistics",
    "Blue Harbor",
    "Cobalt Systems",
    "Delta Foods",
    "Evergreen Labs",
    "Fjord Analytics",
    "Granite Bank",
    "Helix Robotics",
    "Ion Energy",
    "Juniper Retail",
]
TITLES = ["CTO", "Head of Marketing", "Event Manager", "Sales Director", "IT Lead", "CFO"]
NOTES = [
    "Wants a demo next week.",
    "Met at the coffee bar; budget in Q2.",
    "Currently uses spreadsheets.",
    "Asked about CRM integration.",
    "",
]


def visitor(rng: random.Random, index: int, staff_id: int) -> dict[str, Any]:
    """Return the fields booth staff would save for one visitor of the demo event."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = rng.choice(COMPANIES)
    domain = company.lower().replace(" ", "") + ".example"
    return {
        "captured_by_id": staff_id,
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}.{index}@{domain}",
        "phone": f"030 {rng.randint(1000000, 9999999)}",
        "company": company,
        "job_title": rng.choice(TITLES),
        "country": "DE",
        "source": rng.choice(["badge", "badge", "manual"]),
        "answers": {
            "budget": rng.random() < 0.4,
            "timeframe": rng.choice(["This quarter", "This year", "Later"]),
            "role": rng.choice(["Decision maker", "Influencer", "User"]),
            "seats": rng.randint(1, 500),
        },
        "products": rng.sample(["scanner", "crm-sync", "analytics"], k=rng.randint(0, 2)),
        "rating": rng.choice(["hot", "warm", "cold"]),
        "notes": rng.choice(NOTES),
        "follow_up": rng.random() < 0.5,
        "consent": {"given": True, "version": 1},
    }
