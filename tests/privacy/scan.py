"""Find values anywhere in the database: every text-like column of every table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.extensions import db


def text_columns() -> list[tuple[sa.Table, sa.Column[Any]]]:
    """Return every column that can hold text: strings, text, JSON and UUIDs."""
    kinds = (sa.String, sa.Text, sa.JSON, sa.Uuid)
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, kinds)
    ]


def find_values(values: list[str]) -> list[tuple[str, str, str]]:
    """Return (table, column, value) for each value found in any text column, any case."""
    hits = []
    for table, column in text_columns():
        as_text = sa.func.lower(sa.cast(column, sa.Text))
        for value in values:
            found = db.session.execute(
                sa.select(sa.func.count()).select_from(table).where(as_text.contains(value.lower()))
            ).scalar_one()
            if found:
                hits.append((table.name, column.name, value))
    return hits
