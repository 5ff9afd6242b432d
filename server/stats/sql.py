"""SQL expressions that mean the same on SQLite and PostgreSQL, for the stats queries.

Each function returns a column expression; the dialect is chosen when the query is built,
because JSON access and date arithmetic are spelled differently on the two databases.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, case, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB

# Every UTC offset in use is a multiple of 15 minutes, so quarter-hour buckets of UTC
# time map exactly onto local hours in any zone, DST changes included.
BUCKET_SECONDS = 900


def _path(key: str) -> str:
    # A JSON path for SQLite; the key is quoted so slugs with dashes work.
    return "$." + json.dumps(key)


def epoch_seconds(dialect: str, column: Any) -> ColumnElement[Any]:
    """Return the column (a UTC timestamp) as seconds since 1970, a float."""
    if dialect == "postgresql":
        # date_part gives a double; EXTRACT gives numeric since PostgreSQL 14, far slower.
        return func.date_part("epoch", column)
    # SQLite stores naive UTC text; julianday keeps the fractional seconds.
    return (func.julianday(column) - 2440587.5) * 86400.0


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[Any]:
    """Return end - start in seconds, a float."""
    if dialect == "postgresql":
        return func.date_part("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def quarter_hour(dialect: str, column: Any) -> ColumnElement[Any]:
    """Return the index of the UTC quarter hour a timestamp falls in (epoch // 900)."""
    return cast(func.floor(epoch_seconds(dialect, column) / BUCKET_SECONDS), Integer)


def array_contains(
    dialect: str, column: Any, value: str, key: str | None = None
) -> ColumnElement[bool]:
    """Tell whether a JSON array (the column, or its member key) includes the string value."""
    if dialect == "postgresql":
        array = column if key is None else column.op("->")(literal(key))
        return array.op("@>")(cast(literal(json.dumps([value])), JSONB))
    arguments = (column,) if key is None else (column, _path(key))
    items = func.json_each(*arguments).table_valued("value")
    return exists(select(1).select_from(items).where(items.c.value == value))


def json_is_bool(dialect: str, column: Any, key: str, value: bool) -> ColumnElement[bool]:
    """Tell whether the value under key of a JSON object column is the boolean value."""
    if dialect == "postgresql":
        return column.op("->")(literal(key)) == cast(literal(json.dumps(value)), JSONB)
    # SQLite's json_type names booleans 'true' and 'false'.
    return func.json_type(column, _path(key)) == json.dumps(value)


def json_text(dialect: str, column: Any, key: str) -> ColumnElement[Any]:
    """Return the value under key as SQL text (strings unquoted)."""
    if dialect == "postgresql":
        return column.op("->>")(literal(key))
    return func.json_extract(column, _path(key))


def json_number(dialect: str, column: Any, key: str) -> ColumnElement[Any]:
    """Return the value under key as a float when it is a JSON number, else NULL."""
    if dialect == "postgresql":
        value = column.op("->")(literal(key))
        return case(
            (func.jsonb_typeof(value) == "number", cast(column.op("->>")(literal(key)), Float))
        )
    return case(
        (
            func.json_type(column, _path(key)).in_(("integer", "real")),
            cast(func.json_extract(column, _path(key)), Float),
        )
    )
