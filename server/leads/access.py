"""Which leads a caller may see: one rule, used by every lead endpoint."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select
from sqlalchemy.sql.base import ExecutableOption

from server.auth.principal import Principal
from server.errors import fail
from server.extensions import db
from server.leads.models import Lead
from server.users.models import Role


def visible_leads(principal: Principal) -> Select[tuple[Lead]]:
    """Return a query of the leads principal may read.

    Admins and marketers see every lead; a rep sees the leads they own; a tablet
    sees the leads it captured; booth staff logged in on the web see none.
    """
    query = select(Lead)
    if principal.device is not None:
        return query.where(Lead.device_id == principal.device.id)
    if principal.is_manager:
        return query
    if principal.has_role(Role.REP):
        assert principal.user is not None
        return query.where(Lead.owner_id == principal.user.id)
    return query.where(false())


def get_visible_lead(principal: Principal, lead_id: uuid.UUID, *options: ExecutableOption) -> Lead:
    """Return the lead if principal may read it; otherwise 404, as if it did not exist.

    options are loader options (what to load with the lead in the same query).
    """
    query = visible_leads(principal).where(Lead.id == lead_id).options(*options)
    lead = db.session.scalars(query).first()
    if lead is None:
        fail(404, "No such lead.")
    return lead
