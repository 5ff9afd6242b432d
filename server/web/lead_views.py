"""Lead pages: the filtered list, one lead with its timeline, and the rep's inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import case, select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server.attachments.suggestions import FIELD_LABELS, open_suggestions, photos_of
from server.events.access import visible_events
from server.events.models import Event, default_disqualification_reasons
from server.extensions import db
from server.leads.access import get_visible_lead, visible_leads
from server.leads.lifecycle import CLOSED, EXITS, FUNNEL, reachable
from server.leads.models import Activity, Lead, LeadStatus, Rating
from server.leads.schemas import LeadListArgsSchema, LeadUpdateSchema
from server.leads.service import change_lead, list_leads, timeline
from server.privacy.consent import consent_of
from server.users.models import Role, User
from server.web.blueprint import bp
from server.web.event_form import field_errors
from server.web.event_views import service_errors
from server.web.session import MANAGERS, WEB_ROLES, principal, roles_required

LIST_ARGS = ("event_id", "owner_id", "q", "captured_from", "captured_to", "page", "page_size")
INBOX_SIZE = 100


def _list_args() -> tuple[dict[str, Any], dict[str, list[str]]]:
    raw: dict[str, Any] = {
        name: request.args[name] for name in LIST_ARGS if request.args.get(name, "").strip()
    }
    for name in ("status", "rating"):
        chosen = [value for value in request.args.getlist(name) if value]
        if chosen:
            raw[name] = chosen
    raw.setdefault("page_size", "50")
    for name in ("captured_from", "captured_to"):
        typed = request.args.get(f"{name}_local", "").strip()
        if typed:
            raw[name] = _as_aware(typed, raw.get("event_id"))
    try:
        return LeadListArgsSchema().load(raw), {}
    except ma.ValidationError as error:
        return {"page": 1, "page_size": 50}, field_errors(error.messages)  # type: ignore[arg-type]


def _as_aware(typed: str, event_id: str | None) -> str:
    """Read a browser's datetime-local value in the chosen event's time zone (else UTC)."""
    event = None
    if event_id and event_id.isdigit():
        event = db.session.scalars(
            visible_events(principal()).where(Event.id == int(event_id))
        ).first()
    try:
        naive = datetime.fromisoformat(typed)
    except ValueError:
        return typed  # the schema reports it
    zone = ZoneInfo(event.timezone if event else "UTC")
    return naive.replace(tzinfo=zone).isoformat()


def _reps() -> list[User]:
    query = select(User).where(User.role == Role.REP, User.active).order_by(User.name)
    return list(db.session.scalars(query))


@bp.get("/leads")
@roles_required(*WEB_ROLES)
def leads() -> tuple[str, int]:
    """List the leads you may see, with the API's filters."""
    args, errors = _list_args()
    page = list_leads(principal(), args) if not errors else {"items": [], "total": 0, **args}
    events = list(db.session.scalars(visible_events(principal()).order_by(Event.name)))
    return render_template(
        "web/leads.html",
        page=page,
        args=args,
        chosen={"status": request.args.getlist("status"), "rating": request.args.getlist("rating")},
        errors=errors,
        events={event.id: event for event in events},
        reps=_reps() if _is_manager() else [],
        statuses=list(LeadStatus),
        ratings=list(Rating),
    ), (422 if errors else 200)


def _is_manager() -> bool:
    return principal().is_manager


