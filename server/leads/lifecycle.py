"""Which status changes a lead may go through, and what each one needs."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

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
