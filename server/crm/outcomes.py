"""Outcomes read back from CRMs, applied through the one lifecycle service.

Each enabled connection is polled incrementally: the connector reads what changed since
the connection's cursor, in bounded pages, and the cursor moves only after the page's
outcomes are applied and committed. A CRM webhook (server/crm/views.py) makes the next
poll due at once and wakes the server's outcome poller (server/crm/poller.py), rather
than applying its payload: webhooks arrive late, twice or out of order, while a poll
reads the record as it stands. Polls are claimed with a compare-and-set on polled_at, so
pollers, dispatchers and workers take turns; a webhook during a poll makes the next one
due at once, which may then run beside it, so each outcome is recorded with a
compare-and-set on crm_records.last_outcome and applied once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update

from server.crm.base import CrmError, Outcome
from server.crm.credentials import CredentialsUnreadable
from server.crm.models import CrmConnection, CrmRecord
from server.crm.registry import connector_for
from server.extensions import db
from server.leads.lifecycle import TransitionRefused, allowed_reasons, change_status, chosen_reason
from server.leads.models import Lead, LeadStatus

log = logging.getLogger(__name__)

# Outcomes per poll round and connection: a CRM with more waits for the next round.
POLL_LIMIT = 500
_CONNECTIONS = CrmConnection.__table__
_RECORDS = CrmRecord.__table__
# Where a running outcome poller (server/crm/poller.py) keeps the event that wakes it.
POLLER_WAKE = "leadbridge_crm_poller_wake"


def _reason(lead: Lead, outcome: Outcome) -> str | None:
    if outcome.status == LeadStatus.DISQUALIFIED:
        allowed = allowed_reasons(lead)
        return (
            chosen_reason(outcome.reason, allowed) or chosen_reason("Other", allowed) or allowed[-1]
        )
    if outcome.status == LeadStatus.LOST:
        return outcome.reason or "Lost in the CRM"
    return outcome.reason


def apply_outcome(connection: CrmConnection, outcome: Outcome) -> bool:
    """Apply one CRM outcome to the lead that became its record; return whether it changed.

    An outcome the lifecycle refuses (backwards, after closing, no owner) is skipped:
    the CRM may hold steps leadbridge has already passed.
    """
    row = db.session.execute(
        select(CrmRecord.lead_id, CrmRecord.last_outcome)
        .join(Lead, CrmRecord.lead_id == Lead.id)
        .where(CrmRecord.connection_id == connection.id, CrmRecord.record_id == outcome.record_id)
        .order_by(Lead.received_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return False  # not a record leadbridge made
    lead_id, last_outcome = row
    if last_outcome == outcome.source:
        return False
    # A compare-and-set, not a read then a write: two polls may apply one change at once (a
    # webhook makes the next poll due while one runs). The second waits on the row until
    # the first commits, then finds the outcome recorded and changes nothing.
    db.session.flush()  # this round's earlier changes first: the lead is read afresh below
    taken = db.session.execute(
        update(_RECORDS)
        .where(_RECORDS.c.lead_id == lead_id)
        .where(or_(_RECORDS.c.last_outcome.is_(None), _RECORDS.c.last_outcome != outcome.source))
        .values(last_outcome=outcome.source)
    ).rowcount
    if not taken:
        return False
    # Read after the row is held: the status as the poll that held it before left it.
    lead = db.session.get_one(Lead, lead_id, populate_existing=True)
    if lead.status == outcome.status:
        return False
    try:
        change_status(
            lead,
            outcome.status,
            reason=_reason(lead, outcome),
            value=outcome.value,
            crm=connection.kind.value,
        )
    except TransitionRefused:
        return False
    return True


def _claim(connection_id: int, seen: datetime | None, now: datetime) -> bool:
    taken = db.session.execute(
        update(_CONNECTIONS)
        .where(_CONNECTIONS.c.id == connection_id)
        .where(
            _CONNECTIONS.c.polled_at.is_(None) if seen is None else _CONNECTIONS.c.polled_at == seen
        )
        .values(polled_at=now)
    ).rowcount
    db.session.commit()
    return bool(taken)


def poll(app: Flask, connection: CrmConnection, limit: int = POLL_LIMIT) -> int:
    """Read and apply one bounded round of a connection's changes; return how many applied."""
    connector = connector_for(app, connection)
    page = connector.changes_since(connection.poll_cursor, limit)
    applied = sum(apply_outcome(connection, outcome) for outcome in page.outcomes)
    if page.more and page.cursor != connection.poll_cursor:
        # More changes wait behind this round's: the next is due at once, not in 30 s, so a
        # backlog (a busy show floor) is read within seconds. A cursor that did not move
        # (a round's worth changed in one millisecond) waits for the interval instead.
        connection.polled_at = None
    connection.poll_cursor = page.cursor
    db.session.commit()
    return applied


def poll_due(app: Flask, now: datetime) -> int:
    """Poll every enabled connection whose interval has passed (or a webhook asked); bounded."""
    every = timedelta(seconds=app.config["LEADBRIDGE_CRM_POLL_SECONDS"])
    due = db.session.execute(
        select(CrmConnection.id, CrmConnection.polled_at).where(
            CrmConnection.enabled.is_(True),
            or_(CrmConnection.polled_at.is_(None), CrmConnection.polled_at <= now - every),
        )
    ).all()
    applied = 0
    for connection_id, seen in due:
        if not _claim(connection_id, seen, now):
            continue  # another dispatcher or worker polls it
        connection = db.session.get_one(CrmConnection, connection_id)
        try:
            applied += poll(app, connection, POLL_LIMIT)
        except (CrmError, CredentialsUnreadable) as error:
            db.session.rollback()
            # The CRM and the status only: connector errors carry no personal data.
            log.warning("crm poll of connection %s failed: %s", connection_id, error)
    return applied


def poll_soon(connection_id: int) -> None:
    """Make a connection's next poll due at once (a webhook said something changed)."""
    db.session.execute(
        update(_CONNECTIONS).where(_CONNECTIONS.c.id == connection_id).values(polled_at=None)
    )


def wake_pollers() -> None:
    """Wake this process's outcome poller and in-process dispatcher, where they run."""
    from flask import current_app

    from server.alerts.queue import WAKE_EXTENSION

    for name in (POLLER_WAKE, WAKE_EXTENSION):
        wake = current_app.extensions.get(name)
        if wake is not None:
            wake.set()
