"""Issue and revoke users' bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from server.auth.models import ApiToken
from server.auth.tokens import new_user_token, token_hash
from server.db_types import utcnow
from server.extensions import db
from server.users.models import User


def issue_token(user: User) -> dict[str, Any]:
    """Create a token for user; return it with its expiry (the only time it is visible)."""
    secret = new_user_token()
    ttl = timedelta(hours=current_app.config["LEADBRIDGE_TOKEN_TTL_HOURS"])
    token = ApiToken(user_id=user.id, token_hash=token_hash(secret), expires_at=utcnow() + ttl)
    db.session.add(token)
    db.session.commit()
    return {"token": secret, "expires_at": token.expires_at, "user": user}


def revoke_token(token: ApiToken) -> None:
    """Revoke one token now."""
    token.revoked_at = utcnow()
    db.session.commit()
