"""User accounts and their roles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db_types import JSONType, str_enum, utcnow
from server.extensions import db


class Role(enum.StrEnum):
    """What a user may do; see README "Roles"."""

    ADMIN = "admin"
    MARKETER = "marketer"
    REP = "rep"
    STAFF = "staff"


class User(db.Model):
    """A person who logs in: admin, marketer, sales rep or booth staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    territory: Mapped[list[str]] = mapped_column(JSONType, default=list)
    products: Mapped[list[str]] = mapped_column(JSONType, default=list)
    daily_capacity: Mapped[int | None]
    # How this person wants alerts: {"email": true, "webhook_url": ..., "chat_webhook_url": ...}
    alerts: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
