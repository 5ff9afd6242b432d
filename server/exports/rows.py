"""The export's columns and rows: each lead with its marketing context and sales outcome.

COLUMNS is the one definition of the export: each column's kind says how its value becomes
a cell, in Python (the rows here, for the XLSX and for the CSV on SQLite) and in SQL (the
CSV on PostgreSQL, written whole by the database: server/exports/copy_csv.py). The two forms
of each kind sit side by side in _KINDS; a test checks they write the same CSV.

Rows come from one joined query read in batches (``yield_per``, a server-side cursor on
PostgreSQL), so memory stays flat however many leads an event has. Times are shown in the
event's time zone, named in the column headers.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import (
    Boolean,
    Engine,
    Numeric,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from server.auth.principal import Principal
from server.devices.models import Device
from server.events.models import Event
from server.exports.formulas import defused_sql
from server.extensions import db
from server.leads.access import visible_leads
from server.leads.models import Lead
from server.privacy.models import ConsentRecord
from server.stats.scope import counted_conditions
from server.users.models import User

BATCH = 1000
LIST_SEPARATOR = "; "
YES, NO = "yes", "no"

Cell = str | int | Decimal | datetime | bool | None

_captured_by = aliased(User, name="captured_by")
_owner = aliased(User, name="owner")


class Kind(enum.Enum):
    """How a column's value becomes a cell (text cells are defused in the CSV)."""

    ID = "id"  # a UUID, as text
    CONTEXT = "context"  # the event's name, booth and campaign (no column of the lead)
    TEXT = "text"
    TIME = "time"  # wall time in the event's zone
    YES_NO = "yes_no"
    NUMBER = "number"
    ANSWERS = "answers"  # one cell per question of the event
    PRODUCTS = "products"  # product ids, shown by name
    REASONS = "reasons"  # the score's reasons with their points
    WORDS = "words"  # a JSON list of text, joined


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

