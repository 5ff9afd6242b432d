"""The export's columns and rows: each lead with its marketing context and sales outcome.

Rows come from one joined query read in batches (``yield_per``, a server-side cursor on
PostgreSQL), so memory stays flat however many leads an event has. Times are shown in the
event's time zone, named in the column headers.

For the CSV on PostgreSQL the database writes the cells it can as text (``as_text``): the
lead id, times as wall time in the event's zone, yes/no, the deal value. Converting those
per cell in Python cost more than the rest of the row. SQLite has no time zones, and the
XLSX wants real datetimes, so both keep the Python conversions (which give the same text).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import Engine, Select, String, Text, case, cast, func, type_coerce
from sqlalchemy.orm import aliased

from server.auth.principal import Principal
from server.devices.models import Device
from server.events.models import Event
from server.extensions import db
from server.leads.access import visible_leads
from server.leads.models import Lead
from server.privacy.models import ConsentRecord
from server.stats.scope import counted_conditions
from server.users.models import User

BATCH = 1000
LIST_SEPARATOR = "; "

Cell = str | int | Decimal | datetime | bool | None

_captured_by = aliased(User, name="captured_by")
_owner = aliased(User, name="owner")

# (header, column) of the lead's own fields, in export order; answers and products follow.
_CONTACT = (
    ("First name", Lead.first_name),
    ("Last name", Lead.last_name),
    ("Email", Lead.email),
    ("Phone", Lead.phone),
    ("Company", Lead.company),
    ("Job title", Lead.job_title),
    ("Country", Lead.country),
    ("Region", Lead.region),
)
_TIMES = (
    ("Received at", Lead.received_at),
    ("Alerted at", Lead.alerted_at),
    ("Acknowledged at", Lead.acknowledged_at),
    ("First contact at", Lead.first_contact_at),
)


def _raw(column: Any) -> Any:
    """Read a column as the driver returns it, skipping SQLAlchemy's per-value conversion.

    An export reads every row, and parsing six timestamps, four enums and a UUID per row
    through their column types costs more than the rest of the row together; _instant and
    _uuid_text below do the little that is needed.
    """
    return type_coerce(column, String)


def _json_text(column: Any) -> Any:
    """Read a JSON column as its text: the drivers' own JSON loading costs more per row."""
    return cast(column, Text)


# JSON cells (answers, products, reasons, purposes): msgspec parses them several times faster.
loads = msgspec.json.decode


def _wall_text(column: Any, zone: str) -> Any:
    """Return a timestamp as PostgreSQL writes it in zone: 'YYYY-MM-DD HH:MM:SS', wall time."""
    return func.to_char(func.timezone(zone, column), "YYYY-MM-DD HH24:MI:SS")


def _yes_no(column: Any) -> Any:
    # As csv_cell writes a bool; NULL stays empty.
    return case((column.is_(True), "yes"), (column.is_(False), "no"))


def _instant(value: str | datetime | None) -> datetime | None:
    """Return a raw timestamp as an aware UTC datetime (SQLite hands back naive UTC text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value + "+00:00")


def _uuid_text(value: Any) -> str:
    # SQLite stores UUIDs as 32 hex digits; PostgreSQL's driver hands back uuid.UUID.
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _query(event: Event, principal: Principal, as_text: bool = False) -> Select[Any]:
    """Return the counted leads of event that principal may read, with their people and tablet.

    as_text (PostgreSQL only): the id, times, yes/no cells and deal value come as CSV text.
    """
    if as_text:
        zone = event.timezone
        lead_id, deal_value = cast(Lead.id, Text), cast(Lead.deal_value, Text)
        follow_up, consent_given = _yes_no(Lead.follow_up), _yes_no(Lead.consent_given)

        def when(column: Any) -> Any:
            return _wall_text(column, zone)
    else:
        lead_id, deal_value = _raw(Lead.id), Lead.deal_value
        follow_up, consent_given = Lead.follow_up, Lead.consent_given
        when = _raw
    columns = (
        lead_id,
        _captured_by.name,
        when(Lead.captured_at),
        Device.name,
        _raw(Lead.source),
        *(column for _header, column in _CONTACT),
        _json_text(Lead.answers),
        _json_text(Lead.products),
        Lead.score_points,
        _raw(Lead.score_band),
        _json_text(Lead.score_reasons),
        _raw(Lead.rating),
        Lead.notes,
        follow_up,
        consent_given,
        Lead.consent_version,
        when(Lead.consent_at),
        ConsentRecord.language,
        _json_text(ConsentRecord.purposes),
        _owner.name,
        _raw(Lead.status),
        Lead.status_reason,
        deal_value,
        *(when(column) for _header, column in _TIMES),
    )
    return (
        visible_leads(principal)
        .with_only_columns(*columns)
        .select_from(Lead)
        .join(_captured_by, _captured_by.id == Lead.captured_by_id)
        .join(Device, Device.id == Lead.device_id)
        .outerjoin(_owner, _owner.id == Lead.owner_id)
        .outerjoin(ConsentRecord, ConsentRecord.lead_id == Lead.id)
        .where(Lead.event_id == event.id, *counted_conditions())
        .order_by(Lead.captured_at, Lead.id)
        .execution_options(yield_per=BATCH)
    )


def headers(event: Event) -> list[str]:
    """Return the column headers of event's export."""
    zone = f"({event.timezone})"
    return [
        "Lead id",
        "Event",
        "Booth",
        "Campaign",
        "Captured by",
        f"Captured at {zone}",
        "Tablet",
        "Source",
        *(header for header, _column in _CONTACT),
        *(f"Q: {question['label']}" for question in event.questions),
        "Products",
        "Score",
        "Score band",
        "Score reasons",
        "Booth rating",
        "Notes",
        "Follow up",
        "Consent given",
        "Consent version",
        f"Consent at {zone}",
        "Consent language",
        "Consent purposes",
        "Owner",
        "Status",
        "Outcome reason",
        "Deal value",
        *(f"{header} {zone}" for header, _column in _TIMES),
    ]


