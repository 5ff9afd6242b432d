"""Render one alert about a lead into every form a channel needs: email, webhook JSON, chat."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "alerts"

KINDS = {
    "new_lead": "New",
    "reminder": "Reminder: not yet acknowledged",
    "escalated": "Reassigned to you",
    "test": "Test alert",
}
INTROS = {
    "new_lead": "A new lead was routed to you.",
    "reminder": "This lead is still waiting for you to acknowledge it.",
    "escalated": "This lead was reassigned to you because nobody acknowledged it in time.",
    "test": "This is a test alert from the settings page: the channel works. Nothing to follow up.",
}

# Slack rejects a whole message when one block breaks its limits, so long values are cut.
SLACK_TEXT_LIMIT = 2900
SLACK_FIELD_LIMIT = 1900
SLACK_FIELDS_PER_SECTION = 10


@dataclass(frozen=True)
class AlertMessage:
    """One alert in the forms each channel sends."""

    subject: str
    text: str
    html: str
    payload: dict[str, Any]
    chat: dict[str, Any]
    idempotency_key: str


@functools.cache
def _environment() -> Environment:
    # A standalone environment, not Flask's: the dispatcher may render without an app context.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the code: no stat() of each file on every alert.
        auto_reload=False,
    )


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def full_name(lead: dict[str, Any]) -> str:
    """Return the visitor's name, or the best other handle on them when the name is missing."""
    name = _one_line(f"{lead.get('first_name') or ''} {lead.get('last_name') or ''}")
    return name or _one_line(lead.get("email") or lead.get("phone") or "") or "Unnamed visitor"


@dataclass(frozen=True)
class Grading:
    """How hot a lead is: what staff rated it, and the rubric's band only when one scored it."""

    rating: str | None
    band: str | None
    points: int | None

    def words(self, *, points: bool = True) -> str:
        """Return the grading as alerts state it: 'rated hot, scored warm (45 points)'."""
        parts = []
        if self.rating:
            parts.append(f"rated {self.rating}")
        if self.band:
            shown = f" ({self.points} points)" if points and self.points is not None else ""
            parts.append(f"scored {self.band}{shown}")
        return ", ".join(parts)


def grading(context: dict[str, Any]) -> Grading:
    """Return the lead's grading; every channel's text is built from this one reading."""
    lead, score = context.get("lead") or {}, context.get("score") or {}
    # A band exists only when the event's rubric had rules (sync/scoring.py): never invented.
    band = _one_line(score.get("band")) or None
    return Grading(
        rating=_one_line(lead.get("rating")) or None,
        band=band,
        points=score.get("points") if band else None,
    )


def _score_words(grade: Grading) -> str:
    if grade.band is None:
        return "Not scored: this event has no rubric rules"
    points = f", {grade.points} points" if grade.points is not None else ""
    return f"{grade.band.capitalize()}{points}"


def _subject(kind: str, context: dict[str, Any]) -> str:
    lead, event = context.get("lead") or {}, context.get("event") or {}
    grade = grading(context)
    who = full_name(lead)
    company = _one_line(lead.get("company"))
    if company:
        who = f"{who} ({company})"
    where = _one_line(event.get("name"))
    tail = f"{who} at {where}" if where else who
    head = "New lead" if kind == "new_lead" else KINDS[kind]
    graded = grade.words(points=False)
    return f"{head}, {graded}: {tail}" if graded else f"{head}: {tail}"


def _joined(*parts: Any) -> str:
    return ", ".join(str(part) for part in parts if part not in (None, ""))