# The export's columns in order: (kind, column); CONTEXT and ANSWERS stand for several cells.
COLUMNS: tuple[tuple[Kind, Any], ...] = (
    (Kind.ID, Lead.id),
    (Kind.CONTEXT, None),
    (Kind.TEXT, _captured_by.name),
    (Kind.TIME, Lead.captured_at),
    (Kind.TEXT, Device.name),
    (Kind.TEXT, Lead.source),
    *((Kind.TEXT, column) for _header, column in _CONTACT),
    (Kind.ANSWERS, Lead.answers),
    (Kind.PRODUCTS, Lead.products),
    (Kind.NUMBER, Lead.score_points),
    (Kind.TEXT, Lead.score_band),
    (Kind.REASONS, Lead.score_reasons),
    (Kind.TEXT, Lead.rating),
    (Kind.TEXT, Lead.notes),
    (Kind.YES_NO, Lead.follow_up),
    (Kind.YES_NO, Lead.consent_given),
    (Kind.NUMBER, Lead.consent_version),
    (Kind.TIME, Lead.consent_at),
    (Kind.TEXT, ConsentRecord.language),
    (Kind.WORDS, ConsentRecord.purposes),
    (Kind.TEXT, _owner.name),
    (Kind.TEXT, Lead.status),
    (Kind.TEXT, Lead.status_reason),
    (Kind.NUMBER, Lead.deal_value),
    *((Kind.TIME, column) for _header, column in _TIMES),
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


@dataclass(frozen=True)
class _Layout:
    """What turning a row into cells needs of the event, copied out of the request's session."""

    zone: ZoneInfo
    questions: list[dict[str, Any]]
    products: dict[str, str]
    context: list[Cell]


def _layout(event: Event) -> _Layout:
    return _Layout(
        ZoneInfo(event.timezone),
        [dict(question) for question in event.questions],
        {product["id"]: product["name"] for product in event.products},
        [event.name, event.booth, event.campaign_code],
    )


# --- Python: raw values to cells -----------------------------------------------------------

# JSON cells: msgspec parses them several times faster than the drivers' JSON loading.
loads = msgspec.json.decode
# An answer's number is written as the JSON holds it, exactly: read its fraction as a Decimal.
_answer_loads = msgspec.json.Decoder(float_hook=Decimal).decode


def _number_words(number: int | Decimal) -> str:
    """Write a number in plain digits, without an exponent or trailing zeros (-0 is 0)."""
    if type(number) is int or not number:
        return str(int(number))
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scalar_words(value: Any) -> str:
    if value is True or value is False:
        return YES if value else NO
    if isinstance(value, int | Decimal):
        return _number_words(value)
    return str(value)


def plain_answer(question: dict[str, Any], value: Any) -> str | None:
    """Write an answer in plain words: yes/no, options joined, numbers as plain digits."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return LIST_SEPARATOR.join([_scalar_words(item) for item in value])
    return _scalar_words(value)


def _reason(reason: dict[str, Any]) -> str:
    return f"{reason.get('reason') or 'rule'} ({int(reason.get('points', 0)):+d})"


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


def _py_time(value: Any, layout: _Layout) -> list[Cell]:
    instant = _instant(value)
    return [None if instant is None else instant.astimezone(layout.zone)]


def _py_answers(value: Any, layout: _Layout) -> list[Cell]:
    answers = _answer_loads(value) if value else {}
    if not isinstance(answers, dict):
        answers = {}
    return [plain_answer(q, answers.get(q["id"])) for q in layout.questions]


def _py_list(value: Any, word: Callable[[Any, _Layout], str], layout: _Layout) -> list[Cell]:
    items = loads(value) if value else None
    if not isinstance(items, list) or not items:
        return [None]
    return [LIST_SEPARATOR.join([word(item, layout) for item in items])]


# --- SQL (PostgreSQL): columns to CSV cell text, NULL for an empty cell ----------------------


def _text_of(value: Any) -> Any:
    # A JSON string's text without its quotes (#>> '{}'); other JSON values as JSON text.
    return value.op("#>>", return_type=Text)(literal_column("'{}'"))


def _sql_scalar_words(value: Any, array: Any = None) -> Any:
    """The SQL of _scalar_words over a jsonb value (array: the SQL for a JSON list)."""
    return case(
        {
            "string": _text_of(value),
            "boolean": case((cast(value, Boolean), YES), else_=NO),
            "number": cast(func.trim_scale(cast(value, Numeric)), Text),
            **({"array": array} if array is not None else {}),
        },
        value=func.jsonb_typeof(value),
        else_=_text_of(value),
    )


def _sql_joined(array: Any, word: Callable[[Any], Any], checked: bool = False) -> Any:
    """The SQL of LIST_SEPARATOR.join(word(item) for item in array), NULL if not a list."""
    # A set-returning function's rows come in its order, so the items keep the list's order.
    items = func.jsonb_array_elements(array).table_valued("value").render_derived()
    joined = func.array_to_string(
        func.array(select(word(items.c.value)).select_from(items).scalar_subquery()),
        literal(LIST_SEPARATOR),
    )
    return joined if checked else case((func.jsonb_typeof(array) == "array", joined))


def _sql_answer(answers: Any, question: dict[str, Any]) -> Any:
    value = answers.op("->", return_type=JSONB)(literal(question["id"], Text))
    # jsonb_typeof is taken once (a CASE on its value); the list's own test is then redundant.
    return _sql_scalar_words(value, _sql_joined(value, _sql_scalar_words, checked=True))


def _sql_reason(reason: Any) -> Any:
    words = func.coalesce(func.nullif(reason.op("->>", return_type=Text)("reason"), ""), "rule")
    points = func.trunc(
        func.coalesce(cast(reason.op("->>", return_type=Text)("points"), Numeric), 0)
    )
    signed = case((points >= 0, "+" + cast(points, Text)), else_=cast(points, Text))
    return words + " (" + signed + ")"


def _wall_text(column: Any, zone: str) -> Any:
    """Return a timestamp as PostgreSQL writes it in zone: 'YYYY-MM-DD HH:MM:SS', wall time."""
    return func.to_char(func.timezone(zone, column), "YYYY-MM-DD HH24:MI:SS")


@dataclass(frozen=True)
class _TextCell:
    """A text cell's SQL, to be defused once computed (csv_query)."""

    text: Any


def _text_cell(text: Any) -> _TextCell:
    # The csv module writes "" and None alike (an empty cell); COPY quotes "", so "" is NULL.
    return _TextCell(func.nullif(text, ""))


@dataclass(frozen=True)
class _Form:
    """A kind's two forms: the raw column to read, its Python cells, and its SQL cells."""

    read: Callable[[Any], Any]
    cells: Callable[[Any, _Layout], list[Cell]]
    sql: Callable[[Any, _Layout], list[Any]]


def _raw(column: Any) -> Any:
    """Read a column as the driver returns it, skipping SQLAlchemy's per-value conversion."""
    return type_coerce(column, String)


def _json_text(column: Any) -> Any:
    """Read a JSON column as its text: the drivers' own JSON loading costs more per row."""
    return cast(column, Text)


def _jsonb(column: Any) -> Any:
    return type_coerce(column, JSONB)


def _as_is(column: Any) -> Any:
    return column


def _one(value: Any, _layout: _Layout) -> list[Cell]:
    return [value]


_KINDS: dict[Kind, _Form] = {
    Kind.ID: _Form(
        _raw,
        lambda value, _layout: [_uuid_text(value)],
        lambda column, _layout: [cast(column, Text)],
    ),
    Kind.CONTEXT: _Form(
        _as_is,
        lambda _value, layout: list(layout.context),
        lambda _column, layout: [_text_cell(literal(cell, Text)) for cell in layout.context],
    ),
    Kind.TEXT: _Form(_raw, _one, lambda column, _layout: [_text_cell(column)]),
    Kind.TIME: _Form(_raw, _py_time, lambda column, layout: [_wall_text(column, str(layout.zone))]),
    Kind.YES_NO: _Form(
        _as_is,
        _one,
        lambda column, _layout: [case((column.is_(True), YES), (column.is_(False), NO))],
    ),
    Kind.NUMBER: _Form(_as_is, _one, lambda column, _layout: [cast(column, Text)]),
    Kind.ANSWERS: _Form(
        _json_text,
        _py_answers,
        lambda column, layout: [
            _text_cell(_sql_answer(_jsonb(column), q)) for q in layout.questions
        ],
    ),
    Kind.PRODUCTS: _Form(
        _json_text,
        lambda value, layout: _py_list(
            value, lambda item, layout: layout.products.get(item, item), layout
        ),
        lambda column, layout: [
            _text_cell(
                _sql_joined(
                    _jsonb(column),
                    lambda item: func.coalesce(
                        cast(literal(json.dumps(layout.products)), JSONB).op(
                            "->>", return_type=Text
                        )(_text_of(item)),
                        _text_of(item),
                    ),
                )
            )
        ],
    ),
    Kind.REASONS: _Form(
        _json_text,
        lambda value, layout: _py_list(value, lambda item, _layout: _reason(item), layout),
        lambda column, _layout: [_text_cell(_sql_joined(_jsonb(column), _sql_reason))],
    ),
    Kind.WORDS: _Form(
        _json_text,
        lambda value, layout: _py_list(value, lambda item, _layout: str(item), layout),
        lambda column, _layout: [_text_cell(_sql_joined(_jsonb(column), _text_of))],
    ),
}


def _query(principal: Principal, event: Event, columns: list[Any]) -> Select[Any]:
    """Return columns over the counted leads of event that principal may read, in order."""
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
    )


