"""The baseline benchmarks compare against: the same rows written by one bare executemany."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa


def _bare(like: sa.Table, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        f"bare_{like.name}",
        metadata,
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in like.columns),
    )


def executemany_seconds(
    batches: list[tuple[sa.Table, list[dict[str, Any]]]], target_url: str
) -> float:
    """Insert each batch's rows into a bare copy of its table in one transaction; return seconds."""
    metadata = sa.MetaData()
    bare = [(_bare(like, metadata), rows) for like, rows in batches]
    target = sa.create_engine(target_url)
    metadata.create_all(target)
    started = time.perf_counter()
    with target.begin() as connection:
        for table, rows in bare:
            if rows:
                connection.execute(table.insert(), rows)
    elapsed = time.perf_counter() - started
    target.dispose()
    return elapsed


def executemany_rate(like: sa.Table, rows: list[dict[str, Any]], target_url: str) -> float:
    """Insert rows into a bare copy of like's columns in one executemany; return rows/s."""
    return len(rows) / executemany_seconds([(like, rows)], target_url)


def row_counts(url: str, metadata: sa.MetaData) -> dict[str, int]:
    """Return how many rows each of metadata's tables holds in the database at url."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in metadata.sorted_tables
        }
    engine.dispose()
    return counts


def rows_added(
    url: str, metadata: sa.MetaData, before: dict[str, int]
) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    """Return, per table, as many of its rows as were added since before.

    Their shape is what a baseline needs, not which rows they are.
    """
    after = row_counts(url, metadata)
    engine = sa.create_engine(url)
    added = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            count = after[table.name] - before.get(table.name, 0)
            if count > 0:
                rows = connection.execute(sa.select(table).limit(count))
                added.append((table, [dict(row._mapping) for row in rows]))
    engine.dispose()
    return added
