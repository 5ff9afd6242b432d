"""Which status changes a lead may go through, and what each one needs."""

from __future__ import annotations

from decimal import Decimal

from server.leads.models import LeadStatus as S

# The funnel in order; a lead only moves forward along it.
FUNNEL = (S.NEW, S.ASSIGNED, S.ACKNOWLEDGED, S.CONTACTED, S.MEETING, S.QUALIFIED, S.WON)
CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})
# Sales can drop a lead at any point once someone owns it.
EXITS = frozenset({S.LOST, S.DISQUALIFIED})


def transition_error(
    current: S, target: S, *, has_owner: bool, reason: str | None, value: Decimal | None
) -> str | None:
    """Return why current may not become target, or None when the change is allowed."""
    if current in CLOSED:
        return f"The lead is already {current.value}; it cannot change status."
    if target == current:
        return f"The lead is already {current.value}."
    if target == S.NEW:
        return "A lead cannot go back to new."
    if not has_owner and target != S.DISQUALIFIED:
        return "Assign an owner before moving the lead on."
    if target in EXITS:
        if target == S.DISQUALIFIED and not reason:
            return "Give a reason when disqualifying a lead."
        return None
    if FUNNEL.index(target) < FUNNEL.index(current):
        return f"A lead cannot go back from {current.value} to {target.value}."
    if target == S.WON and value is None:
        return "Give the deal value when a lead is won."
    return None
