"""CSV of an event's leads, produced in chunks while the rows are read.

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so such text gets a leading apostrophe: a visitor who types ``=HYPERLINK(...)`` into
a badge field cannot make a marketer's spreadsheet act on it (OWASP "CSV injection").
A ``+`` followed only by digits and spaces is a phone number (E.164), not a formula, and is
left exactly as it is, so a CRM importing the file reads the number back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from server.exports.rows import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FIRST_CHARS = frozenset("".join(FORMULA_STARTS))
# ASCII digits only: a spreadsheet reads "+49 30 1234" as a number, which runs nothing.
_PHONE_NUMBER = re.compile(r"\+[0-9 ]*[0-9][0-9 ]*").fullmatch
# Rows per chunk handed to the server: big enough to keep overhead low, small enough to stream.
CHUNK_ROWS = 500
_CONVERTED = (datetime, bool)


def defuse(text: str) -> str:
    """Return text that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in _FIRST_CHARS and not _PHONE_NUMBER(text) else text


def csv_cell(value: Cell) -> str | Cell:
    """Return a cell as the csv module should write it (None, numbers and text as they are)."""
    kind = type(value)
    if kind is str:
        return defuse(value)  # type: ignore[arg-type]
    if kind is datetime:
        # Wall time in the event's zone, which the header names; spreadsheets have no zones.
        return value.isoformat(" ", "seconds")[:19]  # type: ignore[union-attr]
    if kind is bool:
        return "yes" if value else "no"
    return value


def csv_row(row: list[Cell]) -> list[Cell]:
    """Return a row ready for csv.writer; text cells are tested inline (this runs per cell)."""
    return [
        ("'" + value if value[:1] in _FIRST_CHARS and not _PHONE_NUMBER(value) else value)
        if type(value) is str else
        value if value is None or type(value) not in _CONVERTED else csv_cell(value)
        for value in row
    ]  # fmt: skip


def csv_chunks(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    """Yield the CSV text (with a BOM, so Excel reads UTF-8) a chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([defuse(name) for name in header])
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