def csv_query(event: Event, principal: Principal) -> Select[Any]:
    """Return the export as a query of CSV cell texts (PostgreSQL), one row per lead."""
    layout = _layout(event)
    cells = [cell for kind, column in COLUMNS for cell in _KINDS[kind].sql(column, layout)]
    inner = [cell.text if isinstance(cell, _TextCell) else cell for cell in cells]
    # OFFSET 0 keeps the subquery whole: PostgreSQL would otherwise paste each cell's SQL into
    # the defusing, which names it three times, and compute it three times.
    computed = (
        _query(principal, event, [cell.label(f"c{n}") for n, cell in enumerate(inner)])
        .offset(0)
        .subquery("cells")
    )
    return select(
        *(
            defused_sql(computed.c[f"c{n}"]) if isinstance(cell, _TextCell) else computed.c[f"c{n}"]
            for n, cell in enumerate(cells)
        )
    )


def rows(event: Event, principal: Principal) -> Iterator[list[Cell]]:
    """Return an iterator of one list of cells per lead, in headers() order.

    The query and what the rows need of the event are taken now, from the request's objects;
    the rows are read only when iterated, on a connection of their own: a WSGI server reads
    the body after the request's context (and its session) is gone.
    """
    read = [_KINDS[kind].read(column) for kind, column in COLUMNS if kind is not Kind.CONTEXT]
    query = _query(principal, event, read).execution_options(yield_per=BATCH)
    return _read(db.engine, query, _layout(event))


def _read(engine: Engine, query: Select[Any], layout: _Layout) -> Iterator[list[Cell]]:
    context = [kind for kind, _column in COLUMNS].index(Kind.CONTEXT)
    forms = [_KINDS[kind].cells for kind, _column in COLUMNS if kind is not Kind.CONTEXT]
    # yield_per (set on the query) fetches in batches: a server-side cursor on PostgreSQL.
    with engine.connect() as connection:
        for row in connection.execute(query):
            cells: list[Cell] = []
            for number, (form, value) in enumerate(zip(forms, row, strict=True)):
                if number == context:
                    cells += layout.context
                cells += form(value, layout)
            yield cells
