"""Gather everything marketing knows about a lead into the context an alert is rendered from."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from server.alerts.links import ack_url, lead_url, photo_url
from server.alerts.models import AlertJob
from server.attachments.suggestions import photos_of
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead
from server.users.models import User

EARLIER_TOUCHES = 10


def _answer_words(question: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _touches_by(column: Any) -> Any:
    """Build the SELECT of one person's earlier leads, matched on column."""
    return (
        select(Lead.received_at, Lead.status, Event.name)
        .join(Event, Lead.event_id == Event.id)
        .where(column == bindparam("person"), Lead.id != bindparam("lead_id"))
        .where(Lead.received_at <= bindparam("received_at"))
        .order_by(Lead.received_at.desc())
        .limit(EARLIER_TOUCHES)
    )


# Every alert runs one: built once (docs/performance.md).
_TOUCHES_BY_EMAIL = _touches_by(Lead.email)
_TOUCHES_BY_PHONE = _touches_by(Lead.phone)


def _earlier_touches(lead: Lead) -> list[dict[str, Any]]:
    if lead.email:
        statement, person = _TOUCHES_BY_EMAIL, lead.email
    elif lead.phone:
        statement, person = _TOUCHES_BY_PHONE, lead.phone
    else:
        return []
    rows = db.session.execute(
        statement, {"person": person, "lead_id": lead.id, "received_at": lead.received_at}
    ).all()
    return [
        {"event_name": name, "date": received.date().isoformat(), "status": status.value}
        for received, status, name in rows
    ]


def alert_context(job: AlertJob) -> dict[str, Any]:
    """Return the rendering context of an alert job (needs an app context for links)."""
    lead = db.session.get_one(Lead, job.lead_id)
    event = lead.event
    rep = db.session.get_one(User, job.rep_id)
    zone = ZoneInfo(event.timezone)
    questions = {question["id"]: question for question in event.questions}
    product_names = {product["id"]: product["name"] for product in event.products}
    consent_text = event.consent_text if lead.consent_version == event.consent_version else None
    return {
        "event": {
            "name": event.name,
            "booth": event.booth,
            "campaign_code": event.campaign_code,
            "timezone": event.timezone,
            "venue": event.venue,
        },
        "lead": {
            "id": str(lead.id),
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "email": lead.email,
            "phone": lead.phone,
            "company": lead.company,
            "job_title": lead.job_title,
            "country": lead.country,
            "region": lead.region,
            "notes": lead.notes,
            "follow_up": lead.follow_up,
            "rating": lead.rating.value if lead.rating else None,
            "captured_at_local": lead.captured_at.astimezone(zone).strftime(
                "%a %d %b %Y, %H:%M %Z"
            ),
            "captured_by": lead.captured_by.name,
            "source": lead.source.value,
        },
        "answers": [
            {"question": questions[key]["label"], "answer": _answer_words(questions[key], value)}
            for key, value in lead.answers.items()
            if key in questions
        ],
        "products": [product_names.get(pid, pid) for pid in lead.products],
        "score": {
            "points": lead.score_points,
            "band": lead.score_band.value if lead.score_band else None,
            "reasons": lead.score_reasons or [],
        },
        "consent": {
            "given": lead.consent_given,
            "version": lead.consent_version,
            "text_excerpt": (consent_text or "")[:300],
        },
        "earlier_touches": _earlier_touches(lead),
        "ack_url": ack_url(lead.id, rep.id),
        "lead_url": lead_url(lead.id),
        # A photo uploaded after the alert went reaches the rep through the lead page.
        "photo_url": photo_url(lead.id) if photos_of(lead.id) else None,
        "rep": {"name": rep.name},
    }
