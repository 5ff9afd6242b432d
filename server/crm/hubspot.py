"""HubSpot through hubspot-api-client (CRM v3): contacts, notes, owners, deals and lead status.

A person with an email is created first: HubSpot's own unique-email check answers a
create for an address it holds with 409 "Contact already exists. Existing ID: N", and
that contact is updated instead. One call on the way to a new contact, not a read and a
write, halves the calls a throttle or a failure can delay; and a retry after a timeout
whose create did reach HubSpot lands on the same record. Should a 409 not name the
contact, it is read by email (``GET /crm/v3/objects/contacts/{email}?idProperty=email``,
which, unlike search, sees a contact the moment it is written). A lead without email is
searched by phone (``POST .../contacts/search``), leadbridge's own identity rule.
The context is a note associated to the contact (association type 202, note to contact).
Outcomes are the contact's ``hs_lead_status`` and the stage of deals associated to it,
read by a search on ``lastmodifieddate`` / ``hs_lastmodifieddate`` (the cursor); the
contacts of the changed deals are read in one associations batch read per round, not one
call per deal.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import urllib3
from hubspot import HubSpot
from urllib3.util.retry import Retry

from server.crm.base import ChangePage, CrmError, Note, Outcome, Person, status_error
from server.crm.oauth import RefreshingToken
from server.leads.models import LeadStatus

API_URL = "https://api.hubapi.com"
# Note -> contact, HubSpot-defined (developers.hubspot.com, "Associations v4: type ids").
NOTE_TO_CONTACT = 202
# HubSpot takes at most this many ids in one associations batch read (changelog, 2025-02).
ASSOCIATION_BATCH = 1000
DEFAULT_FIELDS = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "job_title": "jobtitle",
    "country": "country",
    "lead_source": "leadbridge_source",
    "campaign": "leadbridge_campaign",
}
# hs_lead_status values (HubSpot's default options) -> leadbridge outcomes.
LEAD_STATUS = {
    "ATTEMPTED_TO_CONTACT": LeadStatus.CONTACTED,
    "CONNECTED": LeadStatus.CONTACTED,
    "IN_PROGRESS": LeadStatus.CONTACTED,
    "OPEN_DEAL": LeadStatus.QUALIFIED,
    "UNQUALIFIED": LeadStatus.DISQUALIFIED,
    "BAD_TIMING": LeadStatus.LOST,
}
# Deal stages of HubSpot's default sales pipeline -> leadbridge outcomes.
DEAL_STAGE = {
    "appointmentscheduled": LeadStatus.MEETING,
    "qualifiedtobuy": LeadStatus.QUALIFIED,
    "presentationscheduled": LeadStatus.QUALIFIED,
    "decisionmakerboughtin": LeadStatus.QUALIFIED,
    "contractsent": LeadStatus.QUALIFIED,
    "closedwon": LeadStatus.WON,
    "closedlost": LeadStatus.LOST,
}
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)


def token_url(base_url: str | None) -> str:
    """Return the OAuth token endpoint (refresh_token grant) of HubSpot at base_url."""
    return f"{(base_url or API_URL).rstrip('/')}/oauth/v1/token"


def _cursor_parts(cursor: str | None) -> tuple[int, int]:
    """Return the (contacts, deals) modification times in epoch ms a cursor holds."""
    if not cursor:
        return 0, 0
    contacts, _, deals = cursor.partition(",")
    return int(contacts or 0), int(deals or contacts or 0)


def _millis(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if value in (None, ""):
        return 0
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class HubSpotConnector:
    """One HubSpot account, reached with a private-app token or an OAuth app's refresh token."""

    kind = "hubspot"

    def __init__(
        self,
        access_token: str | RefreshingToken,
        base_url: str | None = None,
        timeout: float = 10.0,
    ):
        # With a refresh token every call names its access token (_request_auth), which is
        # renewed in between; a private-app token is the client's own.
        self.auth = access_token if isinstance(access_token, RefreshingToken) else None
        # Inside the client only one quick retry of a read (GET: safe to repeat) after a 5xx,
        # a timeout or a refused connection; everything else, 429 above all, is the outbox's
        # to retry, with backoff and Retry-After, without holding a worker meanwhile.
        self.client = HubSpot(
            access_token=access_token if isinstance(access_token, str) else None,
            host=(base_url or API_URL).rstrip("/"),
            retry=Retry(
                total=1,
                redirect=0,
                backoff_factor=0.05,
                status_forcelist=(500, 502, 503, 504),
                allowed_methods=frozenset({"GET"}),
                respect_retry_after_header=False,
                raise_on_status=False,
            ),
        )
        self.timeout = timeout
        # Rep email -> HubSpot owner id (or None): owners change rarely, leads often.
        self._owner_ids: dict[str, str | None] = {}

    # The generated API objects each build an ApiClient and a connection pool: made once.
    @functools.cached_property
    def _contacts(self) -> Any:
        return self.client.crm.contacts

    @functools.cached_property
    def _notes(self) -> Any:
        return self.client.crm.objects.notes.basic_api

    @functools.cached_property
    def _owners(self) -> Any:
        return self.client.crm.owners.owners_api

    @functools.cached_property
    def _deals(self) -> Any:
        return self.client.crm.deals.search_api

    @functools.cached_property
    def _associations(self) -> Any:
        return self.client.crm.associations.v4.batch_api

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the client; after a 401 with a refresh token, renew the token and call once more."""
        if self.auth is None:
            return self._call_once(what, method, None, *args, **kwargs)
        token = self.auth.current()
        try:
            return self._call_once(what, method, token, *args, **kwargs)
        except CrmError as error:
            if error.status != 401:
                raise
        # Revoked or expired early: a 401 means nothing was done.
        return self._call_once(what, method, self.auth.refresh(token), *args, **kwargs)

    def _call_once(
        self, what: str, method: Any, token: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        """Call the client once; turn its errors into CrmError (status, what; nothing personal)."""
        if token is not None:
            kwargs["_request_auth"] = {
                "type": "oauth2",
                "in": "header",
                "key": "Authorization",
                "value": f"Bearer {token}",
            }
        try:
            return method(*args, _request_timeout=self.timeout, **kwargs)
        except _TRANSPORT_ERRORS as error:
            # Timed out or the connection dropped: the request may or may not have arrived.
            raise CrmError(f"hubspot: {type(error).__name__} on {what}", retryable=True) from None
        except Exception as error:
            # Each API package of the client has its own ApiException class.
            if not (type(error).__module__.startswith("hubspot.") and hasattr(error, "status")):
                raise
            if not error.status:
                raise CrmError(f"hubspot: no answer on {what}", retryable=True) from None
            headers = getattr(error, "headers", None) or {}
            failure = status_error("hubspot", error.status, what, headers.get("Retry-After"))
            if error.status == 409:
                # HubSpot's unique-email check names the contact that already has the address.
                found = _EXISTING_ID.search(_text(getattr(error, "body", None)))
                failure.existing_id = found.group(1) if found else None
            raise failure from None

    def find_by_email(self, email: str) -> str | None:
        """Return the id of the contact whose primary email this is, or None."""
        try:
            found = self._call(
                "contact read",
                self._contacts.basic_api.get_by_id,
                email,
                id_property="email",
                properties=["email"],
            )
        except CrmError as error:
            if error.status != 404:
                raise
            return None
        return found.id

    def _find_by_phone(self, phone: str) -> str | None:
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": "phone", "operator": "EQ", "value": phone}]}
            ],
            "properties": ["phone"],
            "limit": 1,
        }
        page = self._call("contact search", self._contacts.search_api.do_search, body)
        return page.results[0].id if page.results else None

    def owner_id(self, email: str) -> str | None:
        """Return the HubSpot owner id of the user with this email, or None."""
        page = self._call("owner lookup", self._owners.get_page, email=email, limit=1)
        return page.results[0].id if page.results else None

    def _properties(self, person: Person) -> dict[str, Any]:
        properties = {name: value for name, value in person.fields.items() if value is not None}
        if person.email:
            # HubSpot's identity for contacts, whatever the mapping: it keeps it unique.
            properties["email"] = person.email
        if person.owner_email:
            if person.owner_email not in self._owner_ids:
                self._owner_ids[person.owner_email] = self.owner_id(person.owner_email)
            owner = self._owner_ids[person.owner_email]
            if owner:
                properties["hubspot_owner_id"] = owner
        return properties

    def upsert_person(self, person: Person, known_id: str | None) -> str:
        """Update the known contact; else create one, updating instead the one HubSpot holds.

        With an email HubSpot's unique-email check finds that one; without, a phone search.
        """
        properties = self._properties(person)
        if known_id:
            self._update(known_id, properties)
            return known_id
        if not person.email:
            # A different address is a different person, whatever the phone (a switchboard
            # number is shared): phone identifies only leads without email, as in merging.
            found = self._find_by_phone(person.phone) if person.phone else None
            if found is not None:
                self._update(found, properties)
                return found
            return self._create(properties, again=False).id
        try:
            return self._create(properties, again=True).id
        except CrmError as error:
            if error.status != 409:
                raise
            existing = error.existing_id or self.find_by_email(person.email)
            if existing is None:
                raise
        self._update(existing, properties)
        return existing

    def _create(self, properties: dict[str, Any], *, again: bool) -> Any:
        """Create the contact; with again, once more at once after a 5xx or a timeout.

        Safe for a contact with email only: should the first create have landed, HubSpot's
        unique-email check answers the second with 409 and the contact's id.
        """
        try:
            return self._call(
                "contact create", self._contacts.basic_api.create, {"properties": properties}
            )
        except CrmError as error:
            if not (again and error.retryable and error.status != 429):
                raise
        return self._call(
            "contact create", self._contacts.basic_api.create, {"properties": properties}
        )

    def _update(self, contact_id: str, properties: dict[str, Any]) -> None:
        try:
            self._call(
                "contact update",
                self._contacts.basic_api.update,
                contact_id,
                {"properties": properties},
            )
        except CrmError as error:
            if error.status == 404:
                # Deleted in HubSpot since: the next attempt looks the person up again.
                raise CrmError(
                    "hubspot: 404 on contact update: the contact was deleted in HubSpot",
                    retryable=True,
                    status=404,
                ) from None
            raise

    def attach_context(self, record_id: str, note: Note) -> None:
        """Create a note with the context, associated to the contact."""
        body = {
            "properties": {
                "hs_timestamp": note.at.isoformat().replace("+00:00", "Z"),
                "hs_note_body": f"<h3>{_html(note.title)}</h3><pre>{_html(note.body)}</pre>",
            },
            "associations": [
                {
                    "to": {"id": record_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": NOTE_TO_CONTACT,
                        }
                    ],
                }
            ],
        }
        self._call("note create", self._notes.create, body)

    def _search_since(
        self, what: str, api: Any, stamp: str, since: int, properties: list[str], limit: int
    ) -> list[Any]:
        body: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": stamp, "operator": "GTE", "value": str(since)}]}
            ],
            "sorts": [{"propertyName": stamp, "direction": "ASCENDING"}],
            "properties": [stamp, *properties],
            "limit": min(limit, 100),
        }
        results: list[Any] = []
        while len(results) < limit:
            page = self._call(what, api.do_search, body)
            results.extend(page.results or [])
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                break
            body["after"] = after
        return results

    def _deal_contacts(self, deal_ids: list[str]) -> dict[str, list[str]]:
        """Return the contact ids associated to each deal, in batch reads (not one per deal)."""
        found: dict[str, list[str]] = {deal_id: [] for deal_id in deal_ids}
        pending: list[dict[str, str]] = [{"id": deal_id} for deal_id in deal_ids]
        while pending:
            batch, pending = pending[:ASSOCIATION_BATCH], pending[ASSOCIATION_BATCH:]
            page = self._call(
                "deal associations",
                self._associations.get_page,
                "deals",
                "contacts",
                {"inputs": batch},
            )
            # A deal without contacts comes back among the answer's errors (a 207): none.
            for result in page.results or []:
                deal_id = str(result._from.id)
                found.setdefault(deal_id, []).extend(str(to.to_object_id) for to in result.to or [])
                after = result.paging.next.after if result.paging and result.paging.next else None
                if after:
                    pending.append({"id": deal_id, "after": after})
        return found

    def changes_since(self, cursor: str | None, limit: int) -> ChangePage:
        """Return lead-status and deal-stage outcomes changed at or after the cursor."""
        contacts_since, deals_since = _cursor_parts(cursor)
        outcomes: list[Outcome] = []
        contacts = self._search_since(
            "contact changes",
            self._contacts.search_api,
            "lastmodifieddate",
            contacts_since,
            ["hs_lead_status"],
            limit,
        )
        for contact in contacts:
            contacts_since = max(
                contacts_since, _millis(contact.properties.get("lastmodifieddate"))
            )
            value = contact.properties.get("hs_lead_status")
            if value in LEAD_STATUS:
                reason = "Other" if LEAD_STATUS[value] == LeadStatus.DISQUALIFIED else None
                if LEAD_STATUS[value] == LeadStatus.LOST:
                    reason = "Bad timing (HubSpot lead status)"
                outcomes.append(
                    Outcome(contact.id, LEAD_STATUS[value], reason=reason, source=f"lead:{value}")
                )
        deals = self._search_since(
            "deal changes",
            self._deals,
            "hs_lastmodifieddate",
            deals_since,
            ["dealstage", "amount", "closed_lost_reason"],
            limit,
        )
        closing = []
        for deal in deals:
            deals_since = max(deals_since, _millis(deal.properties.get("hs_lastmodifieddate")))
            outcome = deal_outcome(deal.properties)
            if outcome is not None:
                closing.append((str(deal.id), outcome))
        contacts_of = self._deal_contacts([deal_id for deal_id, _ in closing]) if closing else {}
        for deal_id, outcome in closing:
            for contact_id in contacts_of.get(deal_id, []):
                outcomes.append(Outcome(contact_id, *outcome))
        more = len(contacts) >= limit or len(deals) >= limit
        return ChangePage(outcomes, f"{contacts_since},{deals_since}", more)

    def check(self) -> str:
        """Read one owner: proves the token and its CRM scopes."""
        self._call("connection test", self._owners.get_page, limit=1)
        return "HubSpot account reached"


def deal_outcome(
    properties: dict[str, Any],
) -> tuple[LeadStatus, str | None, Decimal | None, str] | None:
    """Return (status, reason, value, source) of a deal's properties, or None if unmapped."""
    stage = properties.get("dealstage")
    status = DEAL_STAGE.get(stage or "")
    if status is None:
        return None
    value = None
    if status == LeadStatus.WON:
        try:
            value = Decimal(str(properties.get("amount") or "0"))
        except InvalidOperation:
            value = Decimal(0)
    reason = None
    if status == LeadStatus.LOST:
        reason = properties.get("closed_lost_reason") or "Closed lost in HubSpot"
    return status, reason, value, f"deal:{stage}:{value or ''}"


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body or "")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
