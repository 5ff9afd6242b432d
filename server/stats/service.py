"""Compute an event's dashboard figures with SQL aggregates (no Python loops over lead rows).

``event_stats(event_id, now=None)`` returns one JSON-serialisable dict; every datetime is an
ISO 8601 string, every money amount a decimal string (or None), every share a float in 0..1
(or None when there is nothing to divide by). Leads merged into an earlier lead
(``merged_into_id`` set) are not counted. "Today" and the per-hour buckets are in the event's
time zone; hours are keyed by their local start with its UTC offset. The shape::

    {
      "event": {"id": 1, "name": "Expo", "timezone": "Europe/Berlin", "currency": "EUR",
                "starts_on": "2026-03-10", "ends_on": "2026-03-12"},
      "generated_at": "2026-03-10T14:03:00+00:00",     # now, UTC
      "today": "2026-03-10",                           # now's date in the event's zone
      "totals": {"leads": 120, "today": 40, "hot": 30, "consented": 100},
      "targets": {
        "leads": {"target": 500, "actual": 120, "share": 0.24},          # target/share None
        "hot_leads": {"target": 50, "actual": 30, "share": 0.6},         # when no target set
      },
      "per_hour": [                                    # only hours with leads, oldest first
        {"hour": "2026-03-10T09:00:00+01:00", "leads": 12}, ...
      ],
      "by_rating": [                                   # always these four rows, in this order
        {"rating": "hot", "leads": 30}, {"rating": "warm", ...}, {"rating": "cold", ...},
        {"rating": None, "leads": 5},                  # not rated at the booth
      ],
      "by_score_band": [ same four rows keyed "band" instead of "rating" ],
      "by_staff": [                                    # leaderboard, most leads first
        {"user_id": 7, "name": "Ann Booth", "leads": 40, "hot": 12}, ...
      ],
      "by_product": [                                  # every product of the event, config order
        {"product": "router", "name": "Router X", "leads": 33}, ...
      ],
      "questions": [                                   # every question of the event, config order
        {"id": "budget", "label": "Budget confirmed?", "type": "yes_no", "answered": 90,
         "answers": [{"value": "yes", "leads": 60}, {"value": "no", "leads": 30}]},
        # single_choice / multiple_choice: one row per option, config order ("value" = option)
        # yes_no: rows "yes" and "no"; text: "answers" is [] (free text is not tallied)
        # number: "answers" is [] and "number": {"min": 1.0, "max": 50.0, "avg": 12.5}
        #         ("number" is None when nobody answered; other types have no "number" key)
      ],
      "devices": [                                     # every tablet paired to the event
        {"id": 3, "name": "Tablet 1", "revoked": False,
         "last_seen_at": "2026-03-10T13:59:00+00:00" | None,   # last sync request
         "last_lead_received_at": "..." | None, "leads": 50,
         "pending_uploads": None},                     # the server cannot know this: see below
      ],
      "pending_uploads_known": False,                  # sync does not report tablet backlogs
      "funnel": [                                      # always these seven stages, in order
        {"stage": "captured", "leads": 120}, {"stage": "alerted", ...},
        {"stage": "acknowledged", ...}, {"stage": "contacted", ...}, {"stage": "meeting", ...},
        {"stage": "qualified", ...}, {"stage": "won", ...},
      ],
      "speed_to_lead": {                               # seconds; None when count is 0
        "capture_to_alert": {"count": 80, "median_s": 42.0, "p90_s": 300.0},
        "alert_to_ack": {...}, "ack_to_contact": {...},
      },
      "outcomes": {
        "by_status": [{"status": "new", "leads": 10}, ...],  # every LeadStatus, enum order
        "disqualification_reasons": [{"reason": "No budget", "leads": 4}, ...],  # most first
        "lost_reasons": [{"reason": "Chose competitor", "leads": 2}, ...],       # most first
        "won_value": "12000.00",                        # sum of deal_value of won leads
      },
      "rating_vs_outcome": [                           # did booth ratings hold up?
        {"rating": "hot", "leads": 30, "qualified": 12, "share": 0.4},
        {"rating": "warm", ...}, {"rating": "cold", ...},
      ],
      "cost": {"currency": "EUR", "cost": "5000.00" | None, "qualified": 20,
               "per_lead": "41.67" | None, "per_qualified_lead": "250.00" | None},
    }

Definitions:
- Times of day come from ``captured_at`` (the tablet's clock, which is when the visitor was at
  the booth); received_at would bunch offline captures at the moment the tablet synced.
- Funnel: captured = every lead; alerted = alerted_at set; acknowledged = acknowledged_at set;
  contacted = first_contact_at set; meeting = status meeting, qualified or won; qualified =
  status qualified or won; won = status won. A lead later lost or disqualified still counts
  for the stages its timestamps prove, but not for meeting or qualified.
- "Qualified" (rating_vs_outcome, cost per qualified lead) = status qualified or won.
- Percentiles interpolate linearly between the two nearest ranks (PostgreSQL's
  percentile_cont): of n sorted durations, p sits at position p * (n - 1), counted from 0.
  PostgreSQL computes them with percentile_cont in the one-pass statement; SQLite, which has
  no percentile function, ranks the durations with row_number() and fetches only the ranks
  around each position (at most four rows per step).
  Durations are only taken when both ends are set; negative ones (a tablet clock running
  ahead) are kept as they are, since hiding them would hide the clock problem.
- Pending uploads: the server only sees what arrives, so a tablet's unsent backlog is unknown;
  ``pending_uploads`` is always None and ``pending_uploads_known`` False.

``compare_events(event_ids, now=None)`` returns ``[event_stats(id, now) for each id]`` in the
order given (the caller checks access to each event first).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select

from server.devices.models import Device
from server.errors import fail
from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead, LeadStatus, Rating
from server.stats import sql
from server.stats.cache import cached
from server.stats.percentiles import speed_columns, speed_to_lead
from server.stats.scope import counted_leads
from server.users.models import User

S = LeadStatus
RATINGS: tuple[Rating | None, ...] = (Rating.HOT, Rating.WARM, Rating.COLD, None)
QUALIFIED = (S.QUALIFIED, S.WON)
MEETING_OR_LATER = (S.MEETING, S.QUALIFIED, S.WON)
FUNNEL_STAGES = ("captured", "alerted", "acknowledged", "contacted", "meeting", "qualified", "won")
CENT = Decimal("0.01")


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


def _share(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def _today_bounds(zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """Return the UTC start and end of now's date in zone."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _summary_columns(today: tuple[datetime, datetime]) -> dict[str, ColumnElement[Any]]:
    """Return the aggregates of totals, ratings, bands, funnel, statuses and outcomes."""
    count = func.count(Lead.id)
    columns: dict[str, ColumnElement[Any]] = {
        "leads": count,
        "today": count.filter(Lead.captured_at >= today[0], Lead.captured_at < today[1]),
        "consented": count.filter(Lead.consent_given.is_(True)),
        "alerted": count.filter(Lead.alerted_at.is_not(None)),
        "acknowledged": count.filter(Lead.acknowledged_at.is_not(None)),
        "contacted": count.filter(Lead.first_contact_at.is_not(None)),
        "meeting": count.filter(Lead.status.in_(MEETING_OR_LATER)),
        "qualified": count.filter(Lead.status.in_(QUALIFIED)),
        "won_value": func.sum(Lead.deal_value).filter(Lead.status == S.WON),
    }
    for rating in RATINGS:
        key = rating.value if rating else "none"
        rated = Lead.rating.is_(None) if rating is None else Lead.rating == rating
        banded = Lead.score_band.is_(None) if rating is None else Lead.score_band == rating
        columns[f"rating_{key}"] = count.filter(rated)
        columns[f"band_{key}"] = count.filter(banded)
        if rating is not None:
            columns[f"qualified_{key}"] = count.filter(rated, Lead.status.in_(QUALIFIED))
    for status in S:
        columns[f"status_{status.value}"] = count.filter(Lead.status == status)
    return columns


