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

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, String, Table, event, inspect, select, update
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


def is_provisional(version: int | None) -> bool:
    """Tell whether version is a provisional one of an uncommitted transaction."""
    return version is not None and version > PROVISIONAL_BASE


def current_server_version() -> int:
    """Return the newest server version handed out (committed or not)."""
    query = select(Counter.value).where(Counter.name == SERVER_VERSION)
    return db.session.execute(query).scalar_one()


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
    last = session.execute(
        update(Counter)
        .where(Counter.name == SERVER_VERSION)
        .values(value=Counter.value + taken)
        .returning(Counter.value)
    ).scalar_one()
    shift = (last - taken + 1) - (PROVISIONAL_BASE + 1)
    for table in _versioned_tables():
        # An index range holding only this transaction's rows: other transactions'
        # provisional rows are uncommitted, so invisible to this UPDATE.
        column = table.c[SERVER_VERSION]
        session.execute(
            update(table).where(column > PROVISIONAL_BASE).values({column: column + shift})
        )
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
    stamp_versions(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_provisional(session: Session, transaction: Any) -> None:
    # A rolled-back transaction's provisional versions die with it.
    if transaction.parent is None:
        session.info.pop(_TAKEN, None)
