"""Score a lead against the rubric sales and marketing agreed for an event.

The one implementation: the server scores every lead it receives with it, and the
tablet imports it to show the suggested band while staff are still talking.

A rubric is plain JSON, as events store and sync it::

    {"version": 3, "hot": 60, "warm": 30, "rules": [
        {"question": "budget", "equals": true, "points": 30, "reason": "Budget confirmed"},
        {"question": "seats", "at_least": 100, "points": 15, "reason": "100+ seats"},
        {"question": "topics", "includes": "CRM", "points": 5},
        {"product": "scanner", "points": 10, "reason": "Wants the scanner"}]}

A rule matches an answer that equals a value, a number at least a value, or a
multiple choice that includes a value; or a product of interest. Points may be
negative. The band is hot at or above "hot" points, warm at or above "warm".

A rubric without rules judges nothing: its leads get no band (None), so that nothing
downstream (alerts, stats, escalation) mistakes "no rubric" for "cold". Staff's own
rating is a separate field and stays the only judgement of such leads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BANDS = ("hot", "warm", "cold")
EMPTY_RUBRIC: dict[str, Any] = {"version": 0, "hot": 60, "warm": 30, "rules": []}


@dataclass(frozen=True)
class Score:
    """A lead's points, its band (None when no rubric rule could judge it) and why."""

    points: int
    band: str | None
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _matches(rule: Mapping[str, Any], answers: Mapping[str, Any], products: Sequence[str]) -> bool:
    if "product" in rule:
        return rule["product"] in products
    value = answers.get(rule.get("question"))
    if value is None:
        return False
    if "equals" in rule:
        # bool is an int in Python: True must not equal 1 here.
        return type(value) is type(rule["equals"]) and value == rule["equals"]
    if "at_least" in rule:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (value >= rule["at_least"])
        )
    if "includes" in rule:
        return isinstance(value, list) and rule["includes"] in value
    return False


def _reason(rule: Mapping[str, Any]) -> str:
    if rule.get("reason"):
        return str(rule["reason"])
    if "product" in rule:
        return f"Interested in {rule['product']}"
    condition = next(key for key in ("equals", "at_least", "includes") if key in rule)
    words = {"equals": "is", "at_least": "is at least", "includes": "includes"}[condition]
    return f"{rule['question']} {words} {rule[condition]}"


def band_for(points: int, rubric: Mapping[str, Any]) -> str:
    """Return the band points fall in under rubric's thresholds."""
    if points >= rubric.get("hot", EMPTY_RUBRIC["hot"]):
        return "hot"
    if points >= rubric.get("warm", EMPTY_RUBRIC["warm"]):
        return "warm"
    return "cold"


def has_rules(rubric: Mapping[str, Any] | None) -> bool:
    """Return whether rubric has any rule that can score a lead."""
    return bool(rubric and rubric.get("rules"))


def score_lead(
    rubric: Mapping[str, Any] | None, answers: Mapping[str, Any], products: Sequence[str]
) -> Score:
    """Score a lead's answers and products; reasons list each matching rule, biggest first.

    Without rubric rules the band is None: there was nothing to judge the lead by.
    """
    rubric = rubric or EMPTY_RUBRIC
    reasons = [
        {"reason": _reason(rule), "points": int(rule["points"])}
        for rule in rubric.get("rules", [])
        if _matches(rule, answers, products)
    ]
    reasons.sort(key=lambda reason: -abs(reason["points"]))
    points = sum(reason["points"] for reason in reasons)
    band = band_for(points, rubric) if has_rules(rubric) else None
    return Score(points=points, band=band, reasons=reasons)


def format_reason(reason: Mapping[str, Any]) -> str:
    """Return a reason as people read it: 'Budget confirmed +30'."""
    return f"{reason['reason']} {reason['points']:+d}"
