"""Decorators that let a view run only for the roles allowed to call it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from server.auth.principal import current_principal
from server.errors import fail
from server.users.models import Role

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = tuple(Role)
MANAGERS = (Role.ADMIN, Role.MARKETER)


def authorize(*roles: Role, device: bool = False) -> Callable[[F], F]:
    """Let users with one of roles (and paired tablets, if device) call the view."""

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.device is not None:
                allowed = device
            else:
                allowed = principal.has_role(*roles)
            if not allowed:
                fail(403, "Your role may not do this.")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
