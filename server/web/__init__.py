"""The web pages: marketer dashboard, rep inbox, events, leads, users and exports.

Server-rendered Jinja pages behind a Flask-Login session. CSRF protection applies
to this blueprint only: the bearer-token JSON API keeps working without it.
"""

from __future__ import annotations

from flask import Flask

from server.web.blueprint import bp, csrf
from server.web.session import login_manager


def init_web(app: Flask) -> None:
    """Bind the session, CSRF checks and the web blueprint to app."""
    # CSRF is checked by the web blueprint's own before_request hook, not app-wide,
    # so the JSON API (bearer tokens, never cookies) and the signed ack links stay as they are.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A dashboard stays open all day; its forms must still post after an hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    csrf.init_app(app)
    login_manager.init_app(app)

    from server.web import (  # noqa: F401 - the modules add their routes to bp
        alert_views,
        attendee_views,
        card_views,
        crm_views,
        dashboard_views,
        event_views,
        home_views,
        lead_views,
        settings_views,
        user_views,
    )
    from server.web.formatting import register_filters

    register_filters(app)
    app.register_blueprint(bp)
