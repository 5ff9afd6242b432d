"""The CSV export on PostgreSQL: the database writes every line, Python only passes it on.

rows.csv_query() has PostgreSQL write each cell as the Python path would (the same column
definitions, the same defusing rule), and ``COPY (query) TO STDOUT WITH (FORMAT csv)`` quotes
them as Python's csv module does (only cells holding a comma, quote, CR or LF; NULL empty,
and no empty strings are left to quote). COPY ends each line with LF, the export with CRLF:
PostgreSQL sends every line as one CopyData message, so each message's last byte is the
line's end, and is swapped for CRLF while the lines are joined into chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, Select

from server.exports.csv_export import CHUNK_ROWS, LINE_END

_CRLF = LINE_END.encode()


def copy_statement(engine: Engine, query: Select[Any]) -> tuple[str, dict[str, Any]]:
    """Return the COPY statement of query and its parameters, for psycopg's cursor.copy()."""
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    return f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params


def copy_lines(engine: Engine, query: Select[Any]) -> Iterator[bytes]:
    """Yield the CSV lines of query (UTF-8, CRLF line ends) in chunks of CHUNK_ROWS lines."""
    statement, params = copy_statement(engine, query)
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(statement, params) as copy:
            lines: list[Any] = []
            for line in copy:
                lines.append(line[:-1])  # the line without its LF
                if len(lines) == CHUNK_ROWS:
                    lines.append(b"")
                    yield _CRLF.join(lines)
                    lines.clear()
            if lines:
                lines.append(b"")
                yield _CRLF.join(lines)
