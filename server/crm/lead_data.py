"""What a lead becomes in a CRM: the person's fields under the CRM's names, and the context note.

Also the consent rule: a lead is pushed to a CRM only when its visitor's consent allows
sales follow-up (docs/crm.md, "Consent").
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.alerts.context import _answer_words, _earlier_touches
from server.crm.base import Note, Person
from server.crm.models import CrmConnection
from server.db_types import utcnow
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from server.privacy.models import ConsentRecord

SALES_PURPOSE = "sales_follow_up"
# What the CRM's lead source field says of every lead leadbridge sends (Salesforce's
# standard LeadSource picklist has this value; other CRMs take free text).
LEAD_SOURCE = "Trade Show"
# leadbridge fields a mapping may name, and what each is called in the forms.
MAPPABLE_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "country": "Country",
    "lead_source": "Lead source",
    "campaign": "Campaign",
}


def consent_allows_sales(lead: Lead) -> bool:
    """Return whether the visitor's consent covers sales follow-up, hence a CRM record.

    No purposes recorded (an older app) means the visitor agreed to the whole text.
    """
    if not (lead.consent_given and lead.consent_version):
        return False
    purposes = db.session.scalar(
        select(ConsentRecord.purposes).where(ConsentRecord.lead_id == lead.id)
    )
    return not purposes or SALES_PURPOSE in purposes


def field_values(lead: Lead) -> dict[str, Any]:
    """Return the value of every mappable leadbridge field for lead."""
    event = lead.event
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "job_title": lead.job_title,
        "country": lead.country,
        "lead_source": LEAD_SOURCE,
        "campaign": event.campaign_code or event.name,
    }


def mapping(connection: CrmConnection, defaults: dict[str, str]) -> dict[str, str]:
    """Return leadbridge field -> CRM field: the connector's defaults, then the admin's choices.

    A field the admin mapped to "" is not sent.
    """
    chosen = {**defaults, **(connection.field_mapping or {})}
    return {field: name for field, name in chosen.items() if name and field in MAPPABLE_FIELDS}


def owner_email(connection: CrmConnection, lead: Lead) -> str | None:
    """Return the CRM user email of the lead's owner: the admin's mapping, else the rep's email."""
    if lead.owner_id is None:
        return None
    mapped = (connection.owner_mapping or {}).get(str(lead.owner_id))
    return mapped or (lead.owner.email if lead.owner is not None else None)


def person(connection: CrmConnection, lead: Lead, defaults: dict[str, str]) -> Person:
    """Return the CRM person for lead under connection's field mapping."""
    values = field_values(lead)
    fields = {name: values[field] for field, name in mapping(connection, defaults).items()}
    return Person(
        email=lead.email,
        phone=lead.phone,
        fields=fields,
        owner_email=owner_email(connection, lead),
        campaign=values["campaign"],
    )


def _merged_captures(lead: Lead) -> list[str]:
    rows = db.session.scalars(
        select(Activity.detail)
        .where(Activity.lead_id == lead.id, Activity.kind == ActivityKind.MERGED)
        .order_by(Activity.id)
    )
    # The primary's entries name the capture folded into it; the capture's own names the primary.
    return [
        f"  {detail.get('captured_at', '')[:16]}: {detail.get('notes') or '(no notes)'}"
        for detail in rows
        if detail.get("duplicate_id")
    ]


def note(lead: Lead) -> Note:
    """Return the marketing context of lead as one note: everything the booth learnt."""
    event = lead.event
    zone = ZoneInfo(event.timezone)
    questions = {question["id"]: question for question in event.questions}
    products = {product["id"]: product["name"] for product in event.products}
    captured = lead.captured_at.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
    lines = [
        f"Event: {event.name}" + (f" ({event.venue})" if event.venue else ""),
        f"Booth: {event.booth or '-'}",
        f"Campaign: {event.campaign_code or '-'}",
        f"Captured by: {lead.captured_by.name}, {captured} ({lead.source.value})",
        f"Booth rating: {lead.rating.value if lead.rating else '-'}",
    ]
    if lead.score_points is not None:
        band = lead.score_band.value if lead.score_band else "-"
        lines.append(f"Score: {lead.score_points} ({band})")
        lines += [f"  +{item['points']} {item['reason']}" for item in lead.score_reasons or []]
    answers = [
        f"  {questions[key]['label']}: {_answer_words(questions[key], value)}"
        for key, value in (lead.answers or {}).items()
        if key in questions
    ]
    if answers:
        lines += ["Answers:", *answers]
    if lead.products:
        lines.append("Products: " + ", ".join(products.get(p, p) for p in lead.products))
    if lead.notes:
        lines += ["Notes:", lead.notes]
    purposes = db.session.scalar(
        select(ConsentRecord.purposes).where(ConsentRecord.lead_id == lead.id)
    )
    consent = (
        f"given, wording version {lead.consent_version}" if lead.consent_given else "not given"
    )
    if purposes:
        consent += ", for " + ", ".join(purposes)
    lines.append(f"Consent: {consent}")
    touches = _earlier_touches(lead)
    if touches:
        lines.append("Earlier touches:")
        lines += [f"  {t['date']} {t['event_name']} ({t['status']})" for t in touches]
    merged = _merged_captures(lead)
    if merged:
        lines += ["Captured again at the booth:", *merged]
    return Note(title=f"Met at {event.name}", body="\n".join(lines), at=utcnow())
