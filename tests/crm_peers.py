"""Loopback CRM servers for tests and benchmarks, answering as the CRMs' API references say.

The live CRMs cannot be reached from here, so each fake implements the endpoints its
connector uses, with the request shapes, auth headers, pagination and error bodies of
the contract fixtures in tests/contracts/. Faults can be scripted (``fail_next``) or
drawn at random (``fault_rates``): a 500, a 429 with Retry-After, a 401, or a timeout
*after the write* (the record is stored, then the answer never comes in time), which is
what tests a connector's idempotency. Every request is recorded. Loopback only; every
wait is bounded. HubSpot and Salesforce also answer their OAuth token endpoint: refresh
tokens the test adds are exchanged for access tokens, which can be made to lapse.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

CONTRACTS = Path(__file__).resolve().parent / "contracts"
LOOPBACK = "127.0.0.1"


def contract(name: str) -> dict[str, Any]:
    """Return the contract fixtures of one CRM (tests/contracts/NAME.json)."""
    return json.loads((CONTRACTS / f"{name}.json").read_text())


class Reply(Exception):
    """Answer the request with this status, body and headers (raised by routes)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FormBody(dict[str, str]):
    """A form-encoded (application/x-www-form-urlencoded) request body, field by field."""


class Recorded:
    """One request the fake received."""

    def __init__(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ):
        self.method, self.path, self.query, self.headers, self.body = (
            method,
            path,
            query,
            headers,
            body,
        )