def _parse_lead_id(lead_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(lead_id)
    except ValueError:
        abort(404, "No such lead.")


def next_statuses(lead: Lead) -> list[LeadStatus]:
    """Return the statuses the lifecycle lets the lead move to next, funnel order first."""
    offered = (*FUNNEL[FUNNEL.index(LeadStatus.ACKNOWLEDGED) :], *sorted(EXITS))
    return reachable(lead.status, has_owner=lead.owner_id is not None, among=offered)


def _named(activities: list[Activity]) -> dict[int, User]:
    """Return the people the timeline's entries name (owners, merged captures' authors), by id."""
    ids = {
        activity.detail.get(key)
        for activity in activities
        for key in ("to_owner_id", "captured_by_id", "rep_id")
    } - {None}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.get("/leads/<lead_id>")
@roles_required(*WEB_ROLES)
def lead(lead_id: str) -> str:
    """Show everything the rep saw about a lead, and its timeline."""
    found = get_visible_lead(principal(), _parse_lead_id(lead_id))
    event = found.event
    activities = timeline(found.id)
    return render_template(
        "web/lead.html",
        lead=found,
        event=event,
        questions=event.questions,
        products={product["id"]: product["name"] for product in event.products},
        activities=activities,
        next_statuses=next_statuses(found),
        reasons=event.disqualification_reasons or default_disqualification_reasons(),
        reps=_reps() if _is_manager() else [],
        users=_named(activities),
        consent=consent_of(found),
        cards=[(photo, open_suggestions(found, photo)) for photo in photos_of(found.id)],
        field_labels=FIELD_LABELS,
    )


def _apply(found: Lead, changes: dict[str, Any]) -> bool:
    """Apply changes through the lead service; flash why not when it refuses."""
    try:
        loaded = LeadUpdateSchema(partial=True).load(changes)
        change_lead(principal(), found, loaded)
    except ma.ValidationError as error:
        db.session.rollback()
        for field, messages in error.messages.items():  # type: ignore[union-attr]
            flash(f"{field}: {' '.join(str(item) for item in messages)}", "error")
        return False
    except HTTPException as error:
        db.session.rollback()
        if error.code not in (403, 409, 422):
            raise
        for lines in service_errors(error).values():
            for line in lines:
                flash(line, "error")
        return False
    return True


def _back(found: Lead) -> Response:
    target = request.form.get("back")
    if target == "inbox":
        return redirect(url_for("web.inbox"))
    return redirect(url_for("web.lead", lead_id=found.id))


@bp.post("/leads/<lead_id>/acknowledge")
@roles_required(*WEB_ROLES)
def lead_acknowledge(lead_id: str) -> Response:
    """Acknowledge a lead in one click."""
    found = get_visible_lead(principal(), _parse_lead_id(lead_id))
    if _apply(found, {"status": LeadStatus.ACKNOWLEDGED.value}):
        flash("Acknowledged: marketing can see you're on it.")
    return _back(found)


@bp.post("/leads/<lead_id>/outcome")
@roles_required(*WEB_ROLES)
def lead_outcome(lead_id: str) -> Response:
    """Move a lead along the funnel, with a reason or deal value where one is needed."""
    found = get_visible_lead(principal(), _parse_lead_id(lead_id))
    changes: dict[str, Any] = {"status": request.form.get("status", "")}
    reason = request.form.get("reason", "").strip()
    if reason:
        changes["reason"] = reason
    value = request.form.get("value", "").strip()
    if value:
        changes["value"] = value
    if _apply(found, changes):
        flash(f"Status changed to {changes['status']}.")
    return _back(found)


@bp.post("/leads/<lead_id>/owner")
@roles_required(*MANAGERS)
def lead_owner(lead_id: str) -> Response:
    """Give a lead another owner (admins and marketers)."""
    found = get_visible_lead(principal(), _parse_lead_id(lead_id))
    owner = request.form.get("owner_id", "")
    if owner.isdigit() and _apply(found, {"owner_id": int(owner)}):
        flash("Owner changed.")
    return _back(found)


# Hot before warm before cold (unrated last), each newest first.
_HEAT = case(
    (Lead.rating == Rating.HOT, 0),
    (Lead.rating == Rating.WARM, 1),
    (Lead.rating == Rating.COLD, 2),
    else_=3,
)


@bp.get("/inbox")
@roles_required(Role.REP)
def inbox() -> str:
    """Show the rep's open leads, those waiting for acknowledgement first, hottest first."""
    open_leads = (
        visible_leads(principal())
        .where(Lead.status.not_in(CLOSED))
        .order_by(Lead.acknowledged_at.is_not(None), _HEAT, Lead.received_at.desc(), Lead.id)
        .limit(INBOX_SIZE)
    )
    closed = (
        visible_leads(principal())
        .where(Lead.status.in_(CLOSED))
        .order_by(Lead.updated_at.desc(), Lead.id)
        .limit(20)
    )
    rows = list(db.session.scalars(open_leads))
    return render_template(
        "web/inbox.html",
        leads=rows,
        closed=list(db.session.scalars(closed)),
        next_statuses={row.id: next_statuses(row) for row in rows},
        full=len(rows) == INBOX_SIZE,
    )
