"""Log in, log out and tell who is logged in."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.auth.guard import ALL_ROLES, authorize
from server.auth.principal import current_principal
from server.auth.schemas import LoginSchema, TokenSchema
from server.auth.service import issue_token, revoke_token
from server.errors import fail
from server.json_body import Blueprint
from server.users.models import User
from server.users.schemas import UserSchema
from server.users.service import verify_login

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Logging in.")


@blp.route("/login")
class Login(MethodView):
    @blp.doc(security=[])
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Exchange email and password for a bearer token."""
        user = verify_login(credentials["email"], credentials["password"])
        if user is None:
            fail(401, "Wrong email or password.")
        return issue_token(user)


@blp.route("/logout")
class Logout(MethodView):
    @authorize(*ALL_ROLES)
    @blp.response(204)
    def post(self) -> None:
        """Revoke the token this request was made with."""
        token = current_principal().token
        assert token is not None  # authorize() admits users only here
        revoke_token(token)


@blp.route("/me")
class Me(MethodView):
    @authorize(*ALL_ROLES)
    @blp.response(200, UserSchema)
    def get(self) -> User:
        """Show the logged-in user."""
        user = current_principal().user
        assert user is not None
        return user
