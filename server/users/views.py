"""REST resources for users."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from server.auth.guard import ALL_ROLES, MANAGERS, authorize
from server.auth.principal import current_principal
from server.errors import fail
from server.extensions import db
from server.json_body import Blueprint
from server.users.models import Role, User
from server.users.schemas import UserListArgsSchema, UserSchema
from server.users.service import SELF_DEMOTION, create_user, demotes_self, update_user

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="People and roles.")


def _get_visible_user(user_id: int) -> User:
    principal = current_principal()
    user = db.session.get(User, user_id)
    is_self = principal.user is not None and principal.user.id == user_id
    if user is None or not (principal.is_manager or is_self):
        fail(404, "No such user.")
    return user


@blp.route("")
class Users(MethodView):
    @authorize(*MANAGERS)
    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[User]:
        """List users."""
        query = select(User).order_by(User.name, User.id)
        for name, value in args.items():
            query = query.where(getattr(User, name) == value)
        return list(db.session.scalars(query))

    @authorize(Role.ADMIN)
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, fields: dict[str, Any]) -> User:
        """Create a user."""
        return create_user(fields)


@blp.route("/<id:user_id>")
class UserById(MethodView):
    @authorize(*ALL_ROLES)
    @blp.response(200, UserSchema)
    def get(self, user_id: int) -> User:
        """Show a user."""
        return _get_visible_user(user_id)

    @authorize(Role.ADMIN)
    @blp.arguments(UserSchema(partial=True))
    @blp.response(200, UserSchema)
    def patch(self, fields: dict[str, Any], user_id: int) -> User:
        """Change a user's details, role or active flag."""
        user = _get_visible_user(user_id)
        if demotes_self(current_principal().user, user, fields):
            fail(409, SELF_DEMOTION)
        return update_user(user, fields)
