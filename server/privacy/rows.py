"""Every stored row about a set of leads, found through the schema itself.

Tables are discovered from the metadata (foreign keys to leads, and loose lead_id
columns such as sync receipts), so a table added later is exported and erased too
without anyone remembering to list it here.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, delete, select, update

from server.extensions import db

# Tables that must outlive an erasure: they say a lead is gone, and hold no data of it.
KEPT_TABLES = frozenset({"lead_tombstones"})


def _leads_table() -> Table:
    return db.metadata.tables["leads"]


def _children(table: Table) -> Iterator[tuple[Table, Column[Any], Column[Any]]]:
    """Yield (child table, its column, the referenced column of table)."""
    for child in db.metadata.sorted_tables:
        if child.name in KEPT_TABLES:
            continue
        linked = set()
        for key in child.foreign_keys:
            if key.column.table is table:
                linked.add(key.parent.name)
                yield child, key.parent, key.column
        if table.name == "leads" and "lead_id" in child.c and "lead_id" not in linked:
            # A lead id kept without a foreign key (sync receipts outlive nothing else).
            yield child, child.c.lead_id, table.c.id


def json_safe(value: Any) -> Any:
    """Return value in a form JSON can carry."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def collect(lead_ids: list[uuid.UUID]) -> dict[str, list[dict[str, Any]]]:
    """Return every row of every table about lead_ids, keyed by table name."""
    found: dict[str, list[dict[str, Any]]] = {}
    leads = _leads_table()

    def walk(table: Table, condition: ColumnElement[bool], depth: int) -> None:
        rows = db.session.execute(select(table).where(condition)).mappings().all()
        if rows:
            found.setdefault(table.name, []).extend(
                {key: json_safe(value) for key, value in row.items()} for row in rows
            )
        if depth > 4 or not rows:
            return
        for child, column, parent in _children(table):
            if child is not table:
                walk(child, column.in_(select(parent).where(condition)), depth + 1)

    if lead_ids:
        walk(leads, leads.c.id.in_(lead_ids), 0)
    return found


def delete_all(lead_ids: list[uuid.UUID]) -> dict[str, int]:
    """Delete lead_ids and every row about them (children first); return counts per table."""
    counts: Counter[str] = Counter()
    leads = _leads_table()

    def remove(table: Table, condition: ColumnElement[bool], depth: int) -> None:
        if depth > 4:
            raise RuntimeError(f"rows about leads nest deeper than expected at {table.name}")
        for child, column, parent in _children(table):
            chosen = column.in_(select(parent).where(condition))
            if child is table:
                # Another lead pointing at this one (a merge): keep it, drop the pointer.
                db.session.execute(update(child).where(chosen).values({column.name: None}))
            else:
                remove(child, chosen, depth + 1)
        result = db.session.execute(delete(table).where(condition))
        if result.rowcount:
            counts[table.name] += result.rowcount

    if lead_ids:
        remove(leads, leads.c.id.in_(lead_ids), 0)
    db.session.expire_all()
    return dict(counts)
