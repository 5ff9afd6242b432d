"""Event pages: list, create, edit, and pairing and revoking tablets."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server.devices.models import Device
from server.devices.schemas import MAX_CODE_MINUTES
from server.devices.service import issue_pairing_code, list_devices, revoke_device
from server.events.access import get_visible_event, visible_events
from server.events.models import Event
from server.events.service import add_member, create_event, remove_member, update_event
from server.extensions import db
from server.users.models import Role, User
from server.web.blueprint import bp
from server.web.event_form import JSON_FIELDS, field_errors, form_values, parse_event_form
from server.web.qr import qr_svg
from server.web.session import MANAGERS, principal, roles_required
from server.web.settings_sections import SECTIONS
from sync.pairing_link import pairing_link


def service_errors(error: HTTPException) -> dict[str, list[str]]:
    """Return a service's refusal (the API's error shape) as form errors."""
    data = getattr(error, "data", None) or {}
    nested = (data.get("errors") or {}).get("json") or {}
    errors = field_errors(nested) if nested else {}
    errors.setdefault("_form", []).append(data.get("message") or str(error.description))
    return errors


@bp.get("/events")
@roles_required(*MANAGERS)
def events() -> str:
    """List every event, newest first."""
    query = visible_events(principal()).order_by(Event.starts_on.desc(), Event.id.desc())
    return render_template("web/events.html", events=list(db.session.scalars(query)))


def _render_form(event: Event | None, values: dict[str, Any], errors: dict[str, Any]) -> str:
    # Routing names people by id: list who can own leads next to the JSON.
    owners = select(User).where(User.active, User.role != Role.STAFF).order_by(User.name)
    return render_template(
        "web/event_form.html",
        event=event,
        values=values,
        errors=errors,
        json_fields=JSON_FIELDS,
        owners=list(db.session.scalars(owners)),
        sections=list(SECTIONS.values()),
    )


def _save(event: Event | None) -> tuple[str, int] | Response:
    try:
        fields = parse_event_form(request.form, event)
        if event is None:
            event = create_event(fields, principal().user)
        elif fields:
            update_event(event, fields, principal().user)
    except ma.ValidationError as error:
        db.session.rollback()
        return _render_form(event, request.form.to_dict(), field_errors(error.messages)), 422  # type: ignore[arg-type]
    except HTTPException as error:
        db.session.rollback()
        if error.code not in (409, 422):
            raise
        return _render_form(event, request.form.to_dict(), service_errors(error)), error.code
    flash("Event saved.")
    return redirect(url_for("web.event_edit", event_id=event.id))


@bp.get("/events/new")
@roles_required(*MANAGERS)
def event_new() -> str:
    """Show an empty event form."""
    return _render_form(None, form_values(None), {})


@bp.post("/events/new")
@roles_required(*MANAGERS)
def event_create() -> tuple[str, int] | Response:
    """Create an event through the API's schema and service."""
    return _save(None)


@bp.get("/events/<id:event_id>/edit")
@roles_required(*MANAGERS)
def event_edit(event_id: int) -> str:
    """Show an event's form."""
    event = get_visible_event(principal(), event_id)
    return _render_form(event, form_values(event), {})


@bp.post("/events/<id:event_id>/edit")
@roles_required(*MANAGERS)
def event_update(event_id: int) -> tuple[str, int] | Response:
    """Change an event through the API's schema and service."""
    return _save(get_visible_event(principal(), event_id))


@bp.get("/events/<id:event_id>/team")
@roles_required(*MANAGERS)
def event_team(event_id: int) -> str:
    """Show who works an event and who could be added."""
    event = get_visible_event(principal(), event_id)
    member_ids = {member.user_id for member in event.members}
    people = db.session.scalars(select(User).where(User.active).order_by(User.name))
    candidates = [user for user in people if user.id not in member_ids]
    return render_template("web/event_team.html", event=event, candidates=candidates)


@bp.post("/events/<id:event_id>/team")
@roles_required(*MANAGERS)
def event_team_change(event_id: int) -> Response:
    """Add or remove a person on an event's team."""
    event = get_visible_event(principal(), event_id)
    user_id = request.form.get("user_id", "")
    if not user_id.isdigit():
        flash("Pick a person.")
    elif request.form.get("action") == "remove":
        remove_member(event, int(user_id))
        flash("Removed from the team.")
    else:
        add_member(event, int(user_id))
        flash("Added to the team.")
    return redirect(url_for("web.event_team", event_id=event.id))


@bp.get("/events/<id:event_id>/tablets")
@roles_required(*MANAGERS)
def tablets(event_id: int) -> str:
    """List an event's tablets with when each was last seen."""
    event = get_visible_event(principal(), event_id)
    return render_template(
        "web/tablets.html", event=event, devices=list_devices(event.id, None), pairing=None
    )


@bp.post("/events/<id:event_id>/tablets/pair")
@roles_required(*MANAGERS)
def tablet_pair(event_id: int) -> tuple[str, int]:
    """Issue a one-time pairing code and show it with its QR code."""
    event = get_visible_event(principal(), event_id)
    minutes_text = request.form.get("minutes", "").strip()
    minutes = int(minutes_text) if minutes_text.isdigit() else None
    if minutes is not None and not 1 <= minutes <= MAX_CODE_MINUTES:
        minutes = None
    try:
        pairing = issue_pairing_code(event, principal().user, minutes)
    except HTTPException as error:
        flash(service_errors(error)["_form"][-1])
        return tablets(event_id), error.code or 409
    uri = pairing_link(current_app.config["LEADBRIDGE_PUBLIC_URL"], pairing["code"])
    page = render_template(
        "web/tablets.html",
        event=event,
        devices=list_devices(event.id, None),
        pairing=pairing,
        qr=qr_svg(uri),
    )
    return page, 201


@bp.post("/events/<id:event_id>/tablets/<id:device_id>/revoke")
@roles_required(*MANAGERS)
def tablet_revoke(event_id: int, device_id: int) -> Response:
    """Revoke a tablet: its next request is refused."""
    event = get_visible_event(principal(), event_id)
    device = db.session.get(Device, device_id)
    if device is None or device.event_id != event.id:
        abort(404, "No such tablet.")
    revoke_device(device, principal().user)
    flash(f"Tablet “{device.name}” revoked.")
    return redirect(url_for("web.tablets", event_id=event.id))
