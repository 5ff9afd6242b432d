"""The streaming import of an attendee list: rows in batches, upserted by badge id.

Each batch of BATCH_ROWS rows is one transaction: the rows already on the list are
read in one query, new ones inserted and changed ones updated with one statement
each, and the import's progress row written; then the batch commits, so the page
polling the progress sees it move and a failure keeps what was imported before it.
A row whose values did not change keeps its version: re-importing the same file sends
nothing to the tablets again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import bindparam, insert, select, update

from server.attendees.filling import fill_waiting_leads
from server.attendees.matching import email_key, phone_tail
from server.attendees.models import Attendee, AttendeeImport, ImportStatus
from server.attendees.reading import TableError, count_rows, open_rows
from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db
from server.privacy.hashing import subject_hasher
from server.privacy.models import Erasure
from server.versioning import claim_versions
from sync.attendees import ATTENDEE_FIELDS, normalise_id
from sync.contact import ContactError, is_country_code, normalise_phone

BATCH_ROWS = 10_000
_LIMITS = (
    ("first_name", 100),
    ("last_name", 100),
    ("email", 254),
    ("phone", 40),
    ("company", 200),
    ("job_title", 200),
)
# Upper-case alpha-2 codes sync/contact.is_country_code accepts, as a set for the hot loop.
_COUNTRIES = frozenset(code for code in phonenumbers.SUPPORTED_REGIONS if is_country_code(code))
_STORED = (*ATTENDEE_FIELDS, "phone_tail")
_TABLE = Attendee.__table__
_ON_LIST = select(_TABLE.c.id, _TABLE.c.badge_id, *(_TABLE.c[name] for name in _STORED)).where(
    _TABLE.c.event_id == bindparam("event_id"),
    _TABLE.c.badge_id.in_(bindparam("badge_ids", expanding=True)),
)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        {name: bindparam(name) for name in _STORED}
        | {"server_version": bindparam("version"), "updated_at": bindparam("now")}
    )
)


class ErasedPeople:
    """The keyed hashes of everyone who asked to be forgotten, to keep them off the list."""

    def __init__(self) -> None:
        rows = db.session.execute(select(Erasure.email_hash, Erasure.phone_hash)).all()
        self.emails = {email for email, _ in rows if email}
        self.phones = {phone for _, phone in rows if phone}
        self._hash = subject_hasher()

    def match(self, values: dict[str, Any], region: str | None) -> bool:
        """Tell whether an imported row is someone erased (by email, or phone when any)."""
        email = values.get("email")
        if email and self.emails and self._hash("email", email) in self.emails:
            return True
        if self.phones and values.get("phone"):
            # Normalised only when some erasure names a phone: it is the slow part.
            try:
                normalised = normalise_phone(values["phone"], region)
            except ContactError:
                return False
            return self._hash("phone", normalised) in self.phones
        return False


def row_values(cells: dict[str, str]) -> dict[str, Any]:
    """Return an attendee's stored values from the mapped cells of one row."""
    get = cells.get
    values: dict[str, Any] = {name: get(name, "")[:limit] or None for name, limit in _LIMITS}
    values["email"] = email_key(values["email"])
    country = get("country", "").upper()
    values["country"] = country if len(country) == 2 and country in _COUNTRIES else None
    values["phone_tail"] = phone_tail(values["phone"])
    return values


class _Counts:
    def __init__(self, job: AttendeeImport):
        self.job = job

    def add(self, **counts: int) -> None:
        for name, count in counts.items():
            setattr(self.job, name, getattr(self.job, name) + count)


def _mapped(rows: Iterator[list[str]], positions: dict[str, int]) -> Iterator[dict[str, str]]:
    for row in rows:
        if not any(row):
            continue
        yield {field: row[index] if index < len(row) else "" for field, index in positions.items()}


