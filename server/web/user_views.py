"""User pages (admins): invite people, set their role, territory, products and capacity."""

from __future__ import annotations

import secrets
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server.extensions import db
from server.users.models import Role, User
from server.users.schemas import UserSchema
from server.users.service import SELF_DEMOTION, create_user, demotes_self, update_user
from server.web.blueprint import bp
from server.web.event_form import field_errors
from server.web.event_views import service_errors
from server.web.session import principal, roles_required


def _words(text: str) -> list[str]:
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]


def _user_fields(form: Any, *, new: bool) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "role": form.get("role", ""),
        "territory": _words(form.get("territory", "")),
        "products": _words(form.get("products", "")),
    }
    capacity = form.get("daily_capacity", "").strip()
    raw["daily_capacity"] = (int(capacity) if capacity.isdigit() else capacity) or None
    if new:
        raw["email"] = form.get("email", "").strip()
    else:
        raw["active"] = form.get("active") == "on"
    return raw


def _render(users_form: dict[str, Any], errors: dict[str, list[str]], user: User | None) -> str:
    query = select(User).order_by(User.active.desc(), User.name, User.id)
    return render_template(
        "web/users.html",
        users=list(db.session.scalars(query)),
        roles=list(Role),
        form=users_form,
        errors=errors,
        editing=user,
    )


@bp.get("/users")
@roles_required(Role.ADMIN)
def users() -> str:
    """List everyone, with the invite form."""
    return _render({"role": Role.REP.value}, {}, None)


@bp.post("/users")
@roles_required(Role.ADMIN)
def user_invite() -> tuple[str, int] | str:
    """Create an account with a one-time password to hand over."""
    password = secrets.token_urlsafe(12)
    try:
        fields = UserSchema().load({**_user_fields(request.form, new=True), "password": password})
        user = create_user(fields)
    except ma.ValidationError as error:
        return _render(request.form.to_dict(), field_errors(error.messages), None), 422  # type: ignore[arg-type]
    except HTTPException as error:
        db.session.rollback()
        if error.code not in (409, 422):
            raise
        return _render(request.form.to_dict(), service_errors(error), None), error.code
    page = render_template("web/user_invited.html", user=user, password=password)
    return page, 201


@bp.get("/users/<id:user_id>")
@roles_required(Role.ADMIN)
def user_edit(user_id: int) -> str:
    """Show one person's settings."""
    user = db.get_or_404(User, user_id)
    return _render(_form_of(user), {}, user)


def _form_of(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "territory": ", ".join(user.territory or []),
        "products": ", ".join(user.products or []),
        "daily_capacity": "" if user.daily_capacity is None else str(user.daily_capacity),
        "active": "on" if user.active else "",
    }


@bp.post("/users/<id:user_id>")
@roles_required(Role.ADMIN)
def user_update(user_id: int) -> tuple[str, int] | Response:
    """Change a person's role, territory, products, capacity or active flag."""
    user = db.get_or_404(User, user_id)
    fields_raw = _user_fields(request.form, new=False)
    try:
        fields = UserSchema(partial=True).load(fields_raw)
    except ma.ValidationError as error:
        return _render(request.form.to_dict(), field_errors(error.messages), user), 422  # type: ignore[arg-type]
    if demotes_self(principal().user, user, fields):
        return _render(request.form.to_dict(), {"_form": [SELF_DEMOTION]}, user), 409
    update_user(user, fields)
    flash(f"Saved {user.name}.")
    return redirect(url_for("web.users"))
