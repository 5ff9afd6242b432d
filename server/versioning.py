"""One server-wide counter that orders every change tablets pull.

A reader follows the versions (``server_version > cursor``), so a row must never
become visible with a version lower than one a reader has already passed. The
counter row guarantees that: its lock, taken by UPDATE ... RETURNING, is held until
commit, so the transaction that got version N commits before any can get N+1.

Holding that lock for a whole request would serialise every writer on the server
(a push's scoring, routing, inserts, all waiting in line). So a transaction takes
*provisional* versions while it works: numbers above PROVISIONAL_BASE, in the order
asked for, which nobody else ever sees (its rows are uncommitted). Just before commit
(``stamp_versions``, run by a ``before_commit`` hook), it flushes, takes a block of
real versions from the counter and shifts every provisional version it wrote to the
real block. The counter's lock then covers a few index-range UPDATEs and the commit.

Lock order, to keep writers free of deadlocks: a pushing tablet's device row, then the
people a push may merge (server/leads/merging.py), then the rows being changed, and the
counter last: every row lock is taken by the flush before the counter is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, String, Table, bindparam, event, inspect, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from server.extensions import db

SERVER_VERSION = "server_version"
# Far above any real version, below the BIGINT ceiling: provisional versions still sort
# after every real one, so "changed after the version the tablet saw" holds within a
# transaction too.
PROVISIONAL_BASE = 1 << 62
_TAKEN = "leadbridge.provisional_versions"


class Counter(db.Model):
    """A named monotonically increasing counter."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def reserve_server_versions(count: int) -> int:
    """Reserve count consecutive provisional versions in this transaction; return the first.

    They become real versions at commit, in the same order (stamp_versions).
    """
    info = db.session().info
    taken = info.get(_TAKEN, 0)
    info[_TAKEN] = taken + count
    return PROVISIONAL_BASE + taken + 1


def next_server_version() -> int:
    """Take the next (provisional) server version inside the current transaction."""
    return reserve_server_versions(1)


def claim_versions(count: int) -> int:
    """Return the first of count versions for rows this transaction writes now, in order.

    SQLite lets one transaction write at a time, holding the write lock from its first
    write to its commit, so real versions taken here still become visible in order; they
    spare rewriting every row at commit, which big imports feel. Elsewhere they are
    provisional (reserve_server_versions).
    """
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return reserve_server_versions(count)
    return session.execute(_take_block(count)).scalar_one() - count + 1


def is_provisional(version: int | None) -> bool:
    """Tell whether version is a provisional one of an uncommitted transaction."""
    return version is not None and version > PROVISIONAL_BASE


# Built once: every empty pull reads it.
_CURRENT_VERSION = select(Counter.value).where(Counter.name == SERVER_VERSION)


def current_server_version() -> int:
    """Return the newest server version handed out (committed or not)."""
    return db.session.execute(_CURRENT_VERSION).scalar_one()


def _versioned_tables() -> Iterable[Table]:
    """Return every table with a server_version column."""
    return [table for table in db.metadata.sorted_tables if SERVER_VERSION in table.c]


def _shift_field_versions(field_versions: dict[str, Any], shift: int) -> dict[str, Any] | None:
    """Return field_versions with provisional versions made real, or None if it has none."""
    if not any(is_provisional(entry[0]) for entry in field_versions.values()):
        return None
    return {
        field: [entry[0] + shift if is_provisional(entry[0]) else entry[0], *entry[1:]]
        for field, entry in field_versions.items()
    }


def _shift(last: int, taken: int) -> int:
    """Return what turns the first provisional version into the first of the real block."""
    return (last - taken + 1) - (PROVISIONAL_BASE + 1)


def _take_block(taken: int) -> Any:
    return (
        update(Counter)
        .where(Counter.name == SERVER_VERSION)
        .values(value=Counter.value + taken)
        .returning(Counter.value)
    )


def _shift_rows(table: Table) -> Any:
    """Build the UPDATE that moves one table's provisional versions by :shift."""
    # An index range holding only this transaction's rows: other transactions'
    # provisional rows are uncommitted, so invisible to this UPDATE. (Text, not Core:
    # Core would also bump the table's updated_at.)
    return text(
        f"UPDATE {table.name} SET {SERVER_VERSION} = {SERVER_VERSION} + :shift"
        f" WHERE {SERVER_VERSION} > {PROVISIONAL_BASE}"
    ).bindparams(bindparam("shift", type_=BigInteger))


@functools.cache
def _stamp_statement() -> Any:
    """Build PostgreSQL's one statement that takes the block and shifts every table's rows.

    One round trip while the counter is locked: the lock is held from here to the commit,
    and every round trip a busy web worker makes in between lengthens everyone's wait.
    """
    shift = f"(block.value - :taken + 1) - {PROVISIONAL_BASE + 1}"
    from_block = f"(SELECT {shift} FROM block)"
    shifts = [
        f"shift_{table.name} AS ({_shift_rows(table).text.replace(':shift', from_block)})"
        for table in _versioned_tables()
    ]
    return text(
        f"WITH block AS (UPDATE counters SET value = value + :taken"
        f" WHERE name = '{SERVER_VERSION}' RETURNING value), "
        + ", ".join(shifts)
        + f" SELECT {shift} FROM block"
    ).bindparams(bindparam("taken", type_=BigInteger))


def _stamp_step_by_step(session: Session, taken: int) -> int:
    """Take the block and shift the rows statement by statement (SQLite: one writer anyway)."""
    shift = _shift(session.execute(_take_block(taken)).scalar_one(), taken)
    for table in _versioned_tables():
        session.execute(_shift_rows(table), {"shift": shift})
    return shift


def stamp_versions(session: Session | None = None) -> int:
    """Give this transaction's provisional versions their real numbers; return the shift.

    real = provisional + shift. Call it just before commit (the before_commit hook does,
    when nobody has); it takes the counter's lock, which the commit releases.
    """
    session = session or db.session()
    taken = session.info.get(_TAKEN, 0)
    if not taken:
        return 0
    # Every row this transaction changes is locked by now, so nothing waits for a row
    # lock while holding the counter.
    session.flush()
    session.info[_TAKEN] = 0
    if session.get_bind().dialect.name == "postgresql":
        shift = session.execute(_stamp_statement(), {"taken": taken}).scalar_one()
    else:
        shift = _stamp_step_by_step(session, taken)
    for instance in list(session.identity_map.values()):
        loaded = inspect(instance).dict
        if is_provisional(loaded.get(SERVER_VERSION)):
            set_committed_value(instance, SERVER_VERSION, loaded[SERVER_VERSION] + shift)
        if loaded.get("field_versions"):
            shifted = _shift_field_versions(loaded["field_versions"], shift)
            if shifted is not None:
                instance.field_versions = shifted
    session.flush()
    return shift


@event.listens_for(Session, "before_commit")
def _stamp_before_commit(session: Session) -> None:
    # Releasing a savepoint fires this hook too; the versions are stamped by the real
    # commit only, so the counter's lock is taken last, and once.
    if not session.in_nested_transaction():
        stamp_versions(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_provisional(session: Session, transaction: Any) -> None:
    # A rolled-back transaction's provisional versions die with it.
    if transaction.parent is None:
        session.info.pop(_TAKEN, None)
