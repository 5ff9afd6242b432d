"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Enum, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# SQLite only auto-increments INTEGER PRIMARY KEY, so big keys fall back to it there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and always hand back aware UTC datetimes.

    SQLite has no time zone support, so values go in as naive UTC there; a
    naive datetime from Python code is a bug and is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @staticmethod
    def _utc(value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = self._utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """Return the bind processor; on SQLite one step that writes SQLAlchemy's text.

        A push binds some 17 times a lead: the generic chain (this decorator's method,
        then SQLite DATETIME's %-formatting) cost a twentieth of a push's CPU there.
        isoformat(" ", "microseconds") writes the same text as SQLite DATETIME's
        storage format; tests/test_db_types.py checks the two agree.
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        utc = self._utc

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type, name: str) -> Enum:
    """Store a StrEnum as its value in a VARCHAR guarded by a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=24,
        values_callable=lambda members: [member.value for member in members],
    )
