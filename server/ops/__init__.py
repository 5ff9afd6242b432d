"""Operations: health and readiness, request ids, structured logs, security headers."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server.ops.headers import init_security_headers
from server.ops.health import bp as health_bp
from server.ops.logs import configure_logging, init_access_log
from server.ops.requestid import init_request_ids


def init_ops(app: Flask) -> None:
    """Add request ids, the access log, security headers and /healthz, /readyz to app."""
    hops = app.config.get("LEADBRIDGE_PROXY_HOPS", 0)
    if hops:
        # Trust X-Forwarded-For/-Proto from exactly this many proxies (the load balancer),
        # so rate limits key on the client and HTTPS is recognised for HSTS and cookies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    init_request_ids(app)
    init_access_log(app)
    init_security_headers(app)
    app.register_blueprint(health_bp)
    if not app.testing:
        configure_logging(app)
