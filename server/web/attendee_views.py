"""The attendee list pages: upload the organiser's file, map its columns, watch the import."""

from __future__ import annotations

import secrets
from typing import Any

import marshmallow as ma
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from server.attendees import jobs
from server.attendees.access import list_event
from server.attendees.mapping import (
    LABELS,
    MAPPED_FIELDS,
    MappingError,
    check_mapping,
    guess_mapping,
)
from server.attendees.models import Attendee, AttendeeImport, ImportStatus
from server.attendees.reading import TableError, detect_format, preview
from server.events.models import Event
from server.events.schemas import BadgeRulesSchema
from server.events.service import update_event
from server.extensions import db
from server.web.blueprint import bp
from server.web.event_form import field_errors
from server.web.session import MANAGERS, principal, roles_required

UPLOAD_ENDPOINT = "web.attendee_upload"
DEFAULT_UPLOAD_BYTES = 200 * 1024 * 1024
PREVIEW_ROWS = 5
_RULES = BadgeRulesSchema()


@bp.before_app_request
def _allow_big_lists() -> None:
    # App-level, so it runs before the blueprint's CSRF check first reads the body.
    if request.endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = current_app.config.get(
            "LEADBRIDGE_ATTENDEE_UPLOAD_BYTES", DEFAULT_UPLOAD_BYTES
        )


def _event(event_id: int) -> Event:
    return list_event(principal(), event_id)


def _job(event: Event, job_id: int) -> AttendeeImport:
    job = db.session.get(AttendeeImport, job_id)
    if job is None or job.event_id != event.id:
        abort(404, "No such import.")
    jobs.notice_stale(job)
    return job


def _page(event: Event, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    size = db.session.scalar(
        select(func.count()).where(Attendee.event_id == event.id, Attendee.removed.is_(False))
    )
    imports = db.session.scalars(
        select(AttendeeImport)
        .where(AttendeeImport.event_id == event.id)
        .order_by(AttendeeImport.id.desc())
        .limit(10)
    ).all()
    page = render_template(
        "web/attendees.html",
        event=event,
        size=size,
        imports=imports,
        rules=event.badge_rules or {},
        errors=errors or {},
    )
    return page, status


@bp.get("/events/<id:event_id>/attendees")
@roles_required(*MANAGERS)
def attendees(event_id: int) -> Any:
    """Show the event's attendee list: its size, badge rules, imports and the upload form."""
    return _page(_event(event_id))


@bp.post("/events/<id:event_id>/attendees/rules")
@roles_required(*MANAGERS)
def attendee_rules(event_id: int) -> Any:
    """Change how the event's badges write their ids."""
    event = _event(event_id)
    try:
        rules = _RULES.load(
            {name: request.form.get(name, "") for name in ("prefix", "url_pattern")}
        )
    except ma.ValidationError as error:
        return _page(event, field_errors(error.messages), 422)  # type: ignore[arg-type]
    update_event(event, {"badge_rules": rules}, principal().user)
    flash("Badge rules saved.")
    return redirect(url_for("web.attendees", event_id=event.id))


@bp.post("/events/<id:event_id>/attendees/upload")
@roles_required(*MANAGERS)
def attendee_upload(event_id: int) -> Any:
    """Keep an uploaded list and show its columns to map."""
    event = _event(event_id)
    jobs.purge_abandoned()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(event, {"file": ["Choose the organiser's CSV or XLSX file."]}, 422)
    stored_name = f"{event.id}-{secrets.token_hex(12)}"
    path = jobs.upload_dir() / stored_name
    upload.save(path)
    try:
        file_format = detect_format(path, upload.filename)
        headers, _rows = preview(path, file_format, 1)
    except TableError as error:
        path.unlink(missing_ok=True)
        return _page(event, {"file": [str(error)]}, 422)
    job = AttendeeImport(
        event_id=event.id,
        created_by_id=principal().user.id if principal().user else None,
        filename=upload.filename[-200:],
        file_format=file_format,
        stored_name=stored_name,
        size_bytes=path.stat().st_size,
        mapping=guess_mapping(headers),
        status=ImportStatus.UPLOADED,
    )
    db.session.add(job)
    db.session.commit()
    return redirect(url_for("web.attendee_import", event_id=event.id, job_id=job.id))


def _mapping_page(
    event: Event, job: AttendeeImport, chosen: dict[str, str], errors: dict[str, list[str]]
) -> str:
    try:
        headers, rows = preview(jobs.upload_dir() / job.stored_name, job.file_format, PREVIEW_ROWS)
    except (TableError, OSError):
        headers, rows = [], []
        errors = {**errors, "file": ["The uploaded file is gone; upload it again."]}
    return render_template(
        "web/attendee_import.html",
        event=event,
        job=job,
        headers=headers,
        rows=rows,
        fields=MAPPED_FIELDS,
        labels=LABELS,
        chosen=chosen,
        errors=errors,
    )


@bp.get("/events/<id:event_id>/attendees/imports/<id:job_id>")
@roles_required(*MANAGERS)
def attendee_import(event_id: int, job_id: int) -> str:
    """Show the column mapping with a preview, or the import's progress once started."""
    event = _event(event_id)
    job = _job(event, job_id)
    return _mapping_page(event, job, dict(job.mapping or {}), {})


@bp.post("/events/<id:event_id>/attendees/imports/<id:job_id>")
@roles_required(*MANAGERS)
def attendee_import_start(event_id: int, job_id: int) -> Any:
    """Check the mapping and start the import."""
    event = _event(event_id)
    job = _job(event, job_id)
    if job.status != ImportStatus.UPLOADED:
        abort(409, "This import has already started.")
    chosen = {field: request.form.get(field, "") for field in MAPPED_FIELDS}
    try:
        headers, _rows = preview(jobs.upload_dir() / job.stored_name, job.file_format, 1)
        mapping = check_mapping(chosen, headers)
    except MappingError as error:
        return _mapping_page(event, job, chosen, error.errors), 422
    except (TableError, OSError):
        return _mapping_page(event, job, chosen, {}), 422
    running = db.session.scalar(
        select(AttendeeImport.id).where(
            AttendeeImport.event_id == event.id, AttendeeImport.status == ImportStatus.RUNNING
        )
    )
    if running is not None:
        errors = {"_form": ["Another import of this event's list is running; wait for its end."]}
        return _mapping_page(event, job, chosen, errors), 409
    job.mapping = mapping
    job.status = ImportStatus.RUNNING
    db.session.commit()
    jobs.start(job)
    return redirect(url_for("web.attendee_import", event_id=event.id, job_id=job.id))


@bp.get("/events/<id:event_id>/attendees/imports/<id:job_id>.json")
@roles_required(*MANAGERS)
def attendee_import_progress(event_id: int, job_id: int) -> Response:
    """Tell the page how far the import is (it polls this)."""
    job = _job(_event(event_id), job_id)
    return jsonify(progress(job))


def progress(job: AttendeeImport) -> dict[str, Any]:
    """Return an import's progress and counts (no personal data)."""
    total = job.rows_total or 0
    return {
        "status": job.status.value,
        "rows_read": job.rows_read,
        "rows_total": job.rows_total,
        "percent": min(100, round(100 * job.rows_read / total)) if total else None,
        "inserted": job.inserted,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "erased_skipped": job.erased_skipped,
        "leads_filled": job.leads_filled,
        "error": job.error,
    }