def _insert(event_id: int, batch: dict[str, dict[str, Any]], first: int, now: datetime) -> None:
    """Insert new attendees (badge id -> values) with versions from first on."""
    conn = db.session.connection()
    constants = {"event_id": event_id, "removed": False, "updated_at": now}
    if conn.dialect.name != "sqlite":
        rows = [
            {**constants, "badge_id": badge_id, "server_version": first + offset, **values}
            for offset, (badge_id, values) in enumerate(batch.items())
        ]
        conn.execute(insert(_TABLE), rows)
        return
    # SQLite: the driver's executemany of plain tuples. SQLAlchemy's per-row parameter
    # processing cost about a fifth of the import (bench/capture_bench.py); the only
    # values that need it are the same for every row, so they are processed once.
    fixed = []
    for name, value in constants.items():
        process = _TABLE.c[name].type.bind_processor(conn.dialect)
        fixed.append(process(value) if process else value)
    names = [*constants, "badge_id", "server_version", *_STORED]
    sql = f"INSERT INTO {_TABLE.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(
        sql,
        [
            (*fixed, badge_id, first + offset, *(values[name] for name in _STORED))
            for offset, (badge_id, values) in enumerate(batch.items())
        ],
    )


def _flush(
    event_id: int, batch: dict[str, dict[str, Any]], counts: _Counts, written: set[str] | None
) -> None:
    """Upsert one batch (badge id -> values) in the current transaction.

    written is None when the list had rows before this import; otherwise it holds the ids
    this import wrote, the only ones a batch can find on the list (a first import then
    asks the database about nothing).
    """
    if not batch:
        return
    asked = list(batch) if written is None else [badge for badge in batch if badge in written]
    on_list = (
        db.session.execute(_ON_LIST, {"event_id": event_id, "badge_ids": asked}) if asked else []
    )
    changed = []
    unchanged = 0
    for row in on_list:
        values = batch.pop(row.badge_id)
        if all(getattr(row, name) == values[name] for name in _STORED):
            unchanged += 1
        else:
            changed.append({"row_id": row.id, **values})
    now = utcnow()
    first = claim_versions(len(batch) + len(changed)) if batch or changed else 0
    if batch:
        _insert(event_id, batch, first, now)
        if written is not None:
            written.update(batch)
    for offset, values in enumerate(changed, start=len(batch)):
        values.update(version=first + offset, now=now)
    if changed:
        db.session.execute(_UPDATE, changed)
    counts.add(inserted=len(batch), updated=len(changed), unchanged=unchanged)


def import_rows(
    event: Event, rows: Iterable[dict[str, str]], job: AttendeeImport, batch_rows: int = BATCH_ROWS
) -> None:
    """Upsert mapped rows ({field: cell}) into event's list, committing every batch."""
    rules = event.badge_rules or {}
    erased = ErasedPeople()
    counts = _Counts(job)
    batch: dict[str, dict[str, Any]] = {}
    read = 0
    empty = db.session.scalar(select(_TABLE.c.id).where(_TABLE.c.event_id == event.id).limit(1))
    written: set[str] | None = set() if empty is None else None
    for cells in rows:
        read += 1
        badge_id = normalise_id(cells.get("badge_id"), rules)
        if badge_id is None:
            counts.add(skipped=1)
            continue
        values = row_values(cells)
        if erased.match(values, event.country):
            counts.add(erased_skipped=1)
            continue
        if badge_id in batch:
            counts.add(skipped=1)  # the same id twice in a few rows: the later one counts
        batch[badge_id] = values
        if len(batch) >= batch_rows:
            _flush(event.id, batch, counts, written)
            job.rows_read, job.updated_at = read, utcnow()
            db.session.commit()
            batch = {}
    _flush(event.id, batch, counts, written)
    job.rows_read, job.updated_at = read, utcnow()
    db.session.commit()


def run_import(job_id: int, upload_dir: Path) -> None:
    """Run an uploaded import to its end, recording progress and the outcome on its row."""
    job = db.session.get_one(AttendeeImport, job_id)
    path = upload_dir / job.stored_name
    event = db.session.get_one(Event, job.event_id)
    try:
        job.status = ImportStatus.RUNNING
        job.rows_total = count_rows(path, job.file_format)
        db.session.commit()
        with open_rows(path, job.file_format) as (headers, rows):
            positions = {field: headers.index(heading) for field, heading in job.mapping.items()}
            import_rows(event, _mapped(rows, positions), job)
        job.leads_filled = fill_waiting_leads(event)
        job.status = ImportStatus.DONE
    except (TableError, ValueError, OSError) as error:
        db.session.rollback()
        job = db.session.get_one(AttendeeImport, job_id)
        job.status = ImportStatus.FAILED
        job.error = str(error) if isinstance(error, TableError) else "The file could not be read."
    finally:
        path.unlink(missing_ok=True)
    job.finished_at = job.updated_at = utcnow()
    db.session.commit()
