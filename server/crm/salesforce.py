"""Salesforce through simple-salesforce (REST API): Leads, Tasks, campaign members, outcomes.

The person is a Lead, found with SOQL by email (by phone for a lead without email, as
leadbridge's own identity rule has it); SOQL reads what was just written, so a retry
after a timeout whose create reached Salesforce finds that Lead and updates it. The
context is a completed Task on the Lead (WhoId); LeadSource is "Trade Show"; the event's
campaign (a Campaign named as the event's campaign code) gets the Lead as a member; the
owner is the active User with the rep's (mapped) email. Salesforce has no simple
webhook, so outcomes are polled: Leads modified since the cursor (Status, IsConverted)
and Opportunities modified since it (won with the amount, lost), paged by
nextRecordsUrl.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.format import format_soql

from server.crm.base import ChangePage, CrmError, Note, Outcome, Person, status_error
from server.crm.oauth import RefreshingToken
from server.leads.models import LeadStatus

API_VERSION = "59.0"
DEFAULT_FIELDS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Title",
    "country": "Country",
    "lead_source": "LeadSource",
    "campaign": "",  # a campaign is a membership in Salesforce, not a field
}
# Lead Status values of a new org's picklist -> leadbridge outcomes.
LEAD_STATUS = {
    "Working - Contacted": LeadStatus.CONTACTED,
    "Closed - Converted": LeadStatus.QUALIFIED,
    "Closed - Not Converted": LeadStatus.DISQUALIFIED,
}
# Salesforce answers a spent API allowance with 403 REQUEST_LIMIT_EXCEEDED: wait, retry.
_LIMIT_CODES = ("REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW")
_TRANSPORT_ERRORS = (requests.RequestException, OSError)


class _PlainHttpForLoopback(HTTPAdapter):
    """Send simple-salesforce's https:// URLs as given by an http:// base URL (a test server).

    simple-salesforce builds every URL as https://<instance>; a sandbox or test server
    named with http:// is reached as named. Also puts a timeout on every request (the
    client's own calls take none).
    """

    def __init__(self, timeout: float, plain: bool):
        super().__init__(max_retries=0)
        self.timeout = timeout
        self.plain = plain

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.plain and request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def token_url(base_url: str | None) -> str:
    """Return the OAuth token endpoint of the login or My Domain address base_url."""
    if not base_url:
        raise CrmError("salesforce: give the org's address (My Domain URL)", retryable=False)
    return f"{base_url.rstrip('/')}/services/oauth2/token"


def _soql_time(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _millis(value: str | None) -> int:
    if not value:
        return 0
    # Salesforce writes 2026-12-03T12:00:00.000+0000.
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return int(datetime.fromisoformat(text).timestamp() * 1000)


class SalesforceConnector:
    """One Salesforce org, reached with an access token (or session id) or a refresh token."""

    kind = "salesforce"

    def __init__(
        self, token: str | RefreshingToken, base_url: str | None = None, timeout: float = 10.0
    ):
        if not base_url:
            raise CrmError("salesforce: give the org's address (My Domain URL)", retryable=False)
        self.session = requests.Session()
        adapter = _PlainHttpForLoopback(timeout, urlsplit(base_url).scheme == "http")
        self.session.mount("https://", adapter)
        self.base_url = base_url
        # With a refresh token, the client is made for each access token it obtains (and the
        # instance the token answer names); a plain token makes it once.
        self.auth = token if isinstance(token, RefreshingToken) else None
        self._sf: tuple[str, Salesforce] | None = None
        if isinstance(token, str):
            self._sf = (token, self._client(token, base_url))
        # Rep email -> User Id (or None); campaign name -> Campaign Id (or None).
        self._users: dict[str, str | None] = {}
        self._campaigns: dict[str, str | None] = {}

    def _client(self, token: str, instance_url: str) -> Salesforce:
        return Salesforce(
            instance_url=instance_url, session_id=token, version=API_VERSION, session=self.session
        )

    def _current(self) -> tuple[str, Salesforce]:
        """Return the access token to call with and the client made for it."""
        if self.auth is None:
            assert self._sf is not None
            return self._sf
        token = self.auth.current()
        kept = self._sf
        if kept is None or kept[0] != token:
            instance = self.auth.answer.get("instance_url") or self.base_url
            if not isinstance(instance, str) or not self.auth.instance_allowed(instance):
                raise CrmError(
                    "salesforce: the token answer named an instance address that is refused",
                    retryable=False,
                )
            kept = (token, self._client(token, instance))
            self._sf = kept
        return kept

    def _call(self, what: str, call: Callable[[Salesforce], Any]) -> Any:
        """Call the client; after a 401 with a refresh token, renew the token and call once more."""
        token, client = self._current()
        try:
            return self._call_once(what, call, client)
        except CrmError as error:
            if error.status != 401 or self.auth is None:
                raise
        # The session expired (INVALID_SESSION_ID); a 401 means nothing was done.
        self.auth.refresh(token)
        return self._call_once(what, call, self._current()[1])

    def _call_once(self, what: str, call: Callable[[Salesforce], Any], client: Salesforce) -> Any:
        try:
            return call(client)
        except SalesforceError as error:
            codes = _error_codes(error.content)
            if error.status == 403 and set(codes) & set(_LIMIT_CODES):
                raise CrmError(
                    f"salesforce: 403 {codes[0]} on {what}", retryable=True, status=403
                ) from None
            failure = status_error("salesforce", error.status, what)
            if codes and error.status not in (401, 403):
                failure = CrmError(
                    f"{failure} ({codes[0]})", retryable=failure.retryable, status=error.status
                )
            raise failure from None
        except _TRANSPORT_ERRORS as error:
            raise CrmError(
                f"salesforce: {type(error).__name__} on {what}", retryable=True
            ) from None

    def _query(self, what: str, soql: str) -> list[dict[str, Any]]:
        return self._call(what, lambda sf: sf.query(soql))["records"]

    def _find(self, person: Person, known_id: str | None) -> str | None:
        if known_id:
            return known_id
        if person.email:
            soql = format_soql(
                "SELECT Id FROM Lead WHERE Email = {} AND IsConverted = false "
                "ORDER BY CreatedDate LIMIT 1",
                person.email,
            )
        elif person.phone:
            soql = format_soql(
                "SELECT Id FROM Lead WHERE Phone = {} AND IsConverted = false "
                "ORDER BY CreatedDate LIMIT 1",
                person.phone,
            )
        else:
            return None
        found = self._query("lead query", soql)
        return found[0]["Id"] if found else None

    def _user_id(self, email: str) -> str | None:
        if email not in self._users:
            soql = format_soql(
                "SELECT Id FROM User WHERE Email = {} AND IsActive = true LIMIT 1", email
            )
            found = self._query("user query", soql)
            self._users[email] = found[0]["Id"] if found else None
        return self._users[email]

    def _campaign_id(self, name: str) -> str | None:
        if name not in self._campaigns:
            soql = format_soql("SELECT Id FROM Campaign WHERE Name = {} LIMIT 1", name)
            found = self._query("campaign query", soql)
            self._campaigns[name] = found[0]["Id"] if found else None
        return self._campaigns[name]

    def upsert_person(self, person: Person, known_id: str | None) -> str:
        """Update the Lead (known, or found by email, else phone), else create it."""
        fields = {name: value for name, value in person.fields.items() if value is not None}
        # Salesforce requires both on a Lead; a badge often lacks one.
        fields.setdefault("LastName", "(unknown)")
        fields.setdefault("Company", "(unknown)")
        if person.owner_email:
            owner = self._user_id(person.owner_email)
            if owner:
                fields["OwnerId"] = owner
        found = self._find(person, known_id)
        if found is not None:
            self._call("lead update", lambda sf: sf.Lead.update(found, fields))
            lead_id = found
        else:
            lead_id = self._call("lead create", lambda sf: sf.Lead.create(fields))["id"]
        if person.campaign:
            self._join_campaign(lead_id, person.campaign)
        return lead_id

    def _join_campaign(self, lead_id: str, name: str) -> None:
        campaign = self._campaign_id(name)
        if campaign is None:
            return  # no Campaign of that name in the org: nothing to join
        try:
            member = {"CampaignId": campaign, "LeadId": lead_id, "Status": "Responded"}
            self._call("campaign member", lambda sf: sf.CampaignMember.create(member))
        except CrmError as error:
            if "DUPLICATE_VALUE" not in str(error):
                raise  # already a member (an update, or a retry): that is the goal

    def attach_context(self, record_id: str, note: Note) -> None:
        """Log the context as a completed Task on the Lead."""
        task = {
            "WhoId": record_id,
            "Subject": note.title[:255],
            "Description": note.body[:32000],
            "Status": "Completed",
            "ActivityDate": note.at.date().isoformat(),
            "TaskSubtype": "Task",
        }
        self._call("task create", lambda sf: sf.Task.create(task))

    def _modified_since(self, what: str, soql: str, limit: int) -> list[dict[str, Any]]:
        page = self._call(what, lambda sf: sf.query(soql))
        records = list(page["records"])
        while not page.get("done", True) and len(records) < limit:
            following = page["nextRecordsUrl"]
            page = self._call(
                what, lambda sf, url=following: sf.query_more(url, identifier_is_url=True)
            )
            records.extend(page["records"])
        return records

    def changes_since(self, cursor: str | None, limit: int) -> ChangePage:
        """Return Lead status/conversion and Opportunity outcomes modified at or after cursor."""
        leads_since, opps_since = _cursor_parts(cursor)
        outcomes: list[Outcome] = []
        leads = self._modified_since(
            "lead changes",
            "SELECT Id, Status, IsConverted, LastModifiedDate FROM Lead "
            f"WHERE LastModifiedDate >= {_soql_time(leads_since)} "
            f"ORDER BY LastModifiedDate, Id LIMIT {int(limit)}",
            limit,
        )
        for lead in leads:
            leads_since = max(leads_since, _millis(lead.get("LastModifiedDate")))
            status = (
                LeadStatus.QUALIFIED
                if lead.get("IsConverted")
                else LEAD_STATUS.get(lead.get("Status") or "")
            )
            if status is not None:
                outcomes.append(Outcome(lead["Id"], status, source=f"lead:{lead.get('Status')}"))
        opportunities = self._modified_since(
            "opportunity changes",
            "SELECT Id, StageName, IsClosed, IsWon, Amount, LastModifiedDate FROM Opportunity "
            f"WHERE LastModifiedDate >= {_soql_time(opps_since)} AND IsClosed = true "
            f"ORDER BY LastModifiedDate, Id LIMIT {int(limit)}",
            limit,
        )
        for opportunity in opportunities:
            opps_since = max(opps_since, _millis(opportunity.get("LastModifiedDate")))
        closed = {opportunity["Id"]: opportunity for opportunity in opportunities}
        if closed:
            ids = ", ".join(f"'{_soql_id(i)}'" for i in closed)
            soql = (
                "SELECT Id, ConvertedOpportunityId FROM Lead "
                f"WHERE ConvertedOpportunityId IN ({ids})"
            )
            for lead in self._query("converted leads", soql):
                outcomes.append(
                    _opportunity_outcome(lead["Id"], closed[lead["ConvertedOpportunityId"]])
                )
        more = len(leads) >= limit or len(opportunities) >= limit
        return ChangePage(outcomes, f"{leads_since},{opps_since}", more)

    def check(self) -> str:
        """Read the org's API limits: proves the token."""
        self._call("connection test", lambda sf: sf.limits())
        return "Salesforce org reached"


def _opportunity_outcome(lead_id: str, opportunity: dict[str, Any]) -> Outcome:
    stage = opportunity.get("StageName") or ""
    if opportunity.get("IsWon"):
        try:
            value = Decimal(str(opportunity.get("Amount") or 0))
        except InvalidOperation:
            value = Decimal(0)
        return Outcome(lead_id, LeadStatus.WON, value=value, source=f"opp:{stage}:{value}")
    return Outcome(lead_id, LeadStatus.LOST, reason=f"{stage} in Salesforce", source=f"opp:{stage}")


def _soql_id(value: str) -> str:
    """Return a Salesforce record id fit for a SOQL literal (ids are 15 or 18 letters/digits)."""
    if not (value.isalnum() and len(value) in (15, 18)):
        raise CrmError("salesforce: an unexpected record id in an answer", retryable=False)
    return value


def _cursor_parts(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    leads, _, opportunities = cursor.partition(",")
    return int(leads or 0), int(opportunities or leads or 0)


def _error_codes(content: Any) -> list[str]:
    if isinstance(content, list):
        return [str(item.get("errorCode")) for item in content if isinstance(item, dict)]
    return []
