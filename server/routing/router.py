"""Choose a lead's owner: named accounts, territory, product, round-robin, then a fallback.

Rules are the event's ``routing`` JSON, tried in order::

    {"rules": [
        {"type": "named_account", "domains": ["acme.com"], "companies": ["Acme"], "rep_id": 4},
        {"type": "territory", "countries": ["DE", "AT"], "regions": ["Bavaria"], "rep_ids": [5, 6]},
        {"type": "product", "products": ["scanner"], "rep_ids": [7]}],
     "fallback_owner_id": 2, "backup_owner_id": 3}

A named account goes to its rep whatever their load. Other rules pick, among their
reps who are active and under their daily capacity, the one with the fewest leads
routed to them today (then the lowest id): a round-robin that stays fair when reps
join late. When no rule yields a rep, every rep working the event is eligible;
then the fallback owner takes it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, select

from server.db_types import utcnow
from server.events.models import Event, EventMember
from server.extensions import db
from server.leads.models import Lead
from server.users.models import Role, User


@dataclass(frozen=True)
class Decision:
    """Who owns the lead, and which rule said so (kept on the timeline)."""

    owner_id: int | None
    rule: str
    detail: dict[str, Any] = field(default_factory=dict)


def start_of_day(event: Event, now: datetime | None = None) -> datetime:
    """Return midnight today in the event's time zone, as an aware datetime."""
    zone = ZoneInfo(event.timezone)
    local = (now or utcnow()).astimezone(zone)
    return datetime.combine(local.date(), time.min, tzinfo=zone)


class Candidate(NamedTuple):
    """What routing and the new-lead alert read of a person (no full User row)."""

    id: int
    email: str
    role: Role
    active: bool
    daily_capacity: int | None
    alerts: dict[str, Any]


@dataclass(frozen=True)
class EventPeople:
    """Who works an event or is named in its routing, and each one's leads routed today."""

    users: dict[int, Candidate]  # the active ones: only they are routed to
    team: frozenset[int]  # every member's id, active or not: who may capture
    today: dict[int, int]


def _named_in_routing(config: dict[str, Any]) -> set[int]:
    named = {
        rep_id
        for rule in config.get("rules", [])
        for rep_id in [rule.get("rep_id"), *rule.get("rep_ids", [])]
        if rep_id
    }
    named |= {config.get("fallback_owner_id"), config.get("backup_owner_id")}
    return named - {None}


def _people_statement() -> Any:
    """Build the SELECT of load_people once, with the event and the day as parameters."""
    event_id = bindparam("event_id")
    routed_today = (
        select(Lead.owner_id, func.count().label("routed"))
        .where(Lead.event_id == event_id, Lead.received_at >= bindparam("since"))
        .where(Lead.owner_id.is_not(None))
        .group_by(Lead.owner_id)
        .subquery()
    )
    return (
        select(
            User.id,
            User.email,
            User.role,
            User.active,
            User.daily_capacity,
            User.alerts,
            EventMember.user_id.is_not(None),
            routed_today.c.routed,
        )
        .outerjoin(
            EventMember, and_(EventMember.user_id == User.id, EventMember.event_id == event_id)
        )
        .outerjoin(routed_today, routed_today.c.owner_id == User.id)
        .where(
            or_(
                EventMember.user_id.is_not(None),
                User.id.in_(bindparam("named", expanding=True)),
            )
        )
    )


# Run for every push: building it (a subquery, two joins) cost more CPU than running it.
_PEOPLE = _people_statement()


def load_people(event: Event, now: datetime | None = None) -> EventPeople:
    """Load the event's team, everyone its routing names and today's loads, in one query.

    A push reads all three for every lead it captures: one round trip, not three.
    """
    rows = db.session.execute(
        _PEOPLE,
        {
            "event_id": event.id,
            "since": start_of_day(event, now),
            "named": sorted(_named_in_routing(event.routing or {})),
        },
    ).all()
    people = [(Candidate(*row[:6]), member, routed) for *row, member, routed in rows]
    return EventPeople(
        users={person.id: person for person, _member, _routed in people if person.active},
        team=frozenset(person.id for person, member, _routed in people if member),
        today={person.id: routed for person, _member, routed in people if routed},
    )


