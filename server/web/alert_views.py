"""The dead-letter page (admins): alerts that could not be delivered, and retrying one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server.alerts.dead_letters import list_jobs, retry
from server.alerts.models import JobStatus
from server.extensions import db
from server.users.models import Role
from server.web.blueprint import bp
from server.web.session import roles_required

PAGE_SIZE = 50


@bp.get("/alerts")
@roles_required(Role.ADMIN)
def dead_letters() -> str:
    """List the alerts that were given up on, newest first."""
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    jobs = list_jobs({"status": JobStatus.DEAD, "page": number, "page_size": PAGE_SIZE})
    return render_template("web/dead_letters.html", jobs=jobs)


@bp.post("/alerts/<id:job_id>/retry")
@roles_required(Role.ADMIN)
def dead_letter_retry(job_id: int) -> Response:
    """Put a dead alert back in the queue."""
    try:
        retry(job_id)
    except HTTPException as error:
        db.session.rollback()
        if error.code != 409:
            raise
        flash(getattr(error, "data", {}).get("message", "This alert cannot be retried."))
    else:
        flash(f"Alert {job_id} is queued again.")
    return redirect(url_for("web.dead_letters"))
