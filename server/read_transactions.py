"""End a request's transaction that wrote nothing with COMMIT instead of ROLLBACK.

psycopg forgets every statement it prepared on a connection when that connection rolls
back (a rolled-back transaction may have dropped what they refer to). Requests that only
read ended in ROLLBACK, so on connections shared by reads and writes no statement stayed
prepared long enough to be reused, and PostgreSQL parsed and planned each one afresh. For a
transaction that wrote nothing, COMMIT and ROLLBACK have the same effect: locks taken by
SELECT ... FOR UPDATE or advisory locks are released either way.

A transaction counts as having written once any statement other than a SELECT ran in it;
such a transaction left uncommitted by its request is still rolled back, as before. Changes
the session holds but never sent are not sent: the commit is the database connection's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from server.extensions import db

_WROTE = "leadbridge_wrote"


@event.listens_for(Engine, "begin")
def _transaction_begins(connection: Connection) -> None:
    connection.info[_WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
    if not statement.startswith("SELECT"):
        connection.info[_WROTE] = True


def _end_read_only_transaction(error: BaseException | None) -> None:
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction():
        return
    connection = session.connection()
    if not connection.info.get(_WROTE, True):
        # On the database connection itself, past the session: nothing is flushed and no
        # commit hook runs (a version reserved by a refused change must not be stamped).
        # Closing the session afterwards finds no transaction to roll back.
        connection.connection.dbapi_connection.commit()


def init_read_transactions(app: Flask) -> None:
    """Commit read-only transactions at the end of each request (before the session closes)."""
    # Flask runs app-context teardowns newest first, so this runs before Flask-SQLAlchemy's.
    app.teardown_appcontext(_end_read_only_transaction)