def _slack_escape(value: Any, limit: int = SLACK_FIELD_LIMIT) -> str:
    # Slack's mrkdwn treats these three as control characters; everything else is literal.
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chat(kind: str, subject: str, context: dict[str, Any]) -> dict[str, Any]:
    lead = context.get("lead") or {}
    event = context.get("event") or {}
    score = context.get("score") or {}
    consent = context.get("consent") or {}
    grade = grading(context)
    fields = [
        ("Company", lead.get("company")),
        ("Job title", lead.get("job_title")),
        ("Email", lead.get("email")),
        ("Phone", lead.get("phone")),
        ("Location", _joined(lead.get("region"), lead.get("country"))),
        ("Staff rating", grade.rating or "none"),
        ("Score", _score_words(grade)),
        ("Follow-up", "Yes, requested" if lead.get("follow_up") else None),
        ("Products", ", ".join(context.get("products") or [])),
        ("Booth", event.get("booth")),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _slack_escape(f"*{subject}*\n{INTROS[kind]}", SLACK_TEXT_LIMIT),
            },
        }
    ]
    shown = [(label, value) for label, value in fields if value not in (None, "")]
    if shown:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"}
                    for label, value in shown[:SLACK_FIELDS_PER_SECTION]
                ],
            }
        )
    details = []
    reasons = score.get("reasons") or []
    if reasons:
        details.append(
            "*Why this score*\n"
            + "\n".join(f"{int(r.get('points') or 0):+d} {r.get('reason')}" for r in reasons)
        )
    answers = context.get("answers") or []
    if answers:
        details.append(
            "*Answers*\n" + "\n".join(f"{a.get('question')}: {a.get('answer')}" for a in answers)
        )
    if lead.get("notes"):
        details.append(f"*Notes*\n{lead['notes']}")
    touches = context.get("earlier_touches") or []
    if touches:
        details.append(
            "*Earlier touches*\n"
            + "\n".join(
                f"{t.get('event_name')}, {t.get('date')}: {t.get('status')}" for t in touches
            )
        )
    if details:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _slack_escape("\n\n".join(details), SLACK_TEXT_LIMIT),
                },
            }
        )
    captured = _joined(
        lead.get("captured_at_local"),
        f"by {lead['captured_by']}" if lead.get("captured_by") else None,
        f"campaign {event['campaign_code']}" if event.get("campaign_code") else None,
    )
    where = _joined(
        event.get("name"),
        f"booth {event['booth']}" if event.get("booth") else None,
        event.get("venue"),
    )
    if consent.get("given"):
        consent_line = f"Consent given (version {consent.get('version')})"
    else:
        consent_line = "No marketing consent"
    context_lines = [where, f"Captured {captured}" if captured else "", consent_line]
    blocks.append(
        {
            "type": "context",
            # Slack refuses empty text objects, so only lines with something in them go in.
            "elements": [
                {"type": "mrkdwn", "text": _slack_escape(line)} for line in context_lines if line
            ],
        }
    )
    buttons = []
    if context.get("ack_url"):
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "style": "primary",
                "url": context["ack_url"],
                "action_id": "acknowledge",
            }
        )
    if context.get("lead_url"):
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open lead"},
                "url": context["lead_url"],
                "action_id": "open_lead",
            }
        )
    if context.get("photo_url"):
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Card photo"},
                "url": context["photo_url"],
                "action_id": "card_photo",
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": _slack_escape(subject, SLACK_TEXT_LIMIT), "blocks": blocks}


def render_alert(
    context: dict[str, Any], idempotency_key: str, kind: str = "new_lead"
) -> AlertMessage:
    """Render the alert of the given kind ("new_lead", "reminder", "escalated", "test")."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    subject = _subject(kind, context)
    grade = grading(context)
    variables = {
        **context,
        "grading": grade,
        "score_words": _score_words(grade),
        "kind": kind,
        "subject": subject,
        "intro": INTROS[kind],
        "full_name": full_name(context.get("lead") or {}),
    }
    environment = _environment()
    text = environment.get_template("new_lead.txt").render(variables)
    html = environment.get_template("new_lead.html").render(variables)
    # A copy, so later changes to the caller's context cannot alter a frozen message.
    data = copy.deepcopy(context)
    payload = {
        "type": kind,
        "idempotency_key": idempotency_key,
        "subject": subject,
        # Staff's rating, and the rubric's band only when a rubric scored the lead.
        "grading": {
            "rating": grade.rating,
            "band": grade.band,
            "points": grade.points,
            "text": grade.words(),
        },
        "event": data.get("event"),
        "lead": data.get("lead"),
        "answers": data.get("answers") or [],
        "products": data.get("products") or [],
        "score": data.get("score"),
        "consent": data.get("consent"),
        "earlier_touches": data.get("earlier_touches") or [],
        "ack_url": data.get("ack_url"),
        "lead_url": data.get("lead_url"),
        "photo_url": data.get("photo_url"),
    }
    return AlertMessage(
        subject=subject,
        text=text,
        html=html,
        payload=payload,
        chat=_chat(kind, subject, context),
        idempotency_key=idempotency_key,
    )
