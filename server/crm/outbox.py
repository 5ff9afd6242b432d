"""CRM pushes as outbox jobs: one job per lead, written with the lead, re-armed by its changes.

A lead's CRM job has the idempotency key ``<lead id>:crm``. Capture writes it (and the
lead's crm_records row) in the push's transaction; an edit, a merge into the lead or a
new owner re-arms the same job and counts one more push owed (crm_records.wanted), so a
lead has at most one CRM delivery in flight and its record is never written by two
workers at once. Leads whose consent does not allow sales follow-up get no job.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update

from server.alerts.models import AlertJob, AlertKind, Channel, JobStatus
from server.alerts.outbox import job_row, write_jobs
from server.alerts.queue import queue_after_commit
from server.bulk_insert import insert_rows
from server.crm.lead_data import SALES_PURPOSE, consent_allows_sales
from server.crm.models import CrmConnection, CrmKind, CrmRecord
from server.db_types import utcnow
from server.extensions import db
from server.leads.models import Lead

_RECORDS = CrmRecord.__table__


def job_key(lead_id: uuid.UUID) -> str:
    """Return the idempotency key of a lead's CRM job."""
    return f"{lead_id}:{AlertKind.CRM_SYNC.value}"


_ENABLED_OF_EVENT = (
    CrmConnection.event_id == bindparam("event_id"),
    CrmConnection.enabled.is_(True),
)
_ACTIVE_CONNECTION = select(CrmConnection).where(*_ENABLED_OF_EVENT)
# Every push that captures a lead runs it: built once, and two columns rather than an
# object, since writing jobs needs no more (docs/performance.md).
_ACTIVE_CONNECTION_REF = select(CrmConnection.id, CrmConnection.kind).where(*_ENABLED_OF_EVENT)


class ConnectionRef(NamedTuple):
    """What writing a CRM job needs of a connection."""

    id: int
    kind: CrmKind


def active_connection(event_id: int) -> CrmConnection | None:
    """Return the event's enabled CRM connection, if it has one."""
    return db.session.scalar(_ACTIVE_CONNECTION, {"event_id": event_id})


def active_connection_ref(event_id: int) -> ConnectionRef | None:
    """Return the id and kind of the event's enabled CRM connection, if it has one."""
    row = db.session.execute(_ACTIVE_CONNECTION_REF, {"event_id": event_id}).first()
    return ConnectionRef(*row) if row is not None else None


def capture_allows(row: dict[str, Any], purposes: list[str] | None) -> bool:
    """Return whether a newly captured lead's consent allows a CRM push (lead_data's rule)."""
    if not (row.get("consent_given") and row.get("consent_version")):
        return False
    return not purposes or SALES_PURPOSE in purposes


class CapturedPushes:
    """The CRM jobs and records of one push's new leads, written with them."""

    def __init__(self, connection: ConnectionRef | None):
        self.connection = connection
        self.jobs: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any], purposes: list[str] | None, now: datetime) -> None:
        """Owe a push of a new primary lead, when the event has a CRM and consent allows it."""
        if self.connection is None or not capture_allows(row, purposes):
            return
        self.jobs.append(
            job_row(
                row["id"],
                AlertKind.CRM_SYNC,
                Channel.CRM,
                self.connection.kind.value,
                job_key(row["id"]),
                now,
            )
        )
        self.records.append(_record_row(row["id"], self.connection.id, now))

    def insert(self) -> None:
        """Write the queued rows (after their leads)."""
        insert_rows(_RECORDS, self.records)
        write_jobs(self.jobs)
        self.jobs, self.records = [], []


def _record_row(lead_id: uuid.UUID, connection_id: int, now: datetime) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "connection_id": connection_id,
        "record_id": None,
        "wanted": 1,
        "pushed": 0,
        "note_owed": True,
        "last_outcome": None,
        "pushed_at": None,
        "updated_at": now,
    }


def request_update(lead: Lead, *, note: bool = False) -> None:
    """Owe the CRM one more push of lead (an edit, a merge, a new owner), in this transaction.

    note asks for the context note again (a merge added a capture to it).
    """
    if lead.merged_into_id is not None:
        return
    connection = active_connection_ref(lead.event_id)
    if connection is None or not consent_allows_sales(lead):
        return
    now = utcnow()
    # One UPDATE first: it waits for a delivery of this lead that is settling (which holds
    # the row), so the job status read below is the one that delivery left.
    bumped = db.session.execute(
        update(_RECORDS)
        .where(_RECORDS.c.lead_id == lead.id)
        .values(
            wanted=_RECORDS.c.wanted + 1,
            note_owed=or_(_RECORDS.c.note_owed, note),
            connection_id=connection.id,
        )
    ).rowcount
    if not bumped:
        db.session.execute(insert(_RECORDS), [_record_row(lead.id, connection.id, now)])
    key = job_key(lead.id)
    job = db.session.scalar(select(AlertJob).where(AlertJob.idempotency_key == key))
    if job is None:
        write_jobs(
            [job_row(lead.id, AlertKind.CRM_SYNC, Channel.CRM, connection.kind.value, key, now)]
        )
        return
    job.target = connection.kind.value
    if job.status == JobStatus.PENDING:
        return  # not yet sent, or being sent: the delivery sees wanted moved and goes again
    job.status = JobStatus.PENDING
    job.attempts = 0
    job.failing_since = None
    job.next_attempt_at = now
    job.lease_until = queue_after_commit(current_app, key, now)
