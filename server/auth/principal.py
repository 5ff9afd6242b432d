"""Find out who is asking: a logged-in user or a paired tablet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from server.auth.models import ApiToken
from server.auth.tokens import DEVICE_TOKEN_PREFIX, USER_TOKEN_PREFIX, token_hash
from server.db_types import utcnow
from server.devices.models import Device
from server.errors import fail
from server.extensions import db
from server.users.models import Role, User

# Writing last_seen on every request would turn each read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """The caller: exactly one of user or device is set."""

    user: User | None = None
    device: Device | None = None
    token: ApiToken | None = None

    def has_role(self, *roles: Role) -> bool:
        """Tell whether the caller is a user holding one of roles."""
        return self.user is not None and self.user.role in roles

    @property
    def is_manager(self) -> bool:
        """Admins and marketers manage events, devices and all leads."""
        return self.has_role(Role.ADMIN, Role.MARKETER)


def _unauthorized(message: str, errors: dict[str, bool] | None = None) -> None:
    fail(401, message, errors, headers={"WWW-Authenticate": 'Bearer realm="leadbridge"'})


# Every request runs one of these two: built once, since building a statement and its
# cache key costs more CPU than running it (docs/performance.md).
_USER_BY_TOKEN = (
    select(ApiToken, User)
    .join(User, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
# With its event: every tablet request reads it, and a join costs no extra round trip.
_DEVICE_BY_TOKEN = (
    select(Device)
    .where(Device.token_hash == bindparam("token_hash"))
    .options(joinedload(Device.event))
)


def _user_principal(secret: str) -> Principal | None:
    row = db.session.execute(_USER_BY_TOKEN, {"token_hash": token_hash(secret)}).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or token.expires_at <= utcnow() or not user.active:
        return None
    return Principal(user=user, token=token)


def _device_principal(secret: str) -> Principal | None:
    device = db.session.execute(
        _DEVICE_BY_TOKEN, {"token_hash": token_hash(secret)}
    ).scalar_one_or_none()
    if device is None:
        return None
    if device.revoked:
        # The tablet must delete everything it holds (docs/sync-protocol.md, "Revoked tablets").
        _unauthorized("This tablet was revoked: delete its data.", {"wipe": True})
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_RESOLUTION:
        device.last_seen_at = now
        db.session.commit()
    return Principal(device=device)


def current_principal() -> Principal:
    """Return the caller of this request, answering 401 when there is none."""
    cached = g.get("principal")
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        _unauthorized("Log in: send 'Authorization: Bearer <token>'.")
    secret = secret.strip()
    principal = None
    if secret.startswith(USER_TOKEN_PREFIX):
        principal = _user_principal(secret)
    elif secret.startswith(DEVICE_TOKEN_PREFIX):
        principal = _device_principal(secret)
    if principal is None:
        _unauthorized("The token is unknown, expired or revoked.")
    g.principal = principal
    return principal
