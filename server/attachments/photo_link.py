"""The card photo behind a rep's alert link: signed, expiring, no login (like /ack links)."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from server.alerts.links import read_photo_token
from server.attachments.suggestions import photos_of
from server.web.card_views import photo_response

blp = Blueprint("card_photo", __name__, url_prefix="/card-photo")


@blp.get("/<token>")
def card_photo(token: str) -> Response:
    """Send the newest card photo of the link's lead."""
    lead_id = read_photo_token(token)
    if lead_id is None:
        abort(404)
    photos = photos_of(lead_id)
    if not photos:
        abort(404)
    return photo_response(photos[-1])
