"""Log in, log out, and the home page that sends each role where it works."""

from __future__ import annotations

import marshmallow as ma
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from server.auth.schemas import LoginSchema
from server.users.models import Role
from server.users.schemas import UserSchema
from server.users.service import update_user, verify_login
from server.web.blueprint import bp
from server.web.limits import login_limit
from server.web.session import WEB_ROLES, WebUser, roles_required, safe_next


@bp.get("/")
def home() -> Response | tuple[str, int]:
    """Send a rep to their inbox and a manager to the events; staff get a page saying why not."""
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    if not current_user.has_role(*WEB_ROLES):
        return render_template("web/no_access.html"), 403
    if current_user.has_role(Role.REP):
        return redirect(url_for("web.inbox"))
    return redirect(url_for("web.events"))


@bp.get("/login")
def login() -> str | Response:
    """Show the login form."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    return render_template("web/login.html", email="", next=request.args.get("next", ""))


@bp.post("/login")
@login_limit
def login_post() -> tuple[str, int] | Response:
    """Check the email and password with the API's own check, then start a session."""
    email = request.form.get("email", "")
    target = safe_next(request.form.get("next"))
    try:
        credentials = LoginSchema().load(
            {"email": email, "password": request.form.get("password", "")}
        )
        user = verify_login(credentials["email"], credentials["password"])
    except ma.ValidationError:
        user = None
    if user is None:
        page = render_template(
            "web/login.html", email=email[:254], next=target or "", error="Wrong email or password."
        )
        return page, 401
    # A fresh session: nothing from before the login (including its CSRF token) carries over.
    session.clear()
    login_user(WebUser(user))
    return redirect(target or url_for("web.home"))


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("web.login"))


@bp.get("/account")
@roles_required(*WEB_ROLES)
def account() -> str:
    """Show the form to change one's own password."""
    return render_template("web/account.html", errors=[])


@bp.post("/account")
@roles_required(*WEB_ROLES)
def account_password() -> tuple[str, int] | Response:
    """Change one's own password; every other session of the account ends."""
    user = current_user.user
    if verify_login(user.email, request.form.get("current", "")[:200]) is None:
        return render_template("web/account.html", errors=["The current password is wrong."]), 422
    new = request.form.get("password", "")
    if new != request.form.get("repeat", ""):
        return render_template("web/account.html", errors=["The new passwords differ."]), 422
    try:
        update_user(user, UserSchema(partial=True, only=("password",)).load({"password": new}))
    except ma.ValidationError as error:
        lines = [str(line) for line in error.messages.get("password", [])]  # type: ignore[union-attr]
        return render_template("web/account.html", errors=lines), 422
    # The session id carries a stamp of the password: log in again under the new one.
    login_user(WebUser(user))
    flash("Password changed. Other sessions of your account are logged out.")
    return redirect(url_for("web.home"))
