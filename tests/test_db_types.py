"""UTCDateTime's SQLite bind processor writes what SQLAlchemy's own chain would have written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from server.db_types import UTCDateTime

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
AWARE = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC) | OFFSETS
)


def _generic_chain(value: datetime) -> str:
    """Bind value the way TypeDecorator does without the override: param, then SQLite DATETIME."""
    dialect = sqlite.dialect()
    # The copy adapted to SQLite holds SQLite's DATETIME as its impl, as at execution.
    bound = TypeDecorator.bind_processor(UTCDateTime().dialect_impl(dialect), dialect)
    assert bound is not None
    return bound(value)


@settings(max_examples=300, deadline=None)
@given(AWARE)
def test_the_sqlite_processor_writes_the_generic_chains_text(value: datetime) -> None:
    process = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert process(value) == _generic_chain(value)


def test_it_refuses_naive_datetimes_and_passes_none() -> None:
    process = UTCDateTime().bind_processor(sqlite.dialect())
    assert process(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        process(datetime(2026, 12, 4, 9, 30))


def test_a_stored_time_reads_back_as_the_same_instant(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'times.sqlite3'}")
    table = Table(
        "times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    table.metadata.create_all(engine)
    at = datetime(2026, 12, 4, 10, 15, 7, 120, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": 1, "at": at}])
        stored = connection.execute(text("SELECT at FROM times")).scalar_one()
        read = connection.execute(select(table.c.at)).scalar_one()
    engine.dispose()
    assert stored == "2026-12-04 09:15:07.000120"
    assert read == at and read.tzinfo is UTC
