"""Create and change users, keeping emails unique and passwords hashed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from server.auth.models import ApiToken
from server.db_types import utcnow
from server.errors import fail, fail_validation
from server.extensions import db
from server.users.models import Role, User
from sync.contact import ContactError, normalise_email

# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def canonical_email(raw: str) -> str:
    """Normalise an account email, answering 422 when it is not one."""
    try:
        return normalise_email(raw)
    except ContactError as error:
        fail_validation({"email": [str(error)]})


def find_by_email(email: str) -> User | None:
    """Return the user with this (already normalised) email, if any."""
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def verify_login(email: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None."""
    try:
        user = find_by_email(normalise_email(email))
    except ContactError:
        user = None
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def _apply(user: User, fields: dict[str, Any]) -> None:
    if "email" in fields:
        email = canonical_email(fields.pop("email"))
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            fail(409, "Another user already has this email address.")
        user.email = email
    if "password" in fields:
        user.password_hash = generate_password_hash(fields.pop("password"))
    for name, value in fields.items():
        setattr(user, name, value)


def create_user(fields: dict[str, Any]) -> User:
    """Create a user from validated fields and commit."""
    user = User(territory=[], products=[], active=True)
    _apply(user, dict(fields))
    db.session.add(user)
    db.session.commit()
    return user


SELF_DEMOTION = "An admin cannot deactivate or demote their own account."


def demotes_self(actor: User | None, user: User, fields: dict[str, Any]) -> bool:
    """Return whether fields would take an admin's own access away (which is refused)."""
    if actor is None or actor.id != user.id:
        return False
    return fields.get("active") is False or fields.get("role", Role.ADMIN) != Role.ADMIN


def update_user(user: User, fields: dict[str, Any]) -> User:
    """Change a user; deactivating one revokes their tokens at once."""
    _apply(user, dict(fields))
    if not user.active:
        revoke_tokens(user)
    db.session.commit()
    return user


def revoke_tokens(user: User) -> None:
    """Revoke every live token of user (in the current transaction)."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def require_role(user_id: int, field: str, *roles: Role) -> User:
    """Return the active user with user_id and one of roles, else answer 422 on field."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        fail_validation({field: [f"No active {allowed} has this id."]})
    return user
