"""Log people in with a session cookie (Flask-Login) and check their role on every page."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from werkzeug.wrappers import Response

from server.auth.principal import Principal
from server.extensions import db
from server.users.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "web.login"
# Roles that may use the web pages at all; booth staff capture on tablets only.
WEB_ROLES = (Role.ADMIN, Role.MARKETER, Role.REP)
MANAGERS = (Role.ADMIN, Role.MARKETER)


def _password_stamp(user: User) -> str:
    # Part of the session id, so changing a password ends every other session.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


class WebUser(UserMixin):
    """The logged-in user as Flask-Login sees them."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{_password_stamp(self.user)}"

    @property
    def role(self) -> Role:
        return self.user.role

    def has_role(self, *roles: Role) -> bool:
        """Tell whether the user holds one of roles."""
        return self.user.role in roles

    @property
    def is_manager(self) -> bool:
        return self.has_role(*MANAGERS)


@login_manager.user_loader
def load_user(session_id: str) -> WebUser | None:
    """Return the session's user while their account is active and their password unchanged."""
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or stamp != _password_stamp(user):
        return None
    return WebUser(user)


@login_manager.unauthorized_handler
def unauthorized() -> Response | tuple[Response, int]:
    """Send a browser to the login page; tell the dashboard's script with a 401."""
    if request.path.endswith(".json"):
        return jsonify({"code": 401, "message": "Log in again."}), 401
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path of this site's web pages (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/web/"):
        return None
    return target


def principal() -> Principal:
    """Return the logged-in user as the services' Principal."""
    return Principal(user=current_user.user)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let a logged-in user with one of roles open the page; others get a page saying no."""

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*WEB_ROLES):
                return render_template("web/no_access.html"), 403
            if not current_user.has_role(*roles):
                abort(403, "Your role may not open this page.")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
