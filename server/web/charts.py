"""Lay the stats' figures out for charts: no figure is computed here, only placed."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.web.formatting import parse_time

HOUR = timedelta(hours=1)
# A column per hour stays readable up to about two weeks of show.
MAX_HOURS = 24 * 14


def hour_columns(per_hour: list[dict[str, Any]], timezone: str) -> list[dict[str, Any]]:
    """Return one column per hour from the first to the last hour with leads.

    The stats list only hours that had leads; the empty hours between them are shown
    as empty columns so the chart's time axis is even.
    """
    if not per_hour:
        return []
    counts = {parse_time(row["hour"]).astimezone(UTC): row["leads"] for row in per_hour}  # type: ignore[union-attr]
    first, last = min(counts), max(counts)
    if (last - first) / HOUR >= MAX_HOURS:
        first = last - HOUR * (MAX_HOURS - 1)
    zone = ZoneInfo(timezone)
    columns, at, previous_day = [], first, None
    while at <= last:
        local = at.astimezone(zone)
        day = local.date()
        columns.append(
            {
                "hour": local.strftime("%H:00"),
                "day": local.strftime("%a %d %b") if day != previous_day else None,
                "title": local.strftime("%a %d %b %H:00"),
                "leads": counts.get(at, 0),
            }
        )
        previous_day = day
        at += HOUR
    return columns


def share(part: int | None, whole: int | None) -> float:
    """Return part/whole for a bar's width (0 when whole is 0)."""
    return (part or 0) / whole if whole else 0.0
