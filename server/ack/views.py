"""The page a rep reaches from an alert's acknowledge link.

GET shows the lead's name and one button; the POST it sends acknowledges. A bare GET
never changes anything, because mail scanners and link previews fetch every link.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from server.alerts.links import read_ack_token
from server.auth.principal import Principal
from server.extensions import db
from server.leads.models import Lead, LeadStatus
from server.leads.service import change_lead
from server.users.models import Role, User

blp = Blueprint("ack", __name__, url_prefix="/ack")


def _lead_and_rep(token: str) -> tuple[Lead, User] | None:
    claim = read_ack_token(token)
    if claim is None:
        return None
    lead, rep = db.session.get(Lead, claim["lead"]), db.session.get(User, claim["rep"])
    if lead is None or rep is None or not rep.active or rep.role != Role.REP:
        return None
    return lead, rep


def _page(state: str, lead: Lead | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("ack.html", state=state, lead=lead), status


@blp.get("/<token>")
def confirm(token: str) -> tuple[str, int]:
    """Show what the link acknowledges, with the one button that does it."""
    found = _lead_and_rep(token)
    if found is None:
        return _page("invalid", status=404)
    lead, rep = found
    if lead.owner_id != rep.id:
        return _page("reassigned", lead)
    if lead.acknowledged_at is not None:
        return _page("done", lead)
    return _page("ask", lead)


@blp.post("/<token>")
def acknowledge(token: str) -> tuple[str, int] | Response:
    """Acknowledge the lead for the rep the link was made for."""
    found = _lead_and_rep(token)
    if found is None:
        return _page("invalid", status=404)
    lead, rep = found
    if lead.owner_id != rep.id:
        return _page("reassigned", lead, status=409)
    if lead.acknowledged_at is None and lead.status == LeadStatus.ASSIGNED:
        change_lead(Principal(user=rep), lead, {"status": LeadStatus.ACKNOWLEDGED})
    return _page("done", lead)
