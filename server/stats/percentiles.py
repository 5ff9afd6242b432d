"""Speed to lead: median and 90th percentile of each step, computed by the database.

Both databases give the same figures as PostgreSQL's percentile_cont: of n sorted durations,
percentile p sits at position p * (n - 1), counted from 0, interpolated between neighbours.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from server.extensions import db
from server.leads.models import Lead
from server.stats import sql
from server.stats.scope import counted_leads

# (name, start column, end column) of each speed-to-lead step.
SPEED_STEPS = (
    ("capture_to_alert", Lead.captured_at, Lead.alerted_at),
    ("alert_to_ack", Lead.alerted_at, Lead.acknowledged_at),
    ("ack_to_contact", Lead.acknowledged_at, Lead.first_contact_at),
)
PERCENTILES = (("median_s", 50), ("p90_s", 90))


def speed_columns(dialect: str) -> dict[str, ColumnElement[Any]]:
    """PostgreSQL: percentile_cont per step, in the one pass (ordered-set aggregates skip NULLs)."""
    if dialect != "postgresql":
        return {}
    columns: dict[str, ColumnElement[Any]] = {}
    for name, start, end in SPEED_STEPS:
        duration = sql.seconds_between(dialect, start, end)
        columns[f"{name}_count"] = func.count(duration)
        for key, p in PERCENTILES:
            columns[f"{name}_{key}"] = func.percentile_cont(p / 100).within_group(duration)
    return columns


def speed_to_lead(event_id: int, dialect: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return the count, median and p90 of each speed-to-lead step, in seconds.

    On PostgreSQL values holds the results of speed_columns (computed in the caller's one-pass
    statement); on SQLite the ranks are queried here.
    """
    if dialect != "postgresql":
        return {
            name: _ranked_percentiles(event_id, dialect, start, end)
            for name, start, end in SPEED_STEPS
        }
    result = {}
    for name, _start, _end in SPEED_STEPS:
        step: dict[str, Any] = {"count": values[f"{name}_count"]}
        for key, _p in PERCENTILES:
            value = values[f"{name}_{key}"]
            step[key] = None if value is None else round(float(value), 3)
        result[name] = step
    return result


def _ranked_percentiles(event_id: int, dialect: str, start: Any, end: Any) -> dict[str, Any]:
    """SQLite: rank the durations with window functions and fetch only the ranks needed.

    Same definition as percentile_cont: of n sorted durations, p sits at p * (n - 1).
    """
    duration = sql.seconds_between(dialect, start, end)
    ranked = (
        counted_leads(
            event_id,
            duration.label("d"),
            (func.row_number().over(order_by=duration) - 1).label("rank"),
            func.count().over().label("n"),
        )
        .where(start.is_not(None), end.is_not(None))
        .subquery()
    )
    wanted = []
    for _key, p in PERCENTILES:
        # Integer division floors these non-negative numbers on both databases.
        low = (ranked.c.n - 1) * p // 100
        wanted += [ranked.c.rank == low, ranked.c.rank == low + 1]
    rows = db.session.execute(select(ranked.c.rank, ranked.c.n, ranked.c.d).where(or_(*wanted)))
    rows = rows.all()  # at most four
    n = rows[0].n if rows else 0
    by_rank = {row.rank: float(row.d) for row in rows}
    result: dict[str, Any] = {"count": n}
    for key, p in PERCENTILES:
        result[key] = None if n == 0 else _interpolate(by_rank, (n - 1) * p, 100)
    return result


def _interpolate(by_rank: dict[int, float], numerator: int, denominator: int) -> float:
    """Return the value at rank numerator/denominator, between its two neighbours."""
    low, remainder = divmod(numerator, denominator)
    value = by_rank[low]
    if remainder:
        value += (by_rank[low + 1] - value) * remainder / denominator
    return round(value, 3)
