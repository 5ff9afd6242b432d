"""The CRM settings page's "Test connection" button (the section is server/web/crm_section.py)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from server.crm import service
from server.events.access import get_visible_event
from server.web import crm_section  # noqa: F401 - registers the CRM settings section
from server.web.blueprint import bp
from server.web.limits import test_alert_limit
from server.web.session import MANAGERS, principal, roles_required


@bp.post("/events/<id:event_id>/settings/crm/test")
@roles_required(*MANAGERS)
@test_alert_limit
def event_crm_test(event_id: int) -> Response:
    """Make one authenticated call to the event's CRM and say how it went."""
    event = get_visible_event(principal(), event_id)
    answer = service.test(event.id)
    if answer["ok"]:
        flash(f"The CRM answered: {answer['message']}.")
    else:
        # The message names the CRM and the status, never the token.
        flash(f"The CRM test failed: {answer['message']}.", "error")
    return redirect(url_for("web.event_settings", event_id=event.id, key="crm"))
