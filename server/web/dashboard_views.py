"""The live event dashboard, the side-by-side comparison, and the lead exports.

Every figure comes from server/stats (SQL aggregates); these views only lay them out.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from server.events.access import get_visible_event, visible_events
from server.events.models import Event
from server.exports.service import csv_response, xlsx_response
from server.extensions import db
from server.leads.access import visible_leads
from server.leads.models import Lead
from server.stats.service import compare_events, live_event_stats
from server.web.blueprint import bp
from server.web.charts import hour_columns, share
from server.web.formatting import local_time
from server.web.session import MANAGERS, WEB_ROLES, principal, roles_required

# How often the open dashboard asks for fresh figures.
REFRESH_MS = 5000
# A tablet not heard from for this long is shown as stale.
STALE_SECONDS = 15 * 60
MAX_COMPARED = 6
# A rep's leads of one event shown on its page; the lead list filters the rest.
REP_VIEW_LEADS = 200


def _body(event: Event, stats: dict[str, Any]) -> Markup:
    # Rendered by Jinja with autoescaping on, so the result is safe to place in the page.
    return Markup(
        render_template(
            "web/_dashboard_body.html",
            event=event,
            stats=stats,
            hours=hour_columns(stats["per_hour"], event.timezone),
            share=share,
            stale_seconds=STALE_SECONDS,
        )
    )


@bp.get("/events/<id:event_id>")
@roles_required(*WEB_ROLES)
def dashboard(event_id: int) -> str:
    """Show an event's figures (a rep: their leads of it); the page refreshes them itself."""
    event = get_visible_event(principal(), event_id)
    if not principal().is_manager:
        return _rep_view(event)
    stats = live_event_stats(event.id)
    return render_template(
        "web/dashboard.html",
        event=event,
        stats=stats,
        body=_body(event, stats),
        refresh_ms=REFRESH_MS,
    )


def _rep_view(event: Event) -> str:
    """Show a rep the event's facts, read-only, and the leads of it they own."""
    theirs = (
        visible_leads(principal())
        .where(Lead.event_id == event.id)
        .order_by(Lead.captured_at.desc(), Lead.id)
        .limit(REP_VIEW_LEADS + 1)
    )
    leads = list(db.session.scalars(theirs))
    return render_template(
        "web/event_rep.html",
        event=event,
        leads=leads[:REP_VIEW_LEADS],
        more=len(leads) > REP_VIEW_LEADS,
    )


@bp.get("/events/<id:event_id>/dashboard.json")
@roles_required(*MANAGERS)
def dashboard_json(event_id: int) -> Response:
    """Return the dashboard's figures, laid out, for the page's refresh script."""
    event = get_visible_event(principal(), event_id)
    stats = live_event_stats(event.id)
    response = jsonify(
        {
            "total": stats["totals"]["leads"],
            "updated": local_time(stats["generated_at"], event.timezone, "%H:%M:%S"),
            "html": _body(event, stats),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/compare")
@roles_required(*MANAGERS)
def compare() -> str:
    """Compare chosen events side by side on the same figures."""
    query = visible_events(principal()).order_by(Event.starts_on.desc(), Event.id.desc())
    events = list(db.session.scalars(query))
    chosen_ids = [int(value) for value in request.args.getlist("event") if value.isdigit()]
    chosen_ids = list(dict.fromkeys(chosen_ids))[:MAX_COMPARED]
    if not chosen_ids and not request.args:
        chosen_ids = [event.id for event in events[:3]]
    chosen = [get_visible_event(principal(), event_id) for event_id in chosen_ids]
    columns = compare_events([event.id for event in chosen]) if chosen else []
    return render_template(
        "web/compare.html",
        events=events,
        chosen_ids=chosen_ids,
        columns=columns,
        max_compared=MAX_COMPARED,
    )


@bp.get("/events/<id:event_id>/export.<any(csv, xlsx):kind>")
@roles_required(*WEB_ROLES)
def export(event_id: int, kind: str) -> Response:
    """Download an event's leads as CSV or XLSX, streamed (a rep gets only their own)."""
    event = get_visible_event(principal(), event_id)
    respond = csv_response if kind == "csv" else xlsx_response
    return respond(event, principal())
