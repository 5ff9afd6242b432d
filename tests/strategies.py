"""Hypothesis strategies for a lead's fields, derived from the sync schema's own field types.

Each field of LeadCreateSchema (server/leads/schemas.py) gets values of its marshmallow
type: text of every length around its limit in odd Unicode, times across Python's whole
range with any UTC offset, integers around and far beyond their bounds, enums with
strangers, nested consent, answers of every kind for the event's questions. Every
optional field is sometimes present and sometimes absent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import marshmallow as ma
from hypothesis import strategies as st

from server.fields import Country, Slug, Text, Timestamp
from server.leads.schemas import LeadCreateSchema

# JSON text is UTF-8: a lone surrogate cannot travel in a body (tests/sync covers the
# tablet refusing one at save time).
_CHARACTERS = st.characters(exclude_categories=("Cs",))
_ODD_TEXT = st.sampled_from(
    [
        "",
        "   ",
        "\u200b",
        "\u2003Ann\u2003",
        "Zoë Ångström",
        "ﷺ" * 40,
        "e\u0301" * 60,
        "\u202eevil\u202c",
        "😀" * 30,
        "a\nb\r\nc",
        "NUL\x00inside",
        "İstanbul",
        "x" * 5001,
    ]
)
_EXTREME_TIMES = st.sampled_from(
    [datetime.min, datetime.max, datetime(1, 1, 1, 0, 30), datetime(9999, 12, 31, 12)]
)
_OFFSETS = st.one_of(
    st.sampled_from([timedelta(0), timedelta(hours=14), -timedelta(hours=12)]),
    st.integers(-1439, 1439).map(lambda minutes: timedelta(minutes=minutes)),
)


def _text(field: Text) -> st.SearchStrategy[Any]:
    limit = field.max_length
    return st.one_of(
        st.text(_CHARACTERS, max_size=min(limit + 3, 300)),
        st.text(_CHARACTERS, min_size=max(limit - 2, 0), max_size=limit + 2),
        _ODD_TEXT,
        st.none(),
    )


def times(*, within_bounds: bool = False) -> st.SearchStrategy[str]:
    """Return ISO 8601 times across Python's whole range with every kind of UTC offset.

    within_bounds: only times sync/bounds.py admits, down to a day from its limits.
    """
    if within_bounds:
        naive = st.datetimes(datetime(1, 1, 4), datetime(9999, 12, 28))
    else:
        # The edges themselves, a quarter of the time: with an offset either way, half of
        # those leave Python's range once converted.
        naive = st.one_of(st.datetimes(), _EXTREME_TIMES, _EXTREME_TIMES, _EXTREME_TIMES)
    return st.builds(
        lambda moment, offset: moment.replace(tzinfo=timezone(offset)).isoformat(),
        naive,
        _OFFSETS,
    )


def _integers(field: ma.fields.Integer) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63]),
        st.none(),
    )


def _enum(field: ma.fields.Enum) -> st.SearchStrategy[Any]:
    values = [member.value for member in field.enum]
    return st.one_of(st.sampled_from(values), st.sampled_from(["", "HOT", "unknown", 1]))


def _valid(name: str, field: ma.fields.Field, event: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Return values the field takes (odd ones included), by its name and type."""
    if name == "email":
        return st.builds(lambda: f"v.{uuid.uuid4().hex[:10]}@example.com")
    if name == "phone":
        return st.sampled_from(["030 1234567", "+44 20 7946 0958", "0049 89 1234567"])
    if name == "answers":
        return _valid_answers(event)
    if name == "products":
        return st.lists(st.sampled_from([product["id"] for product in event["products"]]))
    if name == "purposes":
        return st.lists(st.sampled_from(["sales_follow_up", "marketing_email"]), max_size=2)
    if name == "version":
        return st.just(1)
    if name == "language":
        return st.sampled_from(["de", "en", "pt-BR"])
    if isinstance(field, Country):
        return st.sampled_from(["de", "GB", "us"])
    if isinstance(field, Text):
        # Any text within the limit: every script, controls, emoji, combining marks.
        return st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            max_size=field.max_length,
        )
    if isinstance(field, Timestamp):
        return times(within_bounds=True)
    if isinstance(field, ma.fields.Enum):
        return st.sampled_from([member.value for member in field.enum])
    if isinstance(field, ma.fields.Boolean):
        return st.booleans()
    if isinstance(field, ma.fields.Nested):
        return fields_of(field.schema, event)
    return _typed(name, field, event)


