"""Deliver one CRM outbox job: upsert the person, store the record id at once, attach the note.

Called by the alert dispatcher (in the server process or an RQ worker) for jobs of kind
``crm_sync``; its retries, backoff, leases and dead letters are the alerts' own. The
CRM's record id is committed the moment the CRM names it, before the note is sent, so
every later attempt updates that record rather than looking for it again.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from server.alerts.channels import DeliveryError
from server.alerts.models import AlertJob
from server.crm.base import CrmError
from server.crm.credentials import CredentialsUnreadable
from server.crm.lead_data import consent_allows_sales, note, person
from server.crm.models import CrmRecord
from server.crm.outbox import _record_row, active_connection
from server.crm.registry import connector_for, default_fields
from server.db_types import utcnow
from server.extensions import db
from server.leads.models import Activity, ActivityKind

_RECORDS = CrmRecord.__table__


def push(app: Flask, job: AlertJob) -> bool:
    """Push the job's lead to its event's CRM; return whether every push it owes is done.

    False means the lead changed while it was being pushed: send it again. Raises
    DeliveryError (with the CRM's Retry-After) when the CRM call failed.
    """
    lead = job.lead
    if lead.merged_into_id is not None:
        return True  # folded into an earlier lead, which carries the person to the CRM
    connection = active_connection(lead.event_id)
    if connection is None:
        raise DeliveryError("crm: the event has no CRM connection switched on", retryable=False)
    if not consent_allows_sales(lead):
        raise DeliveryError(
            "crm: the visitor's consent does not allow sales follow-up; not pushed",
            retryable=False,
        )
    record = db.session.get(CrmRecord, lead.id)
    if record is None:
        record = CrmRecord(**_record_row(lead.id, connection.id, utcnow()))
        db.session.add(record)
    wanted, known_id = record.wanted, record.record_id
    try:
        connector = connector_for(app, connection)
    except CredentialsUnreadable:
        raise DeliveryError(
            "crm: the stored credentials do not decrypt (was the secret key changed?); "
            "enter them again",
            retryable=False,
        ) from None
    try:
        record_id = connector.upsert_person(
            person(connection, lead, default_fields(connection.kind)), known_id
        )
        if record_id != known_id:
            record.record_id = record_id
            db.session.commit()  # from now on every attempt updates this record
        if record.note_owed:
            connector.attach_context(record_id, note(lead))
    except CrmError as error:
        raise DeliveryError(
            str(error),
            retryable=error.retryable,
            status=error.status,
            retry_after=error.retry_after,
        ) from None
    # Conditional on wanted: an edit counted while this push ran (it waits on this row
    # until commit, then re-arms the job) leaves this delivery unsettled, to go again.
    settled = db.session.execute(
        update(_RECORDS)
        .where(_RECORDS.c.lead_id == lead.id, _RECORDS.c.wanted == wanted)
        .values(pushed=wanted, pushed_at=utcnow(), note_owed=False)
    ).rowcount
    db.session.add(
        Activity(
            lead_id=lead.id,
            kind=ActivityKind.CRM_SYNCED,
            at=utcnow(),
            detail={"crm": connection.kind.value, "record_id": record_id, "created": not known_id},
        )
    )
    return bool(settled)
