"""The ``leadbridge`` command: serve, migrate, and manage users, events and pairing codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from server import create_app
from server.devices.service import issue_pairing_code
from server.events.models import Event
from server.events.schemas import EventSchema
from server.events.service import create_event
from server.extensions import db
from server.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
from server.users.models import Role
from server.users.schemas import UserSchema
from server.users.service import create_user


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Run and manage a leadbridge server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads", type=click.IntRange(1, 256), default=None, help="Threads (LEADBRIDGE_THREADS)."
)
@click.option(
    "--production",
    is_flag=True,
    help="Serve with gunicorn (PostgreSQL and Redis required; see server/ops/gunicorn_conf.py).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="gunicorn workers.")
@with_appcontext
def serve(host: str, port: int, threads: int | None, production: bool, workers: int | None) -> None:
    """Serve leadbridge with waitress; alerts go out from this process unless Redis is set."""
    import waitress

    from server.alerts.dispatcher import Dispatcher
    from server.alerts.queue import rq_enabled
    from server.crm.poller import OutcomePoller

    app = current_app._get_current_object()
    if production:
        from server.ops.production import exec_gunicorn, production_problems

        problems = production_problems(app)
        if problems:
            raise click.ClickException("\n".join(problems))
        click.echo(f"leadbridge (gunicorn) is serving on http://{host}:{port}/")
        exec_gunicorn(host, port, workers)
    dispatcher = None if rq_enabled(app) else Dispatcher(app)
    if dispatcher is None:
        click.echo("Alerts are delivered by `leadbridge worker` processes (LEADBRIDGE_REDIS_URL).")
    else:
        dispatcher.start()
    # CRM webhooks arrive here: their outcomes are read at once, not after delivery rounds.
    poller = OutcomePoller(app)
    poller.start()
    click.echo(f"leadbridge is serving on http://{host}:{port}/  (API docs: /api/docs)")
    try:
        # The database pool is sized for LEADBRIDGE_THREADS (server/config.py).
        waitress.serve(
            app, host=host, port=port, threads=threads or app.config["LEADBRIDGE_THREADS"]
        )
    finally:
        poller.stop()
        if dispatcher is not None:
            dispatcher.stop()


@main.command()
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Deliver alerts from the Redis queue (needs LEADBRIDGE_REDIS_URL); run as many as needed."""
    from server.alerts.queue import rq_enabled
    from server.alerts.worker import run_worker

    app = current_app._get_current_object()
    if not rq_enabled(app):
        raise click.ClickException(
            "Set LEADBRIDGE_REDIS_URL to use workers; without it, `leadbridge serve` sends alerts."
        )
    click.echo(f"leadbridge worker on queue {app.config['LEADBRIDGE_ALERT_QUEUE']!r}")
    run_worker(app, burst=burst)


@main.command()
@click.option("--today", help="YYYY-MM-DD; default: today (UTC).")
@with_appcontext
def retention(today: str | None) -> None:
    """Erase the idle leads of events past their retention_days (run daily)."""
    from server.privacy.retention import erase_expired

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from None
    done = erase_expired(day)
    for entry in done:
        click.echo(f"event {entry['event_id']}: erased {entry['leads_erased']} leads")
    click.echo(f"retention: {sum(entry['leads_erased'] for entry in done)} leads erased")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(email: str, name: str, role: str, password: str) -> None:
    """Create a user who can log in."""
    fields = _validated(
        UserSchema(), {"email": email, "name": name, "role": role, "password": password}
    )
    with _api_errors():
        user = create_user(fields)
    click.echo(f"Created {user.role.value} {user.id}.")


@main.command("create-event")
@click.option("--name", required=True)
@click.option("--starts-on", required=True, help="YYYY-MM-DD")
@click.option("--ends-on", required=True, help="YYYY-MM-DD")
@click.option("--timezone", required=True, help="IANA name, e.g. Europe/Berlin.")
@click.option("--country", default=None, help="ISO country code; default region for phones.")
@click.option("--venue", default=None)
@click.option("--booth", default=None)
@with_appcontext
def create_event_command(**options: object) -> None:
    """Create an event (edit its questions and rubric in the API or dashboard)."""
    given = {key: value for key, value in options.items() if value is not None}
    fields = _validated(EventSchema(), given)
    with _api_errors():
        event = create_event(fields)
    click.echo(f"Created event {event.id}.")


@main.command("pair-code")
@click.option("--event-id", type=int, required=True)
@click.option("--minutes", type=click.IntRange(1, 14 * 24 * 60), default=None)
@with_appcontext
def pair_code_command(event_id: int, minutes: int | None) -> None:
    """Issue a single-use code that pairs one tablet with an event."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise click.ClickException(f"No event {event_id}.")
    with _api_errors():
        issued = issue_pairing_code(event, None, minutes)
    click.echo(
        f"Pairing code for event {event_id}: {issued['code']} (until {issued['expires_at']})"
    )


@main.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo event and users if missing, and print how to log in."""
    info = seed_demo(date.today())
    state = "Created" if info.created else "Found"
    click.echo(
        f"{state} the demo event (id {info.event_id}). Log in with password {DEMO_PASSWORD!r} as:"
    )
    for email, _name, role, _territory, _products in DEMO_USERS:
        click.echo(f"  {role.value:9} {email}")
    click.echo(f"Tablet pairing code (valid 7 days, single use): {info.pairing_code}")


def _validated(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Load data with the API's schema, so the CLI accepts exactly what the API accepts."""
    try:
        return schema.load(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{field}: {' '.join(map(str, msgs))}" for field, msgs in error.messages.items()
        )
        raise click.ClickException(problems) from None


@contextmanager
def _api_errors() -> Iterator[None]:
    """Turn an API error raised by a service into a clean CLI error."""
    try:
        yield
    except HTTPException as error:
        db.session.rollback()
        data = getattr(error, "data", {}) or {}
        details = data.get("errors") or ""
        raise click.ClickException(f"{data.get('message', error.description)} {details}") from None


if __name__ == "__main__":
    main()
