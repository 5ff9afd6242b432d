"""CSV of an event's leads, produced in chunks while the rows are read (SQLite).

Text cells are defused (server/exports/formulas.py); on PostgreSQL the database writes the
same CSV itself (server/exports/copy_csv.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from server.exports.formulas import defuse
from server.exports.rows import NO, YES, Cell

__all__ = ["CHUNK_ROWS", "csv_cell", "csv_chunks", "csv_header", "defuse"]
# Rows per chunk handed to the server: big enough to keep overhead low, small enough to stream.
CHUNK_ROWS = 500
LINE_END = "\r\n"
_CONVERTED = (datetime, bool)


def csv_cell(value: Cell) -> str | Cell:
    """Return a cell as the csv module should write it (None, numbers and text as they are)."""
    kind = type(value)
    if kind is str:
        return defuse(value)  # type: ignore[arg-type]
    if kind is datetime:
        # Wall time in the event's zone, which the header names; spreadsheets have no zones.
        return value.isoformat(" ", "seconds")[:19]  # type: ignore[union-attr]
    if kind is bool:
        return YES if value else NO
    return value


def csv_row(row: list[Cell]) -> list[Cell]:
    """Return a row ready for csv.writer (this runs per cell)."""
    return [
        defuse(value) if type(value) is str else
        value if value is None or type(value) not in _CONVERTED else csv_cell(value)
        for value in row
    ]  # fmt: skip


def csv_header(header: list[str]) -> str:
    """Return the file's start: a BOM (so Excel reads UTF-8) and the header line."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator=LINE_END).writerow([defuse(name) for name in header])
    return buffer.getvalue()


def csv_chunks(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    """Yield the CSV text, header first, a chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    buffer.write(csv_header(header))
    batch: list[list[Cell]] = []
    for row in rows:
        batch.append(csv_row(row))
        if len(batch) == CHUNK_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()
