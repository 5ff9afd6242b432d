"""Links in alerts: the signed one-click acknowledge link, and the lead's web page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

ACK_SALT = "leadbridge-ack-v1"
ACK_LINK_DAYS = 7


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ACK_SALT)


def ack_url(lead_id: uuid.UUID, rep_id: int) -> str:
    """Return the link that acknowledges lead_id on behalf of rep_id."""
    token = _serializer().dumps({"lead": str(lead_id), "rep": rep_id})
    return f"{current_app.config['LEADBRIDGE_PUBLIC_URL']}/ack/{token}"


def lead_url(lead_id: uuid.UUID) -> str:
    """Return the lead's web page (a browser that is not logged in is sent to log in first)."""
    return f"{current_app.config['LEADBRIDGE_PUBLIC_URL']}/web/leads/{lead_id}"


def read_ack_token(token: str) -> dict[str, Any] | None:
    """Return {"lead", "rep"} from a valid, unexpired ack token; None for anything else."""
    try:
        data = _serializer().loads(token, max_age=ACK_LINK_DAYS * 24 * 3600)
        return {"lead": uuid.UUID(data["lead"]), "rep": int(data["rep"])}
    except (BadData, KeyError, TypeError, ValueError):
        return None


PHOTO_SALT = "leadbridge-card-photo-v1"
PHOTO_LINK_DAYS = 7


def photo_url(lead_id: uuid.UUID) -> str:
    """Return a signed, expiring link to the lead's card photo (for the rep's alert)."""
    token = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PHOTO_SALT).dumps(
        {"lead": str(lead_id)}
    )
    return f"{current_app.config['LEADBRIDGE_PUBLIC_URL']}/card-photo/{token}"


def read_photo_token(token: str) -> uuid.UUID | None:
    """Return the lead id of a valid, unexpired photo link; None for anything else."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PHOTO_SALT)
    try:
        return uuid.UUID(serializer.loads(token, max_age=PHOTO_LINK_DAYS * 24 * 3600)["lead"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
