"""The bounds a lead's values keep, so that both ends can store, compare and render them.

One definition for the tablet store (sync/store/) and the server's schemas
(server/fields.py): a value outside them is refused where it is typed or sent, with a
message to show, rather than failing later where it is converted.

- Times: an aware time may carry any UTC offset Python allows (under 24 hours either
  way), and is converted to UTC to be stored and to the event's zone to be shown. Its
  instant is kept two days inside Python's years 1 to 9999, so that every such
  conversion, and a day's arithmetic on top, stays representable.
- Text: no NUL (PostgreSQL cannot store it) and no lone surrogate (no UTF-8 exists for
  it: neither database, nor a JSON body, can carry it).
- Dates (an event's days): as times, and ten years earlier at the top, for retention.
- Numbers: ids and counts fit a database integer; an answer's number stays within
  ±MAX_NUMBER, finite.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

_MARGIN = timedelta(days=2)
EARLIEST = datetime.min.replace(tzinfo=UTC) + _MARGIN
LATEST = datetime.max.replace(tzinfo=UTC) - _MARGIN
# An event's dates: its retention (at most ten years, server/privacy) is added to its
# last day, so that sum must exist too.
EARLIEST_DAY = EARLIEST.date()
LATEST_DAY = (LATEST - timedelta(days=3660)).date()
MAX_ID = 2**31 - 1
MAX_NUMBER = 1e15

_FIRST, _LAST = EARLIEST.date().isoformat(), LATEST.date().isoformat()
TIME_MESSAGE = f"Give a time between {_FIRST} and {_LAST} (UTC)."
DAY_MESSAGE = f"Give a date between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."
NUL_MESSAGE = "Text may not contain NUL characters."
SURROGATE_MESSAGE = "Text may not contain unpaired surrogate characters."
ID_MESSAGE = f"Give a whole number from 1 to {MAX_ID}."


def time_problem(moment: datetime) -> str | None:
    """Return why an aware time is out of bounds, or None when it is within them."""
    try:
        instant = moment.astimezone(UTC)
    except OverflowError:  # its UTC instant is before year 1 or after 9999
        return TIME_MESSAGE
    return None if EARLIEST <= instant <= LATEST else TIME_MESSAGE


def day_problem(day: date) -> str | None:
    """Return why a calendar date is out of bounds, or None."""
    return None if EARLIEST_DAY <= day <= LATEST_DAY else DAY_MESSAGE


def text_problem(text: str) -> str | None:
    """Return why text cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def id_problem(value: object) -> str | None:
    """Return why value is not an id a database integer holds (1 to MAX_ID), or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return ID_MESSAGE
    return None


def json_problem(value: object) -> str | None:
    """Return why a JSON-like value cannot be sent and stored (its text, its numbers), or None.

    JSON has no NaN or infinity; strings (keys too) follow text_problem.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, float) and not math.isfinite(item):
            return "Give a finite number."
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None