def _one_pass(event: Event, columns: dict[str, ColumnElement[Any]]) -> dict[str, Any]:
    """Compute every single-row aggregate in one statement: one scan of the event's leads."""
    query = counted_leads(event.id, *(column.label(name) for name, column in columns.items()))
    return dict(db.session.execute(query).one()._mapping)


def _per_hour(event: Event, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Count leads per local hour: SQL counts per UTC quarter hour, summed into local hours."""
    bucket = sql.quarter_hour(_dialect(), Lead.captured_at).label("bucket")
    rows = db.session.execute(
        counted_leads(event.id, bucket, func.count(Lead.id)).group_by(bucket)
    ).all()
    hours: Counter[datetime] = Counter()
    # At most four rows per hour of the show, already aggregated: no lead rows reach Python.
    for quarter, leads in rows:
        local = datetime.fromtimestamp(quarter * sql.BUCKET_SECONDS, UTC).astimezone(zone)
        # Keyed in UTC: local times in one zone compare equal across a DST repeat (fold).
        hours[local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)] += leads
    return [
        {"hour": hour.astimezone(zone).isoformat(), "leads": hours[hour]} for hour in sorted(hours)
    ]


def _by_staff(event: Event) -> list[dict[str, Any]]:
    leads = func.count(Lead.id)
    query = (
        counted_leads(
            event.id,
            Lead.captured_by_id,
            User.name,
            leads.label("leads"),
            leads.filter(Lead.rating == Rating.HOT).label("hot"),
        )
        .join(User, User.id == Lead.captured_by_id)
        .group_by(Lead.captured_by_id, User.name)
        .order_by(leads.desc(), User.name, Lead.captured_by_id)
    )
    return [
        {"user_id": user_id, "name": name, "leads": count, "hot": hot}
        for user_id, name, count, hot in db.session.execute(query)
    ]


def _choice_columns(event: Event, dialect: str) -> dict[str, ColumnElement[Any]]:
    """Return one FILTER count per product and per answer option (numbers: min, max, avg)."""
    count = func.count(Lead.id)
    columns: dict[str, ColumnElement[Any]] = {}
    for n, product in enumerate(event.products):
        columns[f"p{n}"] = count.filter(sql.array_contains(dialect, Lead.products, product["id"]))
    for n, question in enumerate(event.questions):
        qid, kind = question["id"], question["type"]
        text = sql.json_text(dialect, Lead.answers, qid)
        columns[f"q{n}"] = count.filter(text.is_not(None))
        if kind == "single_choice":
            for m, option in enumerate(question["options"]):
                columns[f"q{n}_{m}"] = count.filter(text == option)
        elif kind == "multiple_choice":
            for m, option in enumerate(question["options"]):
                contains = sql.array_contains(dialect, Lead.answers, option, qid)
                columns[f"q{n}_{m}"] = count.filter(contains)
        elif kind == "yes_no":
            for m, value in enumerate((True, False)):
                columns[f"q{n}_{m}"] = count.filter(
                    sql.json_is_bool(dialect, Lead.answers, qid, value)
                )
        elif kind == "number":
            number = sql.json_number(dialect, Lead.answers, qid)
            columns.update(
                {
                    f"q{n}_min": func.min(number),
                    f"q{n}_max": func.max(number),
                    f"q{n}_avg": func.avg(number),
                }
            )
    return columns


def _choices(
    event: Event, values: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lay out the product and answer counts of _choice_columns."""
    products = [
        {"product": product["id"], "name": product["name"], "leads": values[f"p{n}"]}
        for n, product in enumerate(event.products)
    ]
    questions = []
    for n, question in enumerate(event.questions):
        kind = question["type"]
        row: dict[str, Any] = {
            "id": question["id"],
            "label": question["label"],
            "type": kind,
            "answered": values[f"q{n}"],
            "answers": [],
        }
        if kind in ("single_choice", "multiple_choice"):
            row["answers"] = [
                {"value": option, "leads": values[f"q{n}_{m}"]}
                for m, option in enumerate(question["options"])
            ]
        elif kind == "yes_no":
            row["answers"] = [
                {"value": word, "leads": values[f"q{n}_{m}"]}
                for m, word in enumerate(("yes", "no"))
            ]
        elif kind == "number":
            low, high, mean = values[f"q{n}_min"], values[f"q{n}_max"], values[f"q{n}_avg"]
            row["number"] = (
                None
                if low is None
                else {"min": float(low), "max": float(high), "avg": round(float(mean), 4)}
            )
        questions.append(row)
    return products, questions


def _devices(event: Event) -> list[dict[str, Any]]:
    """Return each tablet of the event with its lead count and last lead, aggregated first."""
    per_device = (
        counted_leads(
            event.id,
            Lead.device_id,
            func.count(Lead.id).label("leads"),
            func.max(Lead.received_at).label("last_lead"),
        )
        .group_by(Lead.device_id)
        .subquery()
    )
    query = (
        select(
            Device.id,
            Device.name,
            Device.revoked_at,
            Device.last_seen_at,
            per_device.c.last_lead,
            func.coalesce(per_device.c.leads, 0),
        )
        .outerjoin(per_device, per_device.c.device_id == Device.id)
        .where(Device.event_id == event.id)
        .order_by(Device.name, Device.id)
    )
    return [
        {
            "id": device_id,
            "name": name,
            "revoked": revoked_at is not None,
            "last_seen_at": _iso(_aware(last_seen)),
            "last_lead_received_at": _iso(_aware(last_lead)),
            "leads": leads,
            "pending_uploads": None,
        }
        for device_id, name, revoked_at, last_seen, last_lead, leads in db.session.execute(query)
    ]


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates (max) bypass the column type, so SQLite hands back naive UTC (or text).
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reasons(event: Event, status: LeadStatus) -> list[dict[str, Any]]:
    leads = func.count(Lead.id)
    query = (
        counted_leads(event.id, Lead.status_reason, leads)
        .where(Lead.status == status, Lead.status_reason.is_not(None))
        .group_by(Lead.status_reason)
        .order_by(leads.desc(), Lead.status_reason)
    )
    return [{"reason": reason, "leads": n} for reason, n in db.session.execute(query)]


def event_stats(event_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Return every dashboard figure of one event (shape in the module docstring)."""
    event = db.session.get(Event, event_id)
    if event is None:
        fail(404, "No such event.")
    now = now or datetime.now(UTC)
    zone = ZoneInfo(event.timezone)
    dialect = _dialect()
    summary = _one_pass(
        event,
        {
            **_summary_columns(_today_bounds(zone, now)),
            **_choice_columns(event, dialect),
            **speed_columns(dialect),
        },
    )
    leads = summary["leads"]
    products, questions = _choices(event, summary)
    hot = summary["rating_hot"]
    cost = event.cost
    return {
        "event": {
            "id": event.id,
            "name": event.name,
            "timezone": event.timezone,
            "currency": event.currency,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
        },
        "generated_at": now.astimezone(UTC).isoformat(),
        "today": now.astimezone(zone).date().isoformat(),
        "totals": {
            "leads": leads,
            "today": summary["today"],
            "hot": hot,
            "consented": summary["consented"],
        },
        "targets": {
            "leads": {
                "target": event.target_leads,
                "actual": leads,
                "share": _share(leads, event.target_leads),
            },
            "hot_leads": {
                "target": event.target_hot_leads,
                "actual": hot,
                "share": _share(hot, event.target_hot_leads),
            },
        },
        "per_hour": _per_hour(event, zone),
        "by_rating": [
            {"rating": r.value if r else None, "leads": summary[f"rating_{r or 'none'}"]}
            for r in RATINGS
        ],
        "by_score_band": [
            {"band": r.value if r else None, "leads": summary[f"band_{r or 'none'}"]}
            for r in RATINGS
        ],
        "by_staff": _by_staff(event),
        "by_product": products,
        "questions": questions,
        "devices": _devices(event),
        "pending_uploads_known": False,
        "funnel": [
            {"stage": stage, "leads": leads if stage == "captured" else _stage(summary, stage)}
            for stage in FUNNEL_STAGES
        ],
        "speed_to_lead": speed_to_lead(event.id, dialect, summary),
        "outcomes": {
            "by_status": [
                {"status": status.value, "leads": summary[f"status_{status.value}"]} for status in S
            ],
            "disqualification_reasons": _reasons(event, S.DISQUALIFIED),
            "lost_reasons": _reasons(event, S.LOST),
            "won_value": _money(summary["won_value"] or Decimal(0)),
        },
        "rating_vs_outcome": [
            {
                "rating": r.value,
                "leads": summary[f"rating_{r}"],
                "qualified": summary[f"qualified_{r}"],
                "share": _share(summary[f"qualified_{r}"], summary[f"rating_{r}"]),
            }
            for r in RATINGS
            if r is not None
        ],
        "cost": {
            "currency": event.currency,
            "cost": _money(cost),
            "qualified": summary["qualified"],
            "per_lead": _money(cost / leads) if cost is not None and leads else None,
            "per_qualified_lead": (
                _money(cost / summary["qualified"])
                if cost is not None and summary["qualified"]
                else None
            ),
        },
    }


def _stage(summary: dict[str, Any], stage: str) -> int:
    return summary["status_won"] if stage == "won" else summary[stage]


def compare_events(event_ids: list[int], now: datetime | None = None) -> list[dict[str, Any]]:
    """Return event_stats for each event, in the order given."""
    return [event_stats(event_id, now) for event_id in event_ids]


def live_event_stats(event_id: int) -> dict[str, Any]:
    """Return event_stats(event_id), shared for a few seconds by everyone polling (cache.py)."""
    return cached(f"event:{event_id}", lambda: event_stats(event_id))
