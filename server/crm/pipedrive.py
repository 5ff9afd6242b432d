"""Pipedrive through its REST API v1 with requests: persons, notes, a deal per lead, outcomes.

The person is found by ``GET /v1/persons/search`` (email, exact match; phone for a lead
without email), updated with ``PUT /v1/persons/{id}`` or created with ``POST /v1/persons``;
the context is a note on the person; a deal titled after the event is opened for the person
(once: the person's deals are read first). Outcomes are the deals' status (won with value,
lost with lost_reason), read from ``GET /v1/recents?items=deal`` since the cursor, paged by
start. Authentication is the API token as the ``api_token`` query parameter, as documented.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from server.crm.base import ChangePage, CrmError, Note, Outcome, Person, status_error
from server.leads.models import LeadStatus

API_URL = "https://api.pipedrive.com"
DEFAULT_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "job_title": "job_title",
    # An organisation and custom fields (hashed keys) need the admin's mapping in Pipedrive.
    "company": "",
    "country": "",
    "lead_source": "",
    "campaign": "",
}
# Pipedrive keeps emails and phones as lists of labelled values.
_LISTS = ("email", "phone")


def _stamp(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _millis(stamp: str | None) -> int:
    if not stamp:
        return 0
    return int(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() * 1000)


class PipedriveConnector:
    """One Pipedrive company account, reached with a personal API token."""

    kind = "pipedrive"

    def __init__(self, token: str, base_url: str | None = None, timeout: float = 10.0):
        self.base = (base_url or API_URL).rstrip("/") + "/v1"
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()
        self._users: dict[str, int | None] = {}

    def _call(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        params = {**kwargs.pop("params", {}), "api_token": self.token}
        try:
            answer = self.http.request(
                method, self.base + path, params=params, timeout=self.timeout, **kwargs
            )
        except (requests.RequestException, OSError) as error:
            # The exception text holds the URL, whose query holds the token: never passed on.
            raise CrmError(f"pipedrive: {type(error).__name__} on {what}", retryable=True) from None
        if answer.status_code >= 300:
            raise status_error(
                "pipedrive", answer.status_code, what, answer.headers.get("Retry-After")
            )
        try:
            return answer.json()
        except ValueError:
            raise CrmError(f"pipedrive: an unreadable answer on {what}", retryable=True) from None

    def _search(self, term: str, field: str) -> int | None:
        found = self._call(
            "person search",
            "GET",
            "/persons/search",
            params={"term": term, "fields": field, "exact_match": "true", "limit": 1},
        )
        items = ((found.get("data") or {}).get("items")) or []
        return items[0]["item"]["id"] if items else None

    def _user_id(self, email: str) -> int | None:
        if email not in self._users:
            found = self._call(
                "user lookup", "GET", "/users/find", params={"term": email, "search_by_email": 1}
            )
            users = [u for u in found.get("data") or [] if u.get("email") == email]
            self._users[email] = users[0]["id"] if users else None
        return self._users[email]

    def _body(self, person: Person) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name, value in person.fields.items():
            if value is None:
                continue
            body[name] = (
                [{"value": value, "primary": True, "label": "work"}] if name in _LISTS else value
            )
        names = [body.get("first_name"), body.get("last_name")]
        body["name"] = (
            " ".join(n for n in names if n) or person.email or person.phone or "(unknown)"
        )
        if person.owner_email:
            owner = self._user_id(person.owner_email)
            if owner:
                body["owner_id"] = owner
        return body

    def upsert_person(self, person: Person, known_id: str | None) -> str:
        """Update the person (known, or found by email, else phone), else create it; open a deal."""
        body = self._body(person)
        found: int | str | None = known_id
        if found is None and person.email:
            found = self._search(person.email, "email")
        elif found is None and person.phone:
            found = self._search(person.phone, "phone")
        if found is not None:
            self._call("person update", "PUT", f"/persons/{found}", json=body)
            person_id = str(found)
        else:
            person_id = str(
                self._call("person create", "POST", "/persons", json=body)["data"]["id"]
            )
        if person.campaign:
            self._open_deal(person_id, person.campaign, body.get("owner_id"))
        return person_id

    def _open_deal(self, person_id: str, title: str, owner: int | None) -> None:
        deals = self._call(
            "person deals",
            "GET",
            f"/persons/{person_id}/deals",
            params={"status": "all_not_deleted"},
        )
        if any(deal.get("title") == title for deal in deals.get("data") or []):
            return
        body: dict[str, Any] = {"title": title, "person_id": int(person_id)}
        if owner:
            body["user_id"] = owner
        self._call("deal create", "POST", "/deals", json=body)

    def attach_context(self, record_id: str, note: Note) -> None:
        """Add the context as a note on the person."""
        content = f"<b>{_html(note.title)}</b><br>" + _html(note.body).replace("\n", "<br>")
        self._call(
            "note create", "POST", "/notes", json={"content": content, "person_id": int(record_id)}
        )

    def changes_since(self, cursor: str | None, limit: int) -> ChangePage:
        """Return won and lost deals changed since the cursor, with the person they are for."""
        since = int((cursor or "0").partition(",")[0] or 0)
        outcomes: list[Outcome] = []
        start, newest, more = 0, since, False
        while len(outcomes) < limit:
            page = self._call(
                "deal changes",
                "GET",
                "/recents",
                params={
                    "since_timestamp": _stamp(since),
                    "items": "deal",
                    "start": start,
                    "limit": 100,
                },
            )
            for entry in page.get("data") or []:
                deal = entry.get("data") or {}
                newest = max(newest, _millis(deal.get("update_time")))
                outcome = _deal_outcome(deal)
                if outcome is not None:
                    outcomes.append(outcome)
            pagination = (page.get("additional_data") or {}).get("pagination") or {}
            more = bool(pagination.get("more_items_in_collection"))
            if not more:
                break
            start = pagination.get("next_start", start + 100)
        return ChangePage(outcomes, str(newest), more)

    def check(self) -> str:
        """Read the token's own user: proves the token."""
        self._call("connection test", "GET", "/users/me")
        return "Pipedrive account reached"


def _deal_outcome(deal: dict[str, Any]) -> Outcome | None:
    person = deal.get("person_id")
    if isinstance(person, dict):
        person = person.get("value")
    if person is None:
        return None
    status = deal.get("status")
    if status == "won":
        try:
            value = Decimal(str(deal.get("value") or 0))
        except InvalidOperation:
            value = Decimal(0)
        return Outcome(
            str(person), LeadStatus.WON, value=value, source=f"deal:{deal.get('id')}:won"
        )
    if status == "lost":
        reason = deal.get("lost_reason") or "Lost in Pipedrive"
        return Outcome(
            str(person), LeadStatus.LOST, reason=reason, source=f"deal:{deal.get('id')}:lost"
        )
    return None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
