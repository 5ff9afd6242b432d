"""Jinja filters that show times in the event's time zone and numbers at a glance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask


def parse_time(value: datetime | str | None) -> datetime | None:
    """Return value as an aware datetime (the stats give ISO 8601 strings)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def local_time(
    value: datetime | str | None, timezone: str | None, fmt: str = "%Y-%m-%d %H:%M"
) -> str:
    """Format an aware time in timezone (the event's); a dash when there is none."""
    value = parse_time(value)
    if value is None:
        return "–"
    return value.astimezone(ZoneInfo(timezone or "UTC")).strftime(fmt)


def number(value: Any, places: int = 0, trim: bool = False) -> str:
    """Format a number with thousands separators; a dash for None.

    trim drops trailing zeros of the decimals (250.0 -> "250", 12.50 -> "12.5"): for
    figures such as answers, where places is a most, not a money amount's fixed cents.
    """
    if value is None:
        return "–"
    text = f"{Decimal(str(value)):,.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def percent(value: Any) -> str:
    """Format a share between 0 and 1 as a whole percentage; a dash for None."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.0f}%"


def duration(seconds: Any) -> str:
    """Format seconds as '45 s', '12 min' or '3.5 h'; a dash for None."""
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def ago(value: datetime | str | None, now: datetime | str) -> str:
    """Say how long before now value was, like '3 min ago'; 'never' for None."""
    then, current = parse_time(value), parse_time(now)
    if then is None or current is None:
        return "never"
    seconds = max((current - then).total_seconds(), 0)
    return "just now" if seconds < 30 else f"{duration(seconds)} ago"


def seconds_since(value: datetime | str | None, now: datetime | str) -> float | None:
    """Return how many seconds before now value was, or None."""
    then, current = parse_time(value), parse_time(now)
    if then is None or current is None:
        return None
    return (current - then).total_seconds()


def register_filters(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(
        local_time=local_time,
        number=number,
        percent=percent,
        duration=duration,
        ago=ago,
        seconds_since=seconds_since,
    )
