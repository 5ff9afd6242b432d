"""One server-wide counter that orders every change tablets pull.

Each writing transaction bumps the single counter row with UPDATE ... RETURNING.
The row lock it takes is held until commit, so on PostgreSQL a transaction that
got version N commits before any transaction can get N+1: a reader following
the versions never skips a row that commits late.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, update
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db

SERVER_VERSION = "server_version"


class Counter(db.Model):
    """A named monotonically increasing counter."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def next_server_version() -> int:
    """Take the next server version inside the current transaction."""
    statement = (
        update(Counter)
        .where(Counter.name == SERVER_VERSION)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    return db.session.execute(statement).scalar_one()
