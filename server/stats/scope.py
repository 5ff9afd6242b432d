"""Which leads the figures and exports count: one rule, imported by both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from server.leads.models import Lead


def counted_conditions() -> tuple[ColumnElement[bool], ...]:
    """Return the conditions a lead must meet to count (a merged duplicate does not)."""
    return (Lead.merged_into_id.is_(None),)


def counted_leads(event_id: int, *columns: Any) -> Select[Any]:
    """Return select(*columns) over the counted leads of one event."""
    conditions = (Lead.event_id == event_id, *counted_conditions())
    return select(*columns).select_from(Lead).where(*conditions)
