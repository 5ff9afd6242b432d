"""Flask extensions, created unbound here and bound in the application factory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, registry
from werkzeug.exceptions import HTTPException

from server.db_types import UTCDateTime

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: every datetime column is an aware UTC timestamp."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class LeadbridgeApi(Api):
    """flask-smorest's Api whose errors always carry a human-readable message."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description)
        return payload, code, headers


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = LeadbridgeApi()
