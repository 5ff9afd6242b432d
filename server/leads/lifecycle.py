"""Which status changes a lead may go through, what each one needs, and making one.

change_status() is the one way a lead's status changes, whoever asks: a rep through the
API or web pages, or a CRM whose outcomes flow back (server/crm/outcomes.py). So the
dashboard's funnel and "did booth ratings hold up" count every change alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from server.db_types import utcnow
from server.events.models import DEFAULT_DISQUALIFICATION_REASONS
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead
from server.leads.models import LeadStatus as S

# The funnel in order; a lead only moves forward along it.
FUNNEL = (S.NEW, S.ASSIGNED, S.ACKNOWLEDGED, S.CONTACTED, S.MEETING, S.QUALIFIED, S.WON)
CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})
# Sales can drop a lead at any point once someone owns it.
EXITS = frozenset({S.LOST, S.DISQUALIFIED})


def transition_error(current: S, target: S, *, has_owner: bool) -> str | None:
    """Return why a lead in current may not move to target (a 409), or None when it may."""
    if current in CLOSED:
        return f"The lead is already {current.value}; it cannot change status."
    if target == current:
        return f"The lead is already {current.value}."
    if target == S.NEW:
        return "A lead cannot go back to new."
    if not has_owner and target != S.DISQUALIFIED:
        return "Assign an owner before moving the lead on."
    if target in EXITS:
        return None
    if FUNNEL.index(target) < FUNNEL.index(current):
        return f"A lead cannot go back from {current.value} to {target.value}."
    return None


def chosen_reason(reason: str | None, allowed: Sequence[str]) -> str | None:
    """Return the event's spelling of reason when it is one of allowed (any case), else None."""
    if not reason:
        return None
    wanted = reason.strip().casefold()
    return next((item for item in allowed if item.casefold() == wanted), None)


def outcome_errors(
    target: S, *, reason: str | None, value: Decimal | None, allowed_reasons: Sequence[str]
) -> dict[str, list[str]]:
    """Return what a change to target lacks, by field (a 422); empty when it is complete.

    Disqualifying takes one of the event's reasons; losing takes a reason in the rep's
    own words; winning takes the deal value.
    """
    if target == S.DISQUALIFIED:
        if not reason:
            return {"reason": ["Give a reason when disqualifying a lead."]}
        if chosen_reason(reason, allowed_reasons) is None:
            listed = "; ".join(allowed_reasons)
            return {"reason": [f"Choose one of this event's reasons: {listed}."]}
    if target == S.LOST and not reason:
        return {"reason": ["Give a reason when a lead is lost."]}
    if target == S.WON and value is None:
        return {"value": ["Give the deal value when a lead is won."]}
    return {}


def reachable(current: S, *, has_owner: bool, among: tuple[S, ...] | None = None) -> list[S]:
    """Return the statuses (of among, default every one) a lead may move to from current."""
    targets = among if among is not None else tuple(S)
    return [t for t in targets if transition_error(current, t, has_owner=has_owner) is None]


# Reaching any of these means sales spoke to the visitor.
CONTACTED_OR_LATER = frozenset({S.CONTACTED, S.MEETING, S.QUALIFIED, S.WON})


class TransitionRefused(Exception):
    """A status change that may not happen: 409 (not from here) or 422 (incomplete)."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def allowed_reasons(lead: Lead) -> list[str]:
    """Return the disqualification reasons of the lead's event."""
    return lead.event.disqualification_reasons or list(DEFAULT_DISQUALIFICATION_REASONS)


def change_status(
    lead: Lead,
    target: S,
    *,
    reason: str | None = None,
    value: Decimal | None = None,
    actor_user_id: int | None = None,
    actor_device_id: int | None = None,
    **detail: Any,
) -> None:
    """Move lead to target on its timeline (in the caller's transaction); raise TransitionRefused.

    detail is added to the timeline entry (for example which CRM reported the change).
    """
    problem = transition_error(lead.status, target, has_owner=lead.owner_id is not None)
    if problem:
        raise TransitionRefused(409, problem)
    allowed = allowed_reasons(lead)
    missing = outcome_errors(target, reason=reason, value=value, allowed_reasons=allowed)
    if missing:
        raise TransitionRefused(422, next(iter(missing.values()))[0], missing)
    if target == S.DISQUALIFIED:
        reason = chosen_reason(reason, allowed)
    kind = ActivityKind.STATUS_CHANGED
    now = utcnow()
    if target == S.ACKNOWLEDGED:
        lead.acknowledged_at = now
        kind = ActivityKind.ACKNOWLEDGED
    elif target in CONTACTED_OR_LATER and lead.first_contact_at is None:
        lead.first_contact_at = now
    entry: dict[str, Any] = {"from": lead.status.value, "to": target.value, **detail}
    if reason:
        entry["reason"] = reason
    if value is not None:
        entry["value"] = str(value)
    db.session.add(
        Activity(
            lead_id=lead.id,
            kind=kind,
            at=now,
            actor_user_id=actor_user_id,
            actor_device_id=actor_device_id,
            detail=entry,
        )
    )
    lead.status = target
    lead.status_reason = reason
    if value is not None:
        lead.deal_value = value