class _Compiled(NamedTuple):
    """A routing rule's lists as the sets a lead is matched against."""

    kind: str | None
    countries: frozenset[str]
    regions: frozenset[str]
    products: frozenset[str]
    rep_ids: tuple[int, ...]
    domains: frozenset[str]
    companies: frozenset[str]


def _compiled(rule: dict[str, Any]) -> _Compiled:
    return _Compiled(
        kind=rule.get("type"),
        countries=frozenset(c.upper() for c in rule.get("countries", [])),
        regions=frozenset(r.casefold() for r in rule.get("regions", [])),
        products=frozenset(rule.get("products", [])),
        rep_ids=tuple(rule.get("rep_ids", [])),
        domains=frozenset(d.casefold() for d in rule.get("domains", [])),
        companies=frozenset(c.casefold() for c in rule.get("companies", [])),
    )


class Router:
    """Route the leads of one event; keeps today's loads current across a batch."""

    def __init__(self, event: Event, people: EventPeople):
        """Route with people as load_people(event) found them."""
        self.event = event
        self.config = event.routing or {}
        self.users = people.users
        self.team_reps = {
            user_id
            for user_id, user in self.users.items()
            if user_id in people.team and user.role == Role.REP
        }
        self.today: Counter[int] = Counter(people.today)
        # Each rule's lists as sets, made once for the batch rather than once per lead.
        self._rules = [(rule, _compiled(rule)) for rule in self.config.get("rules", [])]

    def _under_capacity(self, rep_id: int) -> bool:
        user = self.users.get(rep_id)
        if user is None or user.role != Role.REP:
            return False
        return user.daily_capacity is None or self.today[rep_id] < user.daily_capacity

    def _least_loaded(self, rep_ids: set[int]) -> int | None:
        eligible = [rep_id for rep_id in rep_ids if self._under_capacity(rep_id)]
        if not eligible:
            return None
        return min(eligible, key=lambda rep_id: (self.today[rep_id], rep_id))

    def _rule_candidates(self, rule: _Compiled, lead: dict[str, Any]) -> set[int]:
        if rule.kind == "territory":
            region = (lead.get("region") or "").casefold()
            if (lead.get("country") or "") in rule.countries or (region and region in rule.regions):
                return set(rule.rep_ids)
        elif rule.kind == "product":
            if rule.products & set(lead.get("products") or []):
                return set(rule.rep_ids)
        return set()

    def _named_account(self, rule: _Compiled, lead: dict[str, Any]) -> bool:
        email = lead.get("email") or ""
        domain = email.rpartition("@")[2].casefold()
        company = (lead.get("company") or "").casefold()
        return bool((domain and domain in rule.domains) or (company and company in rule.companies))

    def route(self, lead: dict[str, Any]) -> Decision:
        """Choose the owner of a lead given as column values, and count it on their load."""
        decision = self._decide(lead)
        if decision.owner_id is not None:
            self.today[decision.owner_id] += 1
        return decision

    def _decide(self, lead: dict[str, Any]) -> Decision:
        for number, (rule, compiled) in enumerate(self._rules, start=1):
            if compiled.kind == "named_account":
                rep = self.users.get(rule.get("rep_id"))
                if rep is not None and self._named_account(compiled, lead):
                    return Decision(rep.id, "named_account", {"rule_number": number})
                continue
            candidates = self._rule_candidates(compiled, lead)
            chosen = self._least_loaded(candidates) if candidates else None
            if chosen is not None:
                return Decision(chosen, rule["type"], {"rule_number": number})
        chosen = self._least_loaded(self.team_reps)
        if chosen is not None:
            return Decision(chosen, "round_robin")
        fallback = self.users.get(self.config.get("fallback_owner_id"))
        if fallback is not None:
            return Decision(fallback.id, "fallback")
        return Decision(None, "unrouted")
