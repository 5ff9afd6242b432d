"""Which leads a caller may see: one rule, used by every lead endpoint."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, select, true
from sqlalchemy.orm import joinedload

from server.auth.principal import Principal
from server.errors import fail
from server.extensions import db
from server.leads.models import Lead
from server.users.models import Role

# How a caller's leads are limited: by a column's value, not at all, or to none.
_COLUMNS: dict[str, Any] = {"device": Lead.device_id, "owner": Lead.owner_id}
_SCOPES = ("all", "none", *_COLUMNS)


def _scope(principal: Principal) -> tuple[str, int | None]:
    """Return how principal's leads are limited (one of _SCOPES) and by which value.

    Admins and marketers see every lead; a rep sees the leads they own; a tablet
    sees the leads it captured; booth staff logged in on the web see none.
    """
    if principal.device is not None:
        return "device", principal.device.id
    if principal.is_manager:
        return "all", None
    if principal.has_role(Role.REP):
        assert principal.user is not None
        return "owner", principal.user.id
    return "none", None


def _limit(scope: str, value: Any) -> ColumnElement[bool]:
    if scope == "all":
        return true()
    return false() if scope == "none" else _COLUMNS[scope] == value


def visible_leads(principal: Principal) -> Select[tuple[Lead]]:
    """Return a query of the leads principal may read (the rule: _scope)."""
    scope, value = _scope(principal)
    query = select(Lead)
    return query if scope == "all" else query.where(_limit(scope, value))


def _by_id(scope: str, with_event: bool) -> Select[tuple[Lead]]:
    query = select(Lead).where(Lead.id == bindparam("lead_id"))
    if scope != "all":
        query = query.where(_limit(scope, bindparam("scope_value")))
    return query.options(joinedload(Lead.event)) if with_event else query


# One lead by id, for each scope, with and without its event: every rep's acknowledgement
# reads one, and building a statement costs more than running it (docs/performance.md).
_BY_ID = {
    (scope, with_event): _by_id(scope, with_event)
    for scope in _SCOPES
    for with_event in (False, True)
}


def get_visible_lead(principal: Principal, lead_id: uuid.UUID, *, with_event: bool = False) -> Lead:
    """Return the lead if principal may read it; otherwise 404, as if it did not exist.

    with_event loads the lead's event in the same query.
    """
    scope, value = _scope(principal)
    query = _BY_ID[scope, with_event]
    lead = db.session.scalars(query, {"lead_id": lead_id, "scope_value": value}).first()
    if lead is None:
        fail(404, "No such lead.")
    return lead
