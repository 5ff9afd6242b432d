"""The one small interface every CRM connector implements, and the values it trades in.

A connector upserts a person (found by normalised email, then phone; else created),
attaches the marketing context as the CRM's own note/task object, and reads the
outcomes that changed since a cursor. It raises CrmError for anything that went wrong,
saying whether a later attempt may help; its text names the CRM and the status, never
the person (it is stored on the outbox job and logged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from server.alerts.channels import DeliveryError
from server.leads.models import LeadStatus

# A CRM's throttling, timeouts and own failures pass; a 4xx otherwise means the request
# (or the credentials) must change first.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class CrmError(DeliveryError):
    """A CRM call failed; retryable says whether trying later may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: str | None = None,
    ):
        super().__init__(message, retryable=retryable, status=status, retry_after=retry_after)
        # Set on a create refused because the record exists: the CRM's id of that record.
        self.existing_id: str | None = None


def status_error(crm: str, status: int, what: str, retry_after: str | None = None) -> CrmError:
    """Return the CrmError for an HTTP status a CRM answered with."""
    if status == 401:
        return CrmError(
            f"{crm}: 401 on {what}: the credentials were refused; reconnect the CRM",
            retryable=False,
            status=status,
        )
    if status == 403:
        return CrmError(
            f"{crm}: 403 on {what}: the credentials lack a permission (scope) this needs",
            retryable=False,
            status=status,
        )
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    return CrmError(
        f"{crm}: {status} on {what}", retryable=retryable, status=status, retry_after=retry_after
    )


@dataclass(frozen=True)
class Person:
    """The CRM fields of one lead, already mapped to the CRM's own field names."""

    email: str | None
    phone: str | None
    # CRM field name -> value, for create and update (email and phone included).
    fields: dict[str, Any]
    # The CRM user who should own the record, by email (None: leave the CRM's default).
    owner_email: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Note:
    """The marketing context, as the CRM's note or task: a title and a plain-text body."""

    title: str
    body: str
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """What sales did with a CRM record, as a leadbridge status."""

    record_id: str
    status: LeadStatus
    reason: str | None = None
    value: Decimal | None = None
    # The CRM's own words for it (e.g. "closedwon"), so a repeat is recognised.
    source: str = ""


@dataclass
class ChangePage:
    """Outcomes changed since a cursor, and the cursor to read the next page from."""

    outcomes: list[Outcome] = field(default_factory=list)
    cursor: str | None = None
    more: bool = False


class Connector(Protocol):
    """One CRM account, reached with one set of credentials."""

    kind: str

    def upsert_person(self, person: Person, known_id: str | None) -> str:
        """Update the person's record (known_id, else found by email then phone) or create it."""
        ...

    def attach_context(self, record_id: str, note: Note) -> None:
        """Attach the marketing context to the record as the CRM's own object."""
        ...

    def changes_since(self, cursor: str | None, limit: int) -> ChangePage:
        """Return outcomes of records changed after cursor (None: from now on), oldest first."""
        ...

    def check(self) -> str:
        """Make one harmless authenticated call; return what the CRM says it is."""
        ...
