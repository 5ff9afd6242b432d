"""Encode pull pages straight from Core rows, in the shape PullResultSchema describes.

Every pull sends up to 1,000 leads. Loading each as an ORM object and dumping it through
marshmallow cost more CPU than the query; here a lead is one Core row, its JSON columns
arrive as the text the database holds (embedded as they are, never parsed and encoded
again), and the page is encoded by msgspec. PullResultSchema stays the document's one
description (OpenAPI); tests/test_sync_pages.py checks this encoding against its dump.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import String, Text, bindparam, cast, select
from sqlalchemy.engine import Row
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
# Columns dumped as they come (ints, strings, enums by value, UUIDs, booleans).
_PLAIN = (
    "id",
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
    "follow_up",
    "event_id",
    "device_id",
    "status",
    "status_reason",
    "owner_id",
    "merged_into_id",
    "server_version",
)
_JSON = ("answers", "products")
_PLAIN_AND_TIMES = (*_PLAIN, *_TIMES)


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


def _iso_text(column: Any) -> Any:
    return _IsoText(column).label(column.name)


def _json_text(column: Any) -> Any:
    # The stored JSON as text: SQLite holds text already; PostgreSQL writes jsonb out.
    return cast(column, Text).label(column.name)


# Run by every pull: built once (docs/performance.md, rules for hot paths).
LEADS_AFTER = (
    select(
        *(_LEADS[name] for name in _PLAIN),
        *(_iso_text(_LEADS[name]) for name in _TIMES),
        *(_json_text(_LEADS[name]) for name in _JSON),
        _LEADS.deal_value,
        _LEADS.consent_given,
        _LEADS.consent_version,
        _iso_text(_LEADS.consent_at),
        _LEADS.consent_by_id,
        _LEADS.score_points,
        _LEADS.score_band,
        _LEADS.rubric_version,
        _json_text(_LEADS.score_reasons),
        _OWNER.c.name.label("owner_name"),
        _OWNER.c.role.label("owner_role"),
        _CONSENT.language.label("consent_language"),
        _json_text(_CONSENT.purposes).label("consent_purposes"),
    )
    .select_from(Lead.__table__)
    .outerjoin(_OWNER, _OWNER.c.id == _LEADS.owner_id)
    .outerjoin(ConsentRecord.__table__, _CONSENT.lead_id == _LEADS.id)
    .where(_LEADS.device_id == bindparam("device_id"), _LEADS.server_version > bindparam("cursor"))
    .order_by(_LEADS.server_version)
    .limit(bindparam("limit"))
)

_EMPTY_LIST = msgspec.Raw(b"[]")


def _raw(text: str | None) -> msgspec.Raw | None:
    return None if text is None else msgspec.Raw(text.encode())


def _time(value: datetime) -> str:
    return value.isoformat()


def _money(value: Decimal | float | None) -> str | None:
    # As Money (a two-place Decimal sent as a string) dumps it.
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.01")))


def lead_data(row: Row[Any]) -> dict[str, Any]:
    """Return a lead row of LEADS_AFTER as LeadSchema dumps the lead (with consent details)."""
    # By position, in LEADS_AFTER's order: a page is up to 1,000 rows.
    data: dict[str, Any] = dict(zip(_PLAIN_AND_TIMES, row, strict=False))
    (
        answers,
        products,
        deal_value,
        consent_given,
        consent_version,
        consent_at,
        consent_by_id,
        score_points,
        score_band,
        rubric_version,
        score_reasons,
        owner_name,
        owner_role,
        consent_language,
        consent_purposes,
    ) = row[len(_PLAIN_AND_TIMES) :]
    data["answers"] = _raw(answers)
    data["products"] = _raw(products)
    data["deal_value"] = _money(deal_value)
    owner_id = data["owner_id"]
    data["owner"] = (
        None if owner_id is None else {"id": owner_id, "name": owner_name, "role": owner_role}
    )
    consent = {
        "given": consent_given,
        "version": consent_version,
        "at": consent_at,
        "by_id": consent_by_id,
    }
    # What the visitor agreed to (a consent record), so a tablet that pulls the lead keeps
    # it; purposes is never NULL in a record, so None means there is none.
    if consent_purposes is not None and consent_purposes != "null":
        consent["language"] = consent_language
        consent["purposes"] = msgspec.Raw(consent_purposes.encode())
    data["consent"] = consent
    data["score"] = {
        "points": score_points,
        "band": score_band,
        "reasons": _EMPTY_LIST
        if score_reasons is None or score_reasons == "null"
        else _raw(score_reasons),
        "rubric_version": rubric_version,
    }
    return data


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
