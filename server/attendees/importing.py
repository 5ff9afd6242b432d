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
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from server.attendees.filling import fill_waiting_leads
from server.attendees.matching import email_key, phone_tail
from server.attendees.models import Attendee, AttendeeImport, ImportStatus
from server.attendees.reading import TableError, count_rows, open_rows
from server.db_types import utcnow
from server.events.models import Event
from server.extensions import db
from server.privacy.hashing import subject_hash
from server.privacy.models import Erasure
from server.versioning import reserve_server_versions
from sync.attendees import ATTENDEE_FIELDS, normalise_id
from sync.contact import ContactError, is_country_code, normalise_phone

BATCH_ROWS = 5000
_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "company": 200,
    "job_title": 200,
}
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

    def match(self, values: dict[str, Any], region: str | None) -> bool:
        """Tell whether an imported row is someone erased (by email, or phone when any)."""
        email = values.get("email")
        if email and subject_hash("email", email) in self.emails:
            return True
        if self.phones and values.get("phone"):
            # Normalised only when some erasure names a phone: it is the slow part.
            try:
                normalised = normalise_phone(values["phone"], region)
            except ContactError:
                return False
            return subject_hash("phone", normalised) in self.phones
        return False


def row_values(cells: dict[str, str]) -> dict[str, Any]:
    """Return an attendee's stored values from the mapped cells of one row."""
    values: dict[str, Any] = {
        name: (cells.get(name) or "")[:limit] or None for name, limit in _LIMITS.items()
    }
    values["email"] = email_key(values["email"])
    country = (cells.get("country") or "").upper()
    values["country"] = country if len(country) == 2 and is_country_code(country) else None
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


def _flush(event_id: int, batch: dict[str, dict[str, Any]], counts: _Counts) -> None:
    """Upsert one batch (badge id -> values) in the current transaction."""
    if not batch:
        return
    on_list = db.session.execute(_ON_LIST, {"event_id": event_id, "badge_ids": list(batch)})
    changed = []
    unchanged = 0
    for row in on_list:
        values = batch.pop(row.badge_id)
        if all(getattr(row, name) == values[name] for name in _STORED):
            unchanged += 1
        else:
            changed.append({"row_id": row.id, **values})
    now = utcnow()
    first = reserve_server_versions(len(batch) + len(changed)) if batch or changed else 0
    inserts = [
        {
            "event_id": event_id,
            "badge_id": badge_id,
            "removed": False,
            "server_version": first + offset,
            "updated_at": now,
            **values,
        }
        for offset, (badge_id, values) in enumerate(batch.items())
    ]
    if inserts:
        db.session.execute(insert(_TABLE), inserts)
    for offset, values in enumerate(changed, start=len(inserts)):
        values.update(version=first + offset, now=now)
    if changed:
        db.session.execute(_UPDATE, changed)
    counts.add(inserted=len(inserts), updated=len(changed), unchanged=unchanged)


def import_rows(
    event: Event, rows: Iterable[dict[str, str]], job: AttendeeImport, batch_rows: int = BATCH_ROWS
) -> None:
    """Upsert mapped rows ({field: cell}) into event's list, committing every batch."""
    rules = event.badge_rules or {}
    erased = ErasedPeople()
    counts = _Counts(job)
    batch: dict[str, dict[str, Any]] = {}
    read = 0
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
            _flush(event.id, batch, counts)
            job.rows_read, job.updated_at = read, utcnow()
            db.session.commit()
            batch = {}
    _flush(event.id, batch, counts)
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
