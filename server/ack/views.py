"""The page a rep reaches from an alert's signed link: acknowledge, then report outcomes.

GET shows the lead with one button; the POST it sends acknowledges. Once acknowledged,
the same page offers a small form per outcome (contacted, meeting booked, qualified,
disqualified with one of the event's reasons, won with a value, lost with a reason),
posted to /ack/<token>/outcome and applied by the same service as the API, with the
link's rep as the actor. A bare GET never changes anything, because mail scanners and
link previews fetch every link.

There is no login and no CSRF cookie here: the token in the address is the credential
(signed with the server's key, bound to the ack purpose by its salt, naming one lead
and one rep, expiring), and a cross-site page cannot know it. See README, "Lead
lifecycle".
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, render_template, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from server.alerts.links import read_ack_token
from server.auth.principal import Principal
from server.events.models import DEFAULT_DISQUALIFICATION_REASONS
from server.extensions import db
from server.leads.lifecycle import CLOSED, reachable
from server.leads.models import Activity, ActivityKind, Lead, LeadStatus
from server.leads.schemas import LeadUpdateSchema
from server.leads.service import change_lead
from server.users.models import Role, User

blp = Blueprint("ack", __name__, url_prefix="/ack")

S = LeadStatus
# What a rep reports through the link, in the order the page offers it.
OUTCOMES = (S.CONTACTED, S.MEETING, S.QUALIFIED, S.WON, S.DISQUALIFIED, S.LOST)
OUTCOME_LABELS = {
    S.CONTACTED: "Contacted",
    S.MEETING: "Meeting booked",
    S.QUALIFIED: "Qualified",
    S.WON: "Won",
    S.DISQUALIFIED: "Disqualified",
    S.LOST: "Lost",
}
_HISTORY = (ActivityKind.ACKNOWLEDGED, ActivityKind.STATUS_CHANGED, ActivityKind.REASSIGNED)
_OUTCOME_FIELDS = ("status", "reason", "value")


def _lead_and_rep(token: str) -> tuple[Lead, User] | None:
    claim = read_ack_token(token)
    if claim is None:
        return None
    lead, rep = db.session.get(Lead, claim["lead"]), db.session.get(User, claim["rep"])
    if lead is None or rep is None or not rep.active or rep.role != Role.REP:
        return None
    return lead, rep


def _offered(lead: Lead) -> list[LeadStatus]:
    """Return the outcomes the lifecycle lets this lead move to now."""
    if lead.status in CLOSED or lead.acknowledged_at is None and lead.status == S.ASSIGNED:
        return []
    return reachable(lead.status, has_owner=lead.owner_id is not None, among=OUTCOMES)


def _history(lead: Lead) -> list[Activity]:
    query = (
        select(Activity)
        .where(Activity.lead_id == lead.id, Activity.kind.in_(_HISTORY))
        .order_by(Activity.id)
    )
    return list(db.session.scalars(query))


def _page(
    state: str,
    lead: Lead | None = None,
    status: int = 200,
    **context: Any,
) -> tuple[str, int]:
    extra: dict[str, Any] = {}
    if lead is not None and state in ("done", "closed"):
        extra = {
            "outcomes": _offered(lead),
            "labels": OUTCOME_LABELS,
            "reasons": lead.event.disqualification_reasons
            or list(DEFAULT_DISQUALIFICATION_REASONS),
            "history": _history(lead),
            "timezone": lead.event.timezone,
        }
    return render_template("ack.html", state=state, lead=lead, **extra, **context), status


def _state(lead: Lead) -> str:
    if lead.status in CLOSED:
        return "closed"
    return "ask" if lead.acknowledged_at is None and lead.status == S.ASSIGNED else "done"


def _owned(token: str, refused_status: int) -> tuple[Lead, User] | tuple[str, int]:
    """Return the link's lead and rep, or the page refusing it (bad link; lead moved on)."""
    found = _lead_and_rep(token)
    if found is None:
        return _page("invalid", status=404)
    lead, rep = found
    if lead.owner_id != rep.id:
        return _page("reassigned", lead, status=refused_status)
    return lead, rep


@blp.get("/<token>")
def confirm(token: str) -> tuple[str, int]:
    """Show what the link acknowledges, or, once acknowledged, the outcome forms."""
    owned = _owned(token, 200)
    if not isinstance(owned[0], Lead):
        return owned  # type: ignore[return-value]
    lead, _rep = owned
    return _page(_state(lead), lead)


@blp.post("/<token>")
def acknowledge(token: str) -> tuple[str, int]:
    """Acknowledge the lead for the rep the link was made for."""
    owned = _owned(token, 409)
    if not isinstance(owned[0], Lead):
        return owned  # type: ignore[return-value]
    lead, rep = owned
    if lead.acknowledged_at is None and lead.status == LeadStatus.ASSIGNED:
        change_lead(Principal(user=rep), lead, {"status": LeadStatus.ACKNOWLEDGED})
    return _page(_state(lead), lead)


def _outcome_changes() -> dict[str, Any]:
    """Read the posted outcome form with the API's own schema; raise ValidationError."""
    raw = {name: request.form.get(name, "").strip() for name in _OUTCOME_FIELDS}
    if raw["status"] not in {outcome.value for outcome in OUTCOMES}:
        raise ma.ValidationError({"status": ["Choose one of the outcomes on the page."]})
    # Each form sends only the field its outcome needs; blank fields are simply absent.
    raw = {name: value for name, value in raw.items() if value}
    return LeadUpdateSchema(partial=True, only=_OUTCOME_FIELDS).load(raw)


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [line for value in errors.values() for line in _messages(value)]
    if isinstance(errors, list):
        return [line for value in errors for line in _messages(value)]
    return [str(errors)]


@blp.post("/<token>/outcome")
def report_outcome(token: str) -> tuple[str, int]:
    """Record what became of the lead, on the timeline as the link's rep."""
    owned = _owned(token, 409)
    if not isinstance(owned[0], Lead):
        return owned  # type: ignore[return-value]
    lead, rep = owned
    try:
        changes = _outcome_changes()
        change_lead(Principal(user=rep), lead, changes)
    except ma.ValidationError as error:
        db.session.rollback()
        return _page(_state(lead), lead, status=422, errors=_messages(error.messages))
    except HTTPException as error:
        # The lifecycle's refusals (409 a state conflict, 422 a missing reason or value).
        db.session.rollback()
        if error.code not in (409, 422):
            raise
        data = getattr(error, "data", None) or {}
        problems = _messages((data.get("errors") or {}).get("json") or {}) or [
            data.get("message") or str(error.description)
        ]
        return _page(_state(lead), lead, status=error.code, errors=problems)
    return _page(_state(lead), lead, recorded=OUTCOME_LABELS[changes["status"]])
