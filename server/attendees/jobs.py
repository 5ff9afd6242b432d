"""Start an import off the request thread and keep its progress row honest.

The import runs in a thread of the process that received the mapping (no queue needed
for a job a manager starts a few times per show); its progress lives in the database,
so any web worker can answer the page's polling. A job whose row stopped moving (its
process was restarted) is marked failed rather than left "running" forever.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from server.attendees.importing import run_import
from server.attendees.models import AttendeeImport, ImportStatus
from server.db_types import utcnow
from server.extensions import db

log = logging.getLogger(__name__)
# A running import writes its row every batch (a few hundred ms); this long silent is dead.
STALE_AFTER = timedelta(minutes=5)
INTERRUPTED = "The import stopped before its end (the server restarted); upload the file again."
# An upload nobody mapped within this long is deleted: it holds a whole list of people.
ABANDONED_AFTER = timedelta(hours=24)
ABANDONED = "The file was never imported and was deleted; upload it again."


def upload_dir(app: Flask | None = None) -> Path:
    """Return the folder uploads wait in until their import has run (made if missing)."""
    app = app or current_app
    folder = Path(app.instance_path) / "attendee-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_import(job_id, upload_dir(app))
        except Exception:
            # Logged without the file's content: the rows are personal data.
            log.exception("attendee import %s failed", job_id)
            db.session.rollback()
            job = db.session.get_one(AttendeeImport, job_id)
            job.status = ImportStatus.FAILED
            job.error = "The import failed on the server; the rows before the failure are kept."
            job.finished_at = utcnow()
            db.session.commit()
        finally:
            db.session.remove()


def start(job: AttendeeImport) -> threading.Thread:
    """Run job's import in a background thread; return the thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_run, args=(app, job.id), name=f"attendee-import-{job.id}", daemon=True
    )
    thread.start()
    return thread


def notice_stale(job: AttendeeImport) -> None:
    """Mark a running job failed when its row has not moved for STALE_AFTER."""
    if job.status == ImportStatus.RUNNING and job.updated_at < utcnow() - STALE_AFTER:
        job.status = ImportStatus.FAILED
        job.error = INTERRUPTED
        job.finished_at = utcnow()
        db.session.commit()


def purge_abandoned(app: Flask | None = None) -> int:
    """Delete uploads whose columns were never mapped within ABANDONED_AFTER; return how many."""
    folder = upload_dir(app)
    jobs = db.session.scalars(
        select(AttendeeImport).where(
            AttendeeImport.status == ImportStatus.UPLOADED,
            AttendeeImport.created_at < utcnow() - ABANDONED_AFTER,
        )
    ).all()
    for job in jobs:
        (folder / job.stored_name).unlink(missing_ok=True)
        job.status = ImportStatus.FAILED
        job.error = ABANDONED
        job.finished_at = utcnow()
    db.session.commit()
    return len(jobs)
