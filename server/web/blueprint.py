"""The web blueprint, its CSRF check and its HTML error pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server.extensions import db

bp = Blueprint("web", __name__, url_prefix="/web")
csrf = CSRFProtect()


@bp.before_request
def check_csrf() -> None:
    """Refuse any state-changing request of this blueprint without the session's CSRF token."""
    csrf.protect()


def _wants_json() -> bool:
    return request.path.endswith(".json")


@bp.errorhandler(HTTPException)
def html_error(error: HTTPException) -> tuple[Any, int] | Response:
    """Show an error as a page (or as JSON to the dashboard's polling script)."""
    if error.code and error.code >= 500:
        db.session.rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") or error.description
    if isinstance(error, CSRFError):
        message = "The form expired or did not come from this site. Reload the page and try again."
    if _wants_json():
        return jsonify({"code": status, "message": message}), status
    return render_template("web/error.html", status=status, message=message), status
