"""The baseline benchmarks compare against: the same rows written by one bare executemany."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa


def executemany_rate(like: sa.Table, rows: list[dict[str, Any]], target_url: str) -> float:
    """Insert rows into a bare copy of like's columns in one executemany; return rows/s."""
    bare = sa.Table(
        f"bare_{like.name}",
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in like.columns),
    )
    target = sa.create_engine(target_url)
    bare.create(target)
    started = time.perf_counter()
    with target.begin() as connection:
        connection.execute(bare.insert(), rows)
    elapsed = time.perf_counter() - started
    target.dispose()
    return len(rows) / elapsed
