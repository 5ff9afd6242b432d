"""Insert a batch of new rows of one table: the push's multi-row writes.

On SQLite the rows go to the DBAPI cursor's ``executemany`` as tuples, each value passed
through its column type's bind processor, chosen once per table and set of columns. That is
what SQLAlchemy's executemany does too, less its per-row work (building each row's
parameters by name, one call per processor chain), which was a quarter of a push's CPU there
(docs/performance.md). On PostgreSQL, SQLAlchemy's own executemany is kept: it sends the
batch as multi-row INSERTs ("insertmanyvalues"), which cost PostgreSQL less than a statement
per row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Insert, Table, insert
from sqlalchemy.engine import Dialect

from server.extensions import db


class _Plan(NamedTuple):
    sql: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]


@functools.lru_cache(maxsize=256)
def _statement(table: Table) -> Insert:
    """Return table's INSERT, built once (building it costs more than running it)."""
    return insert(table)


@functools.lru_cache(maxsize=256)
def _plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """Return the INSERT of keys and each bound column's processor, or None.

    None where the cursor path does not apply: a database other than SQLite, or an INSERT
    that binds more than keys (a column default made in Python, which SQLAlchemy's own
    execution fills in).
    """
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        return None
    compiled = _statement(table).compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if set(order) != set(keys) or len(order) != len(keys):
        return None
    columns = tuple(
        (key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in order
    )
    return _Plan(compiled.string, columns)


def insert_rows(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows into table in the session's transaction; every row has the same keys."""
    if not rows:
        return
    connection = db.session.connection()
    plan = _plan(table, connection.dialect, tuple(rows[0]))
    if plan is None:
        connection.execute(_statement(table), list(rows))
        return
    # Column by column, then zipped into rows: list comprehensions, no call per value
    # but the processors' own.
    values = [
        [row[key] for row in rows] if process is None else [process(row[key]) for row in rows]
        for key, process in plan.columns
    ]
    connection.exec_driver_sql(plan.sql, list(zip(*values, strict=True)))
