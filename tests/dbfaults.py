"""Make the test database itself refuse chosen leads: a real failure inside the database layer.

A CHECK constraint on PostgreSQL, a trigger on SQLite: the refusal comes from the
database, through the driver and SQLAlchemy, exactly as a real constraint's would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from server.extensions import db

# A lead whose notes hold this word is refused by the database, on insert and update.
POISON = "poison"


@contextmanager
def notes_refused_by_the_database(app: Flask) -> Iterator[None]:
    """Refuse, in the database, any lead row whose notes hold POISON, until the block ends."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text(
                    "ALTER TABLE leads ADD CONSTRAINT ck_leads_test_poison"
                    f" CHECK (notes IS NULL OR strpos(notes, '{POISON}') = 0) NOT VALID"
                )
            )
        else:
            for when in ("INSERT", "UPDATE"):
                connection.execute(
                    sa.text(
                        f"CREATE TRIGGER test_poison_{when.lower()} BEFORE {when} ON leads"
                        f" WHEN instr(NEW.notes, '{POISON}') > 0"
                        " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                    )
                )
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("ALTER TABLE leads DROP CONSTRAINT ck_leads_test_poison")
                )
            else:
                for when in ("insert", "update"):
                    connection.execute(sa.text(f"DROP TRIGGER test_poison_{when}"))
