"""Read leadbridge's configuration from LEADBRIDGE_* environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.engine import make_url

ENV_PREFIX = "LEADBRIDGE_"
MIB = 1024 * 1024


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def _int_env(name: str, default: int) -> int:
    raw = _env(name)
    return default if raw in (None, "") else int(raw)


def _float_env(name: str, default: float) -> float:
    raw = _env(name)
    return default if raw in (None, "") else float(raw)


def _bool_env(name: str, default: bool) -> bool:
    raw = _env(name)
    return default if raw in (None, "") else raw.strip().lower() in ("1", "true", "yes", "on")


def load_secret_key(instance_path: str) -> str:
    """Return the configured secret key, else one kept in the instance folder.

    A generated key is written once with owner-only permissions so sessions and
    signed links survive restarts of a laptop install without any set-up.
    """
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def database_url(instance_path: str) -> str:
    """Return the database URL: LEADBRIDGE_DATABASE_URL or SQLite in the instance folder."""
    url = _env("DATABASE_URL")
    if url:
        # Accept the common postgres:// spelling and pick the psycopg 3 driver.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return "sqlite:///" + str(Path(instance_path) / "leadbridge.sqlite3")


def from_environment(instance_path: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Build the Flask config from the environment, for every key not already given."""
    settings: dict[str, Any] = {
        "MAX_CONTENT_LENGTH": _int_env("MAX_BODY_BYTES", MIB),
        "LEADBRIDGE_TOKEN_TTL_HOURS": _int_env("TOKEN_TTL_HOURS", 12),
        "LEADBRIDGE_PAIRING_CODE_TTL_MINUTES": _int_env("PAIRING_CODE_TTL_MINUTES", 30),
        "LEADBRIDGE_PUBLIC_URL": _env("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Alerts: where email goes out, and how hard to try.
        "LEADBRIDGE_SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "LEADBRIDGE_SMTP_PORT": _int_env("SMTP_PORT", 25),
        "LEADBRIDGE_SMTP_USERNAME": _env("SMTP_USERNAME"),
        "LEADBRIDGE_SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "LEADBRIDGE_SMTP_STARTTLS": _env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        "LEADBRIDGE_SMTP_SENDER": _env("SMTP_SENDER", "leadbridge@localhost"),
        "LEADBRIDGE_ALERT_MAX_ATTEMPTS": _int_env("ALERT_MAX_ATTEMPTS", 8),
        "LEADBRIDGE_ALERT_TIMEOUT_SECONDS": float(_env("ALERT_TIMEOUT_SECONDS", "10") or 10),
        "LEADBRIDGE_ALERT_RETRY_BASE_SECONDS": float(_env("ALERT_RETRY_BASE_SECONDS", "2") or 2),
        # A CRM push that may succeed later is retried for this long, however many tries that
        # takes: a CRM down for an hour (or a night) loses nothing.
        "LEADBRIDGE_CRM_RETRY_HOURS": float(_env("CRM_RETRY_HOURS", "24") or 24),
        # Set to deliver alerts by `leadbridge worker` processes over Redis and RQ.
        "LEADBRIDGE_REDIS_URL": _env("REDIS_URL") or None,
        "LEADBRIDGE_ALERT_QUEUE": _env("ALERT_QUEUE", "leadbridge-alerts"),
        # A claimed job whose dispatcher or worker died is taken over after this long.
        "LEADBRIDGE_ALERT_LEASE_SECONDS": float(_env("ALERT_LEASE_SECONDS", "60") or 60),
        # CRM connectors (server/crm/): how long one CRM call may take, how often outcomes
        # are polled from a CRM (a webhook from it triggers a poll at once).
        "LEADBRIDGE_CRM_TIMEOUT_SECONDS": _float_env("CRM_TIMEOUT_SECONDS", 10.0),
        "LEADBRIDGE_CRM_POLL_SECONDS": _float_env("CRM_POLL_SECONDS", 30.0),
        # Rate limits (server/limits.py): "N per minute;M per hour" strings, per address
        # for login and pairing, per tablet for sync. Counters in Redis when it is set.
        "LEADBRIDGE_RATELIMIT_ENABLED": _bool_env("RATELIMIT_ENABLED", True),
        "LEADBRIDGE_RATELIMIT_STORAGE_URL": _env("RATELIMIT_STORAGE_URL") or None,
        "LEADBRIDGE_RATELIMIT_LOGIN": _env("RATELIMIT_LOGIN", "10 per minute;100 per hour"),
        "LEADBRIDGE_RATELIMIT_PAIRING": _env("RATELIMIT_PAIRING", "10 per minute"),
        "LEADBRIDGE_RATELIMIT_SYNC": _env("RATELIMIT_SYNC", "300 per minute"),
        # Test alerts post to a URL someone typed: a person may not turn the server into a cannon.
        "LEADBRIDGE_RATELIMIT_TEST_ALERTS": _env("RATELIMIT_TEST_ALERTS", "10 per minute"),
        # Operations (server/ops/): proxies trusted for X-Forwarded-*, logs, HSTS, gunicorn.
        "LEADBRIDGE_PROXY_HOPS": _int_env("PROXY_HOPS", 0),
        # auto: text lines on a terminal, JSON elsewhere (server/ops/logs.py).
        "LEADBRIDGE_LOG_FORMAT": (_env("LOG_FORMAT", "auto") or "auto").lower(),
        "LEADBRIDGE_LOG_LEVEL": (_env("LOG_LEVEL", "INFO") or "INFO").upper(),
        "LEADBRIDGE_HSTS_SECONDS": _int_env("HSTS_SECONDS", 31536000),
        # Private networks alert webhooks may be posted to (server/alerts/destinations.py).
        "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS": _env("WEBHOOK_ALLOWED_NETWORKS") or "",
        "LEADBRIDGE_STATS_CACHE_SECONDS": _float_env("STATS_CACHE_SECONDS", 3.0),
        "LEADBRIDGE_WORKERS": _int_env("WORKERS", 2 * (os.cpu_count() or 1) + 1),
        "LEADBRIDGE_THREADS": _int_env("THREADS", 4),
        # No ping before each use: it cost a round trip per request. A connection that died
        # with a database restart fails one request with 503 (server/errors.py) and the pool
        # is refilled; connections are renewed hourly so idle ones never go stale.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 3600},
    }
    public_https = str(settings["LEADBRIDGE_PUBLIC_URL"]).startswith("https://")
    # Cookies only over HTTPS once the server is reached over HTTPS.
    secure = _bool_env("SECURE_COOKIES", public_https)
    settings.update(
        {
            "SESSION_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
        }
    )
    # Computed lazily: the secret may be written to disk, which tests must not cause.
    if "SECRET_KEY" not in given:
        settings["SECRET_KEY"] = load_secret_key(instance_path)
    if "SQLALCHEMY_DATABASE_URI" not in given:
        settings["SQLALCHEMY_DATABASE_URI"] = database_url(instance_path)
    return settings


def size_connection_pool(settings: dict[str, Any]) -> None:
    """Keep a pooled database connection for every serving thread, and two to spare.

    A thread that finds the pool empty opens a connection and closes it after its request:
    for PostgreSQL a new server process and an authentication each time, which under load
    cost more than the requests themselves. The two spare serve the in-process dispatcher
    and health checks. In-memory SQLite has a single shared connection and no pool size.
    """
    url = make_url(settings["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_size", int(settings["LEADBRIDGE_THREADS"]) + 2)
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options


def hide_statement_parameters(settings: dict[str, Any]) -> None:
    """Keep statement parameters (leads' names, emails, notes) out of database errors.

    SQLAlchemy writes a failed statement's parameters into the exception's message, which
    reaches logs and tracebacks; hide_parameters leaves them out. Forced on, whatever
    the engine options say: no deployment wants personal data in its logs.
    """
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["hide_parameters"] = True
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options


def encode_json_column(value: Any) -> str:
    """Return a JSON column's value as text, as json.dumps would, about ten times faster.

    The text is compact UTF-8 rather than ASCII escapes; either reads back the same. A NaN
    becomes null (json.dumps would write NaN, which is not JSON and PostgreSQL refuses).
    """
    return msgspec.json.encode(value).decode()


def encode_json_columns_fast(settings: dict[str, Any]) -> None:
    """Encode JSON columns (activities, answers, alert details) with msgspec, not json.dumps.

    Every pushed lead writes several: its answers and one detail per timeline entry.
    """
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("json_serializer", encode_json_column)
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options


def instance_dir() -> str | None:
    """Return LEADBRIDGE_INSTANCE_DIR, where the SQLite file and secret key live, if set."""
    return _env("INSTANCE_DIR") or None
