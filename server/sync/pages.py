"""Encode pull pages with each lead's JSON written by the database, in PullResultSchema's shape.

Every pull sends up to 1,000 leads. Loading each as an ORM object and dumping it through
marshmallow cost more CPU than the query, and so did building a dict per lead from its Core
row. Here the database writes each lead's whole object as JSON text (SQLite's json_object,
PostgreSQL's json_build_object): timestamps as isoformat() gives them, UUIDs with dashes,
the deal value with two places, booleans, the owner and consent objects, and the JSON
columns embedded as they are stored. Python only wraps that text in its change and msgspec
encodes the page. PullResultSchema stays the document's one description (OpenAPI);
tests/test_sync_pages.py checks this encoding against LeadSchema's dump.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import String, Text, bindparam, case, cast, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from server.leads.models import Lead
from server.privacy.models import ConsentRecord
from server.sync.schemas import change_data
from server.users.models import User

_LEADS = Lead.__table__.c
_CONSENT = ConsentRecord.__table__.c
_OWNER = User.__table__.alias("owner")

# Columns written as they are (ints, strings, enums by value): LeadSchema dumps them so.
_PLAIN = (
    "captured_by_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "country",
    "region",
    "source",
    "badge_payload",
    "rating",
    "notes",
)
_PLAIN_AFTER_FOLLOW_UP = (
    "event_id",
    "device_id",
    "status",
    "status_reason",
    "owner_id",
)
# Datetime columns of a lead, as text made by the database (_IsoText).
_TIMES = (
    "captured_at",
    "received_at",
    "updated_at",
    "assigned_at",
    "alerted_at",
    "acknowledged_at",
    "first_contact_at",
)


class _IsoText(FunctionElement[str]):
    """A UTC timestamp column as the text datetime.isoformat() gives, made by the database."""

    type = String()
    inherit_cache = True


@compiles(_IsoText, "sqlite")
def _iso_sqlite(element: _IsoText, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' (server/db_types.py); isoformat
    # leaves out a zero fraction.
    column = compiler.process(element.clauses, **kw)
    return f"replace(replace({column}, ' ', 'T'), '.000000', '') || '+00:00'"


@compiles(_IsoText, "postgresql")
def _iso_postgresql(element: _IsoText, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    utc = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return f"replace({utc}, '.000000', '') || '+00:00'"


class _UuidText(FunctionElement[str]):
    """A UUID column as str(uuid.UUID) gives it: lower-case hex with dashes."""

    type = String()
    inherit_cache = True


@compiles(_UuidText, "sqlite")
def _uuid_sqlite(element: _UuidText, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy's Uuid holds 32 lower-case hex digits on SQLite.
    column = compiler.process(element.clauses, **kw)
    parts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    return " || '-' || ".join(f"substr({column}, {at}, {size})" for at, size in parts)


@compiles(_UuidText, "postgresql")
def _uuid_postgresql(element: _UuidText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS text)"


class _MoneyText(FunctionElement[str]):
    """A Numeric(14, 2) column as Money dumps it: text with two places."""

    type = String()
    inherit_cache = True


@compiles(_MoneyText, "sqlite")
def _money_sqlite(element: _MoneyText, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds the value as a REAL (at most 14 digits, so exact to two places).
    column = compiler.process(element.clauses, **kw)
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%.2f', {column}) END"


@compiles(_MoneyText, "postgresql")
def _money_postgresql(element: _MoneyText, compiler: SQLCompiler, **kw: Any) -> str:
    # numeric(14, 2) is written with its two places.
    return f"CAST({compiler.process(element.clauses, **kw)} AS text)"


class _JsonBool(FunctionElement[bool]):
    """A boolean column as a JSON true or false (SQLite holds 0 and 1)."""

    type = String()
    inherit_cache = True


@compiles(_JsonBool, "sqlite")
def _bool_sqlite(element: _JsonBool, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN json('true') "
        "ELSE json('false') END"
    )


@compiles(_JsonBool, "postgresql")
def _bool_postgresql(element: _JsonBool, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class _Embedded(FunctionElement[str]):
    """JSON text, embedded in an object as the JSON it holds (not as a string)."""

    type = String()
    inherit_cache = True


@compiles(_Embedded, "sqlite")
def _embedded_sqlite(element: _Embedded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(_Embedded, "postgresql")
def _embedded_postgresql(element: _Embedded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS json)"


class _Object(FunctionElement[str]):
    """A JSON object of key and value arguments, written by the database."""

    type = String()
    inherit_cache = True


@compiles(_Object, "sqlite")
def _object_sqlite(element: _Object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(_Object, "postgresql")
def _object_postgresql(element: _Object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


def _object(**members: Any) -> _Object:
    # The keys are this module's constants: written into the SQL, not bound per pull.
    pairs = []
    for key, value in members.items():
        pairs += [literal_column(f"'{key}'"), value]
    return _Object(*pairs)


def _json_text(column: Any) -> Any:
    # The stored JSON as text: SQLite holds text already; PostgreSQL writes jsonb out.
    return cast(column, Text)


def _null_json(column: Any) -> Any:
    # A JSON column holding JSON null (or SQL NULL), as LeadSchema sees None.
    return or_(column.is_(None), _json_text(column) == "null")


_CONSENT_GIVEN = {
    "given": _JsonBool(_LEADS.consent_given),
    "version": _LEADS.consent_version,
    "at": _IsoText(_LEADS.consent_at),
    "by_id": _LEADS.consent_by_id,
}

_LEAD_OBJECT = _object(
    id=_UuidText(_LEADS.id),
    **{name: _LEADS[name] for name in _PLAIN},
    follow_up=_JsonBool(_LEADS.follow_up),
    **{name: _LEADS[name] for name in _PLAIN_AFTER_FOLLOW_UP},
    merged_into_id=_UuidText(_LEADS.merged_into_id),
    server_version=_LEADS.server_version,
    **{name: _IsoText(_LEADS[name]) for name in _TIMES},
    answers=_Embedded(_json_text(_LEADS.answers)),
    products=_Embedded(_json_text(_LEADS.products)),
    deal_value=_MoneyText(_LEADS.deal_value),
    owner=case(
        (
            _LEADS.owner_id.is_not(None),
            _object(id=_LEADS.owner_id, name=_OWNER.c.name, role=_OWNER.c.role),
        ),
        else_=None,
    ),
    # What the visitor agreed to (a consent record), so a tablet that pulls the lead keeps
    # it; purposes is never NULL in a record, so none there means there is no record.
    consent=case(
        (_null_json(_CONSENT.purposes), _object(**_CONSENT_GIVEN)),
        else_=_object(
            **_CONSENT_GIVEN,
            language=_CONSENT.language,
            purposes=_Embedded(_json_text(_CONSENT.purposes)),
        ),
    ),
    score=_object(
        points=_LEADS.score_points,
        band=_LEADS.score_band,
        reasons=_Embedded(
            case((_null_json(_LEADS.score_reasons), "[]"), else_=_json_text(_LEADS.score_reasons))
        ),
        rubric_version=_LEADS.rubric_version,
    ),
)

# Run by every pull: built once (docs/performance.md, rules for hot paths). Each row is a
# lead's server version and its object as JSON text (PostgreSQL's json as text, not parsed).
LEADS_AFTER = (
    select(_LEADS.server_version, cast(_LEAD_OBJECT, Text).label("data"))
    .select_from(Lead.__table__)
    .outerjoin(_OWNER, _OWNER.c.id == _LEADS.owner_id)
    .outerjoin(ConsentRecord.__table__, _CONSENT.lead_id == _LEADS.id)
    .where(_LEADS.device_id == bindparam("device_id"), _LEADS.server_version > bindparam("cursor"))
    .order_by(_LEADS.server_version)
    .limit(bindparam("limit"))
)


def lead_changes(rows: list[Any]) -> list[dict[str, Any]]:
    """Return LEADS_AFTER's rows as lead changes, each lead's JSON embedded as it came."""
    return [
        {"kind": "lead", "version": version, "data": msgspec.Raw(data)} for version, data in rows
    ]


def _time(value: datetime) -> str:
    return value.isoformat()


_ENCODER = msgspec.json.Encoder()


def encode_page(page: dict[str, Any]) -> bytes:
    """Return a pull page as the JSON PullResultSchema describes."""
    changes = [
        {"kind": change["kind"], "version": change["version"], "data": change_data(change)}
        for change in page["changes"]
    ]
    return _ENCODER.encode(
        {
            "changes": changes,
            "next_cursor": page["next_cursor"],
            "has_more": page["has_more"],
            "server_time": _time(page["server_time"]),
        }
    )