class FakeCrm:
    """A threaded HTTP server on loopback with fault injection; subclasses add the routes."""

    name = "crm"

    def __init__(self, *, seed: int = 7, hang_seconds: float = 2.0):
        self.contract = contract(self.name)
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        # Scripted faults, consumed one per matching request: "500", "429", "401", "timeout".
        self.fail_next: list[str] = []
        # Only requests whose "METHOD path" starts with this take scripted faults ("" = all).
        self.fail_only: str = ""
        # Random faults: {"500": 0.05, "429": 0.05, "timeout": 0.02}.
        self.fault_rates: dict[str, float] = {}
        self.faults_served: dict[str, int] = {}
        self.hang_seconds = hang_seconds
        self.rng = random.Random(seed)
        self.valid_tokens: set[str] = set()
        # Called with each request before it is answered (a test looks at leadbridge then).
        self.on_request: Callable[[Recorded], None] | None = None
        # OAuth: the refresh tokens the CRM knows (-> the app's client id and secret), the
        # access tokens it issued (-> when they lapse, None: when revoked), how long one
        # lasts (None: the CRM does not say), and whether a refresh hands out a new one.
        self.refresh_tokens: dict[str, tuple[str, str]] = {}
        self.issued: dict[str, float | None] = {}
        self.access_lifetime: float | None = None
        self.rotate_refresh_tokens = False
        self._next_id = 500
        owner = self

        class Handler(BaseHTTPRequestHandler):
            # Kept-alive connections, as the CRMs keep them, answered at once: with Nagle's
            # algorithm on, the body (a second write) waits for the client to acknowledge the
            # headers, which it delays, so every call but a connection's first took 40 ms more.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def _handle(self) -> None:
                owner._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        """Return the base URL the connector is pointed at."""
        return f"http://{LOOPBACK}:{self.server.server_address[1]}"

    def new_id(self) -> str:
        """Return a fresh numeric record id, as string."""
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def fixture(self, name: str) -> dict[str, Any]:
        """Return a copy of a contract response body."""
        return json.loads(json.dumps(self.contract[name]["response"]["body"]))

    def error(self, name: str) -> Reply:
        """Return the documented error reply of contract entry name."""
        response = self.contract[name]["response"]
        return Reply(response["status"], self.fixture(name), dict(response.get("headers", {})))

    token_path = ""

    def add_refresh_token(self, refresh_token: str, client_id: str, client_secret: str) -> None:
        """Let this refresh token, with this app's client id and secret, obtain access tokens."""
        with self.lock:
            self.refresh_tokens[refresh_token] = (client_id, client_secret)

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far lapse (as a session timeout does)."""
        with self.lock:
            self.valid_tokens -= set(self.issued)

    def bearer_valid(self, headers: Any) -> bool:
        """Tell whether the request's Bearer token is valid (and, if issued here, not lapsed)."""
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        with self.lock:
            lapses = self.issued.get(token)
            if lapses is not None and time.time() >= lapses:
                return False
            return scheme == "Bearer" and token in self.valid_tokens

    def grant(self, body: Any) -> tuple[str, str]:
        """Check a refresh_token grant; return (access token, refresh token) or raise its error."""
        if not isinstance(body, FormBody) or body.get("grant_type") != "refresh_token":
            raise self.error("token_unsupported")
        with self.lock:
            client = self.refresh_tokens.get(body.get("refresh_token", ""))
            if client is None:
                raise self.error("token_refused")
            if client != (body.get("client_id"), body.get("client_secret")):
                raise self.error("token_bad_client")
            self._next_id += 1
            access = f"{self.name}-access-{self._next_id}"
            lifetime = self.access_lifetime
            self.issued[access] = None if lifetime is None else time.time() + lifetime
            self.valid_tokens.add(access)
            refresh = body["refresh_token"]
            if self.rotate_refresh_tokens:
                del self.refresh_tokens[refresh]
                refresh = f"{self.name}-refresh-{self._next_id}"
                self.refresh_tokens[refresh] = client
            return access, refresh

    # What subclasses implement.
    def authorized(self, headers: Any, query: dict[str, list[str]]) -> bool:
        """Tell whether the request carries a valid credential."""
        raise NotImplementedError

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        """Handle one request; raise Reply with the answer."""
        raise NotImplementedError

    def _scripted(self, request: str) -> bool:
        """Say whether "METHOD path" takes scripted faults (fail_only ending in $: exactly)."""
        if self.fail_only.endswith("$"):
            return request == self.fail_only[:-1]
        return request.startswith(self.fail_only)

    def _fault(self, method: str, path: str) -> str | None:
        with self.lock:
            if self.fail_next and self._scripted(f"{method} {path}"):
                return self.fail_next.pop(0)
            draw = self.rng.random()
            for fault, rate in self.fault_rates.items():
                if draw < rate:
                    return fault
                draw -= rate
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body: Any
        if (handler.headers.get("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            body = FormBody(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        recorded = Recorded(handler.command, path, query, handler.headers, body)
        with self.lock:
            self.requests.append(recorded)
        if self.on_request is not None:
            self.on_request(recorded)
        fault = self._fault(handler.command, path)
        if fault:
            with self.lock:
                self.faults_served[fault] = self.faults_served.get(fault, 0) + 1
        try:
            if fault == "500":
                raise self.error("server_error")
            if fault == "429":
                raise self.error("rate_limited")
            public = handler.command == "POST" and path == self.token_path
            if fault == "401" or not (public or self.authorized(handler.headers, query)):
                raise self.error("unauthorized")
            self.route(handler.command, path, query, body)
            raise Reply(500, {"error": "route gave no answer"})
        except Reply as reply:
            if fault == "timeout":
                # The write above happened; the answer comes too late for the client.
                time.sleep(self.hang_seconds)
            self._answer(handler, reply)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json;charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except OSError:
            pass  # the client gave up (a timeout fault): nothing to answer

    def calls(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        """Return the recorded requests with this method and path prefix."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(prefix)
            ]


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _millis(value: Any) -> int:
    if value in (None, ""):
        return 0
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpot(FakeCrm):
    """HubSpot CRM v3 on loopback: contacts (unique email), notes, owners, deals, associations."""

    name = "hubspot"
    token_path = "/oauth/v1/token"

    def __init__(self, token: str = "pat-test-token", **kwargs: Any):
        super().__init__(**kwargs)
        self.valid_tokens = {token}
        self.access_lifetime = 1800.0  # HubSpot's access tokens last 30 minutes
        self.contacts: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.deals: dict[str, dict[str, Any]] = {}
        self.owners: list[dict[str, Any]] = []
        # Associations of one deal per page of a batch read (HubSpot pages long lists too).
        self.association_page_size = 500
        # False: a 409 on create does not name the existing contact (read it by email).
        self.conflict_names_id = True
        # email -> time.perf_counter() when its contact was first written (benchmarks).
        self.created_at: dict[str, float] = {}
        self.on_create: Callable[[str], None] | None = None
        self._clock = time.time()

    def _now(self) -> float:
        # Strictly increasing: HubSpot's modification stamps have millisecond resolution.
        with self.lock:
            self._clock = max(time.time(), self._clock + 0.001)
            return self._clock

    def authorized(self, headers: Any, query: dict[str, list[str]]) -> bool:
        return self.bearer_valid(headers)

    def add_owner(self, email: str) -> str:
        """Add a HubSpot user (owner) with this email; return its owner id."""
        owner = dict(self.fixture("owners_by_email")["results"][0])
        owner.update(id=self.new_id(), email=email)
        self.owners.append(owner)
        return owner["id"]

    def _object(self, object_id: str, properties: dict[str, Any], created: float) -> dict[str, Any]:
        return {
            "id": object_id,
            "properties": {**properties, "hs_object_id": object_id},
            "createdAt": _iso(created),
            "updatedAt": properties.get("lastmodifieddate")
            or properties.get("hs_lastmodifieddate")
            or _iso(created),
            "archived": False,
        }

    def _write_contact(self, contact_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        with self.lock:
            contact = self.contacts.setdefault(
                contact_id, {"properties": {"createdate": _iso(now)}, "created": now}
            )
            contact["properties"].update(
                {k: (None if v is None else str(v)) for k, v in properties.items()}
            )
            contact["properties"]["lastmodifieddate"] = _iso(now)
            return self._object(contact_id, contact["properties"], contact["created"])

    def set_lead_status(self, contact_id: str, value: str) -> None:
        """Play a rep setting the contact's lead status in HubSpot."""
        self._write_contact(contact_id, {"hs_lead_status": value})

    def add_deal(
        self, contact_id: str, stage: str, amount: str | None = None, reason: str | None = None
    ) -> str:
        """Play a rep opening (or moving) a deal for the contact; return the deal id."""
        deal_id = self.new_id()
        self.move_deal(deal_id, stage, amount, reason, contact_id)
        return deal_id

    def move_deal(
        self,
        deal_id: str,
        stage: str,
        amount: str | None = None,
        reason: str | None = None,
        contact_id: str | None = None,
    ) -> None:
        """Set a deal's stage (and amount or lost reason)."""
        now = self._now()
        with self.lock:
            deal = self.deals.setdefault(
                deal_id, {"properties": {}, "contacts": [], "created": now}
            )
            if contact_id:
                deal["contacts"].append(contact_id)
            deal["properties"].update(
                dealstage=stage,
                amount=amount,
                closed_lost_reason=reason,
                hs_lastmodifieddate=_iso(now),
            )

    def by_email(self, email: str) -> list[str]:
        """Return the ids of contacts with this email (more than one would be a duplicate)."""
        with self.lock:
            return [i for i, c in self.contacts.items() if c["properties"].get("email") == email]

    def _search(self, records: dict[str, dict[str, Any]], body: dict[str, Any]) -> Reply:
        filters = body["filterGroups"][0]["filters"]
        with self.lock:
            items = [(i, dict(r["properties"]), r["created"]) for i, r in records.items()]
        for rule in filters:
            name, op, value = rule["propertyName"], rule["operator"], rule["value"]
            if op == "EQ":
                items = [item for item in items if item[1].get(name) == value]
            elif op == "GTE":
                items = [item for item in items if _millis(item[1].get(name)) >= int(value)]
            else:
                raise Reply(
                    400,
                    {
                        "status": "error",
                        "message": f"operator {op}",
                        "category": "VALIDATION_ERROR",
                    },
                )
        for sort in body.get("sorts", []):
            items.sort(key=lambda item: (_millis(item[1].get(sort["propertyName"])), int(item[0])))
        start = int(body.get("after") or 0)
        limit = int(body.get("limit", 10))
        page = items[start : start + limit]
        wanted = set(body.get("properties") or [])
        answer: dict[str, Any] = {
            "total": len(items),
            "results": [
                self._object(i, {k: v for k, v in props.items() if k in wanted}, created)
                for i, props, created in page
            ],
        }
        if start + limit < len(items):
            after = str(start + limit)
            answer["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        raise Reply(200, answer)

    def _deal_contacts(self, body: dict[str, Any]) -> Reply:
        """Answer an associations batch read: each deal's contacts, a page at a time."""
        results, errors = [], []
        for wanted in body["inputs"]:
            deal_id = wanted["id"]
            with self.lock:
                contacts = list(self.deals.get(deal_id, {}).get("contacts", []))
            if not contacts:
                error = self.fixture("deal_contacts_none")["errors"][0]
                error["message"] = f"No contact is associated with deal {deal_id}."
                error["context"] = {"fromObjectId": [deal_id], "toObjectType": ["contact"]}
                errors.append(error)
                continue
            start = int(wanted.get("after") or 0)
            end = start + self.association_page_size
            result: dict[str, Any] = {
                "from": {"id": deal_id},
                "to": [
                    {
                        "toObjectId": int(c),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}
                        ],
                    }
                    for c in contacts[start:end]
                ],
            }
            if end < len(contacts):
                result["paging"] = {"next": {"after": str(end), "link": None}}
            results.append(result)
        answer = self.fixture("deal_contacts")
        answer["results"] = results
        if errors:
            answer |= {"errors": errors, "numErrors": len(errors)}
        raise Reply(207 if errors else 200, answer)

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        base = "/crm/v3/objects/contacts"
        if method == "POST" and path == self.token_path:
            access, refresh = self.grant(body)
            answer = self.fixture("token_refresh")
            answer.update(access_token=access, refresh_token=refresh)
            answer["expires_in"] = int(self.access_lifetime or 1800)
            raise Reply(200, answer)
        if method == "POST" and path == base:
            properties = body["properties"]
            email = properties.get("email")
            if email and self.by_email(email):
                reply = self.error("contact_exists")
                reply.body["message"] = "Contact already exists."
                if self.conflict_names_id:
                    reply.body["message"] += f" Existing ID: {self.by_email(email)[0]}"
                raise reply
            contact_id = self.new_id()
            created = self._write_contact(contact_id, properties)
            if email:
                with self.lock:
                    self.created_at.setdefault(email, time.perf_counter())
            raise Reply(201, created)
        if method == "POST" and path == f"{base}/search":
            self._search(self.contacts, body)
        if path.startswith(f"{base}/"):
            key = path[len(base) + 1 :]
            if query.get("idProperty") == ["email"]:
                found = self.by_email(key)
                key = found[0] if found else ""
            if key not in self.contacts:
                raise self.error("contact_not_found")
            if method == "GET":
                with self.lock:
                    contact = self.contacts[key]
                    raise Reply(
                        200, self._object(key, dict(contact["properties"]), contact["created"])
                    )
            if method == "PATCH":
                raise Reply(200, self._write_contact(key, body["properties"]))
        if method == "POST" and path == "/crm/v3/objects/notes":
            note_id = self.new_id()
            targets = [a["to"]["id"] for a in body.get("associations", [])]
            with self.lock:
                self.notes[note_id] = {"properties": body["properties"], "contacts": targets}
            raise Reply(201, self._object(note_id, body["properties"], self._now()))
        if method == "GET" and path == "/crm/v3/owners/":
            email = (query.get("email") or [None])[0]
            raise Reply(
                200, {"results": [o for o in self.owners if email in (None, o["email"])][:1]}
            )
        if method == "POST" and path == "/crm/v3/objects/deals/search":
            self._search(self.deals, body)
        if method == "POST" and path == "/crm/v4/associations/deals/contacts/batch/read":
            self._deal_contacts(body)
        raise Reply(
            404,
            {
                "status": "error",
                "message": f"no route {method} {path}",
                "category": "OBJECT_NOT_FOUND",
            },
        )


_SOQL_LITERAL = r"'((?:[^'\\]|\\.)*)'"


def _soql_value(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _sf_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class FakeSalesforce(FakeCrm):
    """Salesforce's REST API on loopback: SOQL on Lead/User/Campaign/Opportunity, sObjects."""

    name = "salesforce"
    prefix = "/services/data/v59.0"
    token_path = "/services/oauth2/token"

    def __init__(self, token: str = "00Dtest!session", *, page_size: int = 2000, **kwargs: Any):
        super().__init__(**kwargs)
        self.valid_tokens = {token}
        self.page_size = page_size
        self.sobjects: dict[str, dict[str, dict[str, Any]]] = {
            name: {}
            for name in ("Lead", "User", "Campaign", "CampaignMember", "Task", "Opportunity")
        }
        self.created_at: dict[str, float] = {}
        self._pages: dict[str, list[dict[str, Any]]] = {}
        self._clock = time.time()

    def _now(self) -> float:
        with self.lock:
            self._clock = max(time.time(), self._clock + 0.001)
            return self._clock

    def authorized(self, headers: Any, query: dict[str, list[str]]) -> bool:
        return self.bearer_valid(headers)

    def sf_id(self, prefix: str) -> str:
        """Return a new 18-character record id with the object's key prefix."""
        return f"{prefix}5g{int(self.new_id()):013d}"

    def write(self, sobject: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or change a record, stamping LastModifiedDate."""
        with self.lock:
            record = self.sobjects[sobject].setdefault(
                record_id, {"Id": record_id, "CreatedDate": _sf_time(self._now())}
            )
            record.update(fields)
            record["LastModifiedDate"] = _sf_time(self._now())
            return record

    def leads_by_email(self, email: str) -> list[str]:
        """Return the ids of Leads with this email (more than one would be a duplicate)."""
        with self.lock:
            return [i for i, r in self.sobjects["Lead"].items() if r.get("Email") == email]

    def convert(self, lead_id: str, stage: str, won: bool, amount: float | None = None) -> str:
        """Play a rep converting the Lead into a closed Opportunity; return its id."""
        opportunity = self.sf_id("006")
        self.write(
            "Opportunity",
            opportunity,
            {"StageName": stage, "IsClosed": True, "IsWon": won, "Amount": amount},
        )
        self.write(
            "Lead",
            lead_id,
            {
                "IsConverted": True,
                "Status": "Closed - Converted",
                "ConvertedOpportunityId": opportunity,
            },
        )
        return opportunity

    def _records(
        self, sobject: str, fields: list[str], rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [
            {
                "attributes": {
                    "type": sobject,
                    "url": f"{self.prefix}/sobjects/{sobject}/{row['Id']}",
                },
                **{field: row.get(field) for field in fields},
            }
            for row in rows
        ]

    def _page(self, sobject: str, fields: list[str], rows: list[dict[str, Any]]) -> Reply:
        records = self._records(sobject, fields, rows)
        first, rest = records[: self.page_size], records[self.page_size :]
        answer: dict[str, Any] = {"totalSize": len(records), "done": not rest, "records": first}
        if rest:
            locator = f"01gD{self.new_id()}"
            with self.lock:
                self._pages[locator] = rest
            answer["nextRecordsUrl"] = f"{self.prefix}/query/{locator}-{self.page_size}"
        raise Reply(200, answer)

    def _soql(self, soql: str) -> Reply:
        match = re.match(
            r"SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: ORDER BY (.+?))?(?: LIMIT (\d+))?$", soql
        )
        if match is None:
            raise Reply(400, [{"message": "unexpected token", "errorCode": "MALFORMED_QUERY"}])
        fields = [f.strip() for f in match.group(1).split(",")]
        sobject, where, order, limit = (
            match.group(2),
            match.group(3) or "",
            match.group(4),
            match.group(5),
        )
        with self.lock:
            rows = [dict(r) for r in self.sobjects[sobject].values()]
        for clause in re.split(r" AND ", where) if where else []:
            if m := re.fullmatch(rf"(\w+) = {_SOQL_LITERAL}", clause):
                rows = [r for r in rows if r.get(m.group(1)) == _soql_value(m.group(2))]
            elif m := re.fullmatch(r"(\w+) = (true|false)", clause):
                rows = [r for r in rows if bool(r.get(m.group(1))) == (m.group(2) == "true")]
            elif m := re.fullmatch(r"(\w+) >= (\S+)", clause):
                rows = [
                    r
                    for r in rows
                    if _millis(r.get(m.group(1), "").replace("+0000", "Z")) >= _millis(m.group(2))
                ]
            elif m := re.fullmatch(r"(\w+) IN \((.*)\)", clause):
                wanted = {_soql_value(v) for v in re.findall(_SOQL_LITERAL, m.group(2))}
                rows = [r for r in rows if r.get(m.group(1)) in wanted]
            else:
                raise Reply(
                    400, [{"message": f"unexpected {clause}", "errorCode": "MALFORMED_QUERY"}]
                )
        if order:
            keys = [k.strip() for k in order.split(",")]
            rows.sort(key=lambda r: tuple(str(r.get(k) or "") for k in keys))
        if limit:
            rows = rows[: int(limit)]
        self._page(sobject, fields, rows)
        raise AssertionError("unreachable")

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        if method == "POST" and path == self.token_path:
            access, _ = self.grant(body)  # Salesforce keeps the refresh token as it is
            answer = self.fixture("token_refresh")
            answer.update(access_token=access, instance_url=self.url)
            answer["issued_at"] = str(int(time.time() * 1000))
            raise Reply(200, answer)
        if not path.startswith(self.prefix):
            raise self.error("not_found")
        rest = path[len(self.prefix) :]
        if method == "GET" and rest == "/query/":
            self._soql(query["q"][0])
        if method == "GET" and rest.startswith("/query/"):
            locator, _, offset = rest[len("/query/") :].rpartition("-")
            with self.lock:
                remaining = self._pages.pop(locator, None)
            if remaining is None:
                raise Reply(
                    400,
                    [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
                )
            first, later = remaining[: self.page_size], remaining[self.page_size :]
            answer: dict[str, Any] = {
                "totalSize": len(remaining),
                "done": not later,
                "records": first,
            }
            if later:
                with self.lock:
                    self._pages[locator] = later
                answer["nextRecordsUrl"] = (
                    f"{self.prefix}/query/{locator}-{int(offset) + self.page_size}"
                )
            raise Reply(200, answer)
        if method == "GET" and rest == "/limits/":
            raise Reply(200, self.fixture("limits"))
        if m := re.fullmatch(r"/sobjects/(\w+)/(\w*)", rest):
            sobject, record_id = m.group(1), m.group(2)
            if sobject not in self.sobjects:
                raise self.error("not_found")
            if method == "POST" and not record_id:
                if sobject == "CampaignMember":
                    with self.lock:
                        members = list(self.sobjects["CampaignMember"].values())
                    if any(
                        x["CampaignId"] == body["CampaignId"] and x["LeadId"] == body["LeadId"]
                        for x in members
                    ):
                        raise self.error("campaign_member_duplicate")
                prefix = {"Lead": "00Q", "Task": "00T", "CampaignMember": "00v"}.get(sobject, "001")
                new = self.sf_id(prefix)
                self.write(sobject, new, body)
                if sobject == "Lead" and body.get("Email"):
                    with self.lock:
                        self.created_at.setdefault(body["Email"], time.perf_counter())
                raise Reply(201, {"id": new, "success": True, "errors": []})
            if method == "PATCH" and record_id in self.sobjects[sobject]:
                self.write(sobject, record_id, body)
                raise Reply(204, None)
            raise self.error("not_found")
        raise self.error("not_found")


def _pd_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S")


class FakePipedrive(FakeCrm):
    """Pipedrive's REST API v1 on loopback: persons, their search, deals, notes, users, recents."""

    name = "pipedrive"

    def __init__(self, token: str = "pd-test-token", *, page_size: int = 100, **kwargs: Any):
        super().__init__(**kwargs)
        self.valid_tokens = {token}
        self.page_size = page_size
        self.persons: dict[int, dict[str, Any]] = {}
        self.deals: dict[int, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []
        self.users: list[dict[str, Any]] = []

    def authorized(self, headers: Any, query: dict[str, list[str]]) -> bool:
        return (query.get("api_token") or [""])[0] in self.valid_tokens

    def add_user(self, email: str) -> int:
        """Add a Pipedrive user; return its id."""
        user_id = int(self.new_id())
        self.users.append({"id": user_id, "email": email, "name": email, "active_flag": True})
        return user_id

    def by_email(self, email: str) -> list[int]:
        """Return the ids of persons with this email (more than one would be a duplicate)."""
        with self.lock:
            return [
                i
                for i, p in self.persons.items()
                if email in [e["value"] for e in p.get("email", [])]
            ]

    def close_deal(
        self, deal_id: int, status: str, value: float = 0, reason: str | None = None
    ) -> None:
        """Play a rep winning or losing a deal (Pipedrive stamps update_time, in seconds)."""
        with self.lock:
            self.deals[deal_id].update(
                status=status, value=value, lost_reason=reason, update_time=_pd_time(time.time())
            )

    def _ok(self, data: Any, status: int = 200, **extra: Any) -> Reply:
        return Reply(status, {"success": True, "data": data, **extra})

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        one = {k: v[0] for k, v in query.items()}
        if method == "GET" and path == "/v1/persons/search":
            field = one.get("fields", "email")
            with self.lock:
                hits = [
                    p
                    for p in self.persons.values()
                    if one["term"] in [e["value"] for e in p.get(field, [])]
                ]
            items = [
                {
                    "result_score": 1.0,
                    "item": {"id": p["id"], "type": "person", "name": p.get("name")},
                }
                for p in hits
            ]
            raise self._ok({"items": items[: int(one.get("limit", 10))]})
        if method == "POST" and path == "/v1/persons":
            person_id = int(self.new_id())
            with self.lock:
                self.persons[person_id] = {"id": person_id, **body}
            raise self._ok({"id": person_id, "name": body.get("name")}, 201)
        if m := re.fullmatch(r"/v1/persons/(\d+)", path):
            person_id = int(m.group(1))
            if method == "PUT" and person_id in self.persons:
                with self.lock:
                    self.persons[person_id].update(body)
                raise self._ok({"id": person_id})
            raise self.error("not_found")
        if m := re.fullmatch(r"/v1/persons/(\d+)/deals", path):
            with self.lock:
                found = [d for d in self.deals.values() if d["person_id"] == int(m.group(1))]
            raise self._ok(found or None)
        if method == "POST" and path == "/v1/deals":
            deal_id = int(self.new_id())
            with self.lock:
                self.deals[deal_id] = {
                    "id": deal_id,
                    "status": "open",
                    "value": 0,
                    "update_time": _pd_time(time.time()),
                    **body,
                }
            raise self._ok({"id": deal_id, "status": "open"}, 201)
        if method == "POST" and path == "/v1/notes":
            with self.lock:
                self.notes.append(body)
            raise self._ok({"id": len(self.notes), **body}, 201)
        if method == "GET" and path == "/v1/users/find":
            raise self._ok([u for u in self.users if u["email"] == one.get("term")])
        if method == "GET" and path == "/v1/users/me":
            raise self._ok(self.fixture("users_me")["data"])
        if method == "GET" and path == "/v1/recents":
            since = one["since_timestamp"]
            with self.lock:
                changed = sorted(
                    (d for d in self.deals.values() if d["update_time"] >= since),
                    key=lambda d: (d["update_time"], d["id"]),
                )
            start, size = int(one.get("start", 0)), min(int(one.get("limit", 100)), self.page_size)
            page = changed[start : start + size]
            more = start + size < len(changed)
            pagination: dict[str, Any] = {
                "start": start,
                "limit": size,
                "more_items_in_collection": more,
            }
            if more:
                pagination["next_start"] = start + size
            raise self._ok(
                [{"item": "deal", "id": d["id"], "data": dict(d)} for d in page],
                additional_data={
                    "since_timestamp": since,
                    "pagination": pagination,
                    "last_timestamp_on_page": page[-1]["update_time"] if page else since,
                },
            )
        raise self.error("not_found")
