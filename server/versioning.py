"""One server-wide counter that orders every change tablets pull.

Each writing transaction bumps the single counter row with UPDATE ... RETURNING.
The row lock it takes is held until commit, so on PostgreSQL a transaction that
got version N commits before any transaction can get N+1: a reader following
the versions never skips a row that commits late.

Lock order, to keep writers free of deadlocks: a pushing tablet's device row,
then this counter, then the rows being changed. So take versions *before*
changing rows (and before any query that would autoflush pending changes).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db

SERVER_VERSION = "server_version"


class Counter(db.Model):
    """A named monotonically increasing counter."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def reserve_server_versions(count: int) -> int:
    """Reserve count consecutive server versions in this transaction; return the first."""
    statement = (
        update(Counter)
        .where(Counter.name == SERVER_VERSION)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    with db.session.no_autoflush:
        last = db.session.execute(statement).scalar_one()
    return last - count + 1


def next_server_version() -> int:
    """Take the next server version inside the current transaction."""
    return reserve_server_versions(1)


def current_server_version() -> int:
    """Return the newest server version handed out (committed or not)."""
    query = select(Counter.value).where(Counter.name == SERVER_VERSION)
    return db.session.execute(query).scalar_one()