def plain_answer(question: dict[str, Any], value: Any) -> str | None:
    """Write an answer in plain words: yes/no, options joined, numbers without a stray .0."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class _Layout:
    """What turning a row into cells needs of the event, copied out of the request's session."""

    zone: ZoneInfo
    questions: list[dict[str, Any]]
    products: dict[str, str]
    context: list[Cell]

    as_text: bool = False  # the query wrote times as wall-time text already

    def local(self, value: str | datetime | None) -> str | datetime | None:
        """Return the time in the event's zone (the header names the zone)."""
        if self.as_text:
            return value
        instant = _instant(value)
        return None if instant is None else instant.astimezone(self.zone)

    def cells(self, row: Any) -> list[Cell]:
        (lead_id, captured_by, captured_at, tablet, source, *rest) = row
        contact, rest = rest[: len(_CONTACT)], rest[len(_CONTACT) :]
        (answers, chosen, points, band, reasons, rating, notes, follow_up, consent, version,
         consent_at, language, purposes, owner, status, reason, value, *times) = rest  # fmt: skip
        answers = loads(answers) if answers else {}
        chosen = loads(chosen) if chosen else None
        reasons = loads(reasons) if reasons else None
        return [
            lead_id if self.as_text else _uuid_text(lead_id),
            *self.context,
            captured_by,
            self.local(captured_at),
            tablet,
            source,
            *contact,
            *(plain_answer(q, answers.get(q["id"])) for q in self.questions),
            LIST_SEPARATOR.join([self.products.get(item, item) for item in chosen])
            if chosen
            else None,
            points,
            band,
            LIST_SEPARATOR.join([_reason(r) for r in reasons]) if reasons else None,
            rating,
            notes,
            follow_up,
            consent,
            version,
            self.local(consent_at),
            language,
            LIST_SEPARATOR.join(loads(purposes)) if purposes else None,
            owner,
            status,
            reason,
            value,
            *[self.local(time) for time in times],
        ]


def _reason(reason: dict[str, Any]) -> str:
    return f"{reason.get('reason') or 'rule'} ({int(reason.get('points', 0)):+d})"


def rows(event: Event, principal: Principal, *, text: bool = False) -> Iterator[list[Cell]]:
    """Return an iterator of one list of cells per lead, in headers() order.

    text: the rows are for CSV, so on PostgreSQL the database may write cells as text.
    The query and what the rows need of the event are taken now, from the request's objects;
    the rows are read only when iterated, on a connection of their own: a WSGI server reads
    the body after the request's context (and its session) is gone.
    """
    as_text = text and db.engine.dialect.name == "postgresql"
    layout = _Layout(
        ZoneInfo(event.timezone),
        [dict(question) for question in event.questions],
        {product["id"]: product["name"] for product in event.products},
        [event.name, event.booth, event.campaign_code],
        as_text,
    )
    return _read(db.engine, _query(event, principal, as_text), layout)


def _read(engine: Engine, query: Select[Any], layout: _Layout) -> Iterator[list[Cell]]:
    # yield_per (set on the query) fetches in batches: a server-side cursor on PostgreSQL.
    with engine.connect() as connection:
        for row in connection.execute(query):
            yield layout.cells(row)