def _valid_answers(event: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    by_type = {
        "yes_no": lambda q: st.booleans(),
        "number": lambda q: st.one_of(st.integers(-(10**15), 10**15), st.floats(-1e15, 1e15)),
        "text": lambda q: st.text(_CHARACTERS, max_size=2000).filter(lambda t: "\x00" not in t),
        "single_choice": lambda q: st.sampled_from(q["options"]),
        "multiple_choice": lambda q: st.lists(st.sampled_from(q["options"]), unique=True),
    }
    questions = event["questions"]
    required = {q["id"]: by_type[q["type"]](q) for q in questions if q.get("required")}
    optional = {q["id"]: by_type[q["type"]](q) for q in questions if not q.get("required")}
    return st.fixed_dictionaries(required, optional=optional)


def _for(name: str, field: ma.fields.Field, event: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Return values for one schema field: mostly ones it takes, now and then any of its type."""
    # One field in twenty (a time: one in three) gets any value of its type, so that about
    # half the leads drawn are valid as a whole and reach storage, pull and alerts.
    odds = 2 if isinstance(field, Timestamp) else 19  # times: the first suspects
    return st.integers(0, odds).flatmap(
        lambda n: _typed(name, field, event) if n == 0 else _valid(name, field, event)
    )


def _typed(name: str, field: ma.fields.Field, event: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Return values for one schema field, by its marshmallow type."""
    if name == "email":
        unique = st.builds(lambda: f"v.{uuid.uuid4().hex[:10]}@example.com")
        return st.one_of(unique, unique.map(str.upper), _text(field))
    if name == "phone":
        return st.one_of(
            st.sampled_from(["030 1234567", "+44 20 7946 0958", "0049 89 1234567", "+1 0"]),
            _text(field),
        )
    if name == "answers":
        return answers(event)
    if name == "products":
        offered = [product["id"] for product in event["products"]]
        return st.lists(st.one_of(st.sampled_from(offered), st.text(max_size=5)), max_size=4)
    if name == "purposes":
        return st.lists(st.sampled_from(["sales_follow_up", "marketing_email", "spam"]))
    if isinstance(field, Country):
        return st.one_of(st.sampled_from(["de", "GB", "us", "XX", "ü"]), st.none())
    if isinstance(field, Slug):
        return st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True)
    if isinstance(field, Text):
        return _text(field)
    if isinstance(field, Timestamp):
        junk = st.sampled_from([None, "yesterday", "2026-11-23T10:00"])
        return st.one_of(times(), times(), times(), junk)
    if isinstance(field, ma.fields.Enum):
        return _enum(field)
    if isinstance(field, ma.fields.Boolean):
        return st.one_of(st.booleans(), st.none())
    if isinstance(field, ma.fields.Integer):
        return _integers(field)
    if isinstance(field, ma.fields.Nested):
        return fields_of(field.schema, event)
    raise AssertionError(f"no strategy for {name}: {type(field).__name__}")


def answers(event: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Return answers to the event's questions, of the right type or of any other."""
    values = st.one_of(
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(-1e15, 1e15),
        st.text(_CHARACTERS, max_size=2010),
        _ODD_TEXT,
        st.lists(st.sampled_from(["A", "B", "C", "Now", "Later"]), max_size=4),
        st.none(),
    )
    keys = [question["id"] for question in event["questions"]]
    return st.dictionaries(st.sampled_from([*keys, "nosuch"]), values, max_size=len(keys) + 1)


def fields_of(
    schema: ma.Schema, event: dict[str, Any], **given: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Return dicts of schema's loadable fields: required ones always, optional ones maybe.

    given: strategies for some fields, instead of those of their type.
    """
    required, optional = {}, {}
    for name, field in schema.fields.items():
        if field.dump_only or name == "id":
            continue
        strategy = given[name] if name in given else _for(name, field, event)
        (required if field.required else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def lead_fields(event: dict[str, Any], captured_by_id: int) -> st.SearchStrategy[dict[str, Any]]:
    """Return a lead's create fields for event: mostly by its team member, now and then not."""
    by = st.integers(0, 19).flatmap(
        lambda n: _integers(ma.fields.Integer()) if n == 0 else st.just(captured_by_id)
    )
    schema = LeadCreateSchema()
    # The event's required question must be answered for a lead to be taken, so answers
    # are drawn (of their type now and then) more often than absent.
    answered = _for("answers", schema.fields["answers"], event)
    return st.tuples(fields_of(schema, event, captured_by_id=by), answered, st.integers(0, 9)).map(
        lambda drawn: {**drawn[0], "answers": drawn[1]} if drawn[2] else drawn[0]
    )


def as_utc(text: str | None) -> datetime | None:
    """Return an ISO time as its UTC instant, for comparing two spellings of one time."""
    return datetime.fromisoformat(text).astimezone(UTC) if text else None
