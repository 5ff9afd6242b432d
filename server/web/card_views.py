"""A lead's card photos on its page, and accepting what card reading suggests, field by field."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for

from server.attachments.models import CardPhoto
from server.attachments.storage import storage
from server.attachments.suggestions import FIELD_LABELS, accepted_change
from server.extensions import db
from server.leads.access import get_visible_lead
from server.web.blueprint import bp
from server.web.lead_views import _apply, _parse_lead_id
from server.web.session import WEB_ROLES, principal, roles_required


def _photo(lead_id: str, photo_id: int) -> tuple:
    found = get_visible_lead(principal(), _parse_lead_id(lead_id))
    photo = db.session.get(CardPhoto, photo_id)
    if photo is None or photo.lead_id != found.id or not photo.complete:
        abort(404, "No such photo.")
    return found, photo


def photo_response(photo: CardPhoto) -> Response:
    """Return the photo's bytes, never cached by shared caches (it is personal data)."""
    response = Response(storage().read(photo.sha256), mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/leads/<lead_id>/photos/<int:photo_id>")
@roles_required(*WEB_ROLES)
def lead_photo(lead_id: str, photo_id: int) -> Response:
    """Show a card photo of a lead you may see."""
    return photo_response(_photo(lead_id, photo_id)[1])


@bp.post("/leads/<lead_id>/photos/<int:photo_id>/accept/<field>")
@roles_required(*WEB_ROLES)
def lead_accept_suggestion(lead_id: str, photo_id: int, field: str):
    """Copy one suggested field into the lead, only if the lead has nothing there yet."""
    found, photo = _photo(lead_id, photo_id)
    change = accepted_change(found, photo, field)
    if change is None:
        flash(
            f"{FIELD_LABELS.get(field, field)}: nothing to accept; what staff typed stays.", "error"
        )
    elif _apply(found, change):
        flash(f"{FIELD_LABELS[field]} taken from the card.")
    return redirect(url_for("web.lead", lead_id=found.id))
