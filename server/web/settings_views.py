"""An event's settings pages (one per section) and the "send a test alert" buttons."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from server.alerts.channels import DeliveryError
from server.alerts.models import Channel
from server.alerts.sample import send_test_alert
from server.events.access import get_visible_event
from server.events.models import Event
from server.extensions import db
from server.users.models import Role, User
from server.web import alert_sections, config_sections  # noqa: F401 - they register sections
from server.web.alert_sections import save_user_channels
from server.web.blueprint import bp
from server.web.limits import test_alert_limit
from server.web.session import MANAGERS, WEB_ROLES, principal, roles_required
from server.web.settings_sections import SECTIONS, FormError, Section

CHANNEL_WORDS = {"email": "email", "webhook": "webhook", "chat": "chat webhook"}


def _section(key: str) -> Section:
    section = SECTIONS.get(key)
    if section is None:
        abort(404, "No such settings page.")
    return section


def _render(event: Event, section: Section, values: dict[str, Any], errors: list[str]) -> str:
    return render_template(
        "web/event_settings.html",
        event=event,
        section=section,
        sections=list(SECTIONS.values()),
        values=values,
        errors=errors,
        **section.context(event),
    )


@bp.get("/events/<id:event_id>/settings/<key>")
@roles_required(*MANAGERS)
def event_settings(event_id: int, key: str) -> str:
    """Show one section of an event's settings."""
    event = get_visible_event(principal(), event_id)
    section = _section(key)
    return _render(event, section, section.values(event), [])


@bp.post("/events/<id:event_id>/settings/<key>")
@roles_required(*MANAGERS)
def event_settings_save(event_id: int, key: str) -> tuple[str, int] | Response:
    """Save one section of an event's settings through the API's schema and service."""
    event = get_visible_event(principal(), event_id)
    section = _section(key)
    try:
        section.save(request.form, event, principal().user)
    except FormError as error:
        db.session.rollback()
        event = get_visible_event(principal(), event_id)
        return _render(event, section, error.values, error.errors), 422
    flash(section.saved)
    return redirect(url_for("web.event_settings", event_id=event.id, key=section.key))


def _channel(form_value: str) -> Channel:
    try:
        return Channel(form_value)
    except ValueError:
        abort(400, "Choose email, webhook or chat.")


def _try_test_alert(
    channel: Channel, target: str | None, *, event: Event | None, rep: User, secret: str = ""
) -> None:
    words = CHANNEL_WORDS[channel.value]
    if not target and channel == Channel.EMAIL:
        flash("Email alerts are switched off here: tick it, save, then send a test.", "error")
        return
    if not target:
        flash(f"No {words} address is saved yet: save one, then send a test alert.", "error")
        return
    try:
        send_test_alert(channel, target, event=event, rep_name=rep.name, secret=secret)
    except DeliveryError as error:
        # The error names the channel, host and status, never the address or a secret.
        flash(f"The test alert by {words} failed: {error}.", "error")
        return
    where = target if channel == Channel.EMAIL else "the saved URL"
    flash(f"Test alert sent by {words} to {where}.")


@bp.post("/events/<id:event_id>/settings/alerts/test")
@roles_required(*MANAGERS)
@test_alert_limit
def event_test_alert(event_id: int) -> Response:
    """Send a test alert down one of the event's saved channels, and say how it went."""
    event = get_visible_event(principal(), event_id)
    channel = _channel(request.form.get("channel", ""))
    alerts = event.alerts or {}
    me: User = principal().user
    if channel == Channel.EMAIL:
        # The event's email channel mails each rep; the test goes to whoever pressed it.
        target = me.email if alerts.get("email", True) else None
    else:
        target = alerts.get("webhook_url" if channel == Channel.WEBHOOK else "chat_webhook_url")
    _try_test_alert(channel, target, event=event, rep=me, secret=alerts.get("webhook_secret") or "")
    return redirect(url_for("web.event_settings", event_id=event.id, key="alerts"))


def _user_target(user: User, channel: Channel) -> str | None:
    alerts = user.alerts or {}
    if channel == Channel.EMAIL:
        return user.email if alerts.get("email", True) else None
    return alerts.get("webhook_url" if channel == Channel.WEBHOOK else "chat_webhook_url")


def _channels_page(user: User, values: dict[str, Any], errors: list[str], own: bool) -> str:
    return render_template(
        "web/alert_channels.html", person=user, values=values, errors=errors, own=own
    )


def _person(user_id: int | None) -> tuple[User, bool]:
    """Return whose channels the page edits: one's own, or (admins) anyone's."""
    me: User = current_user.user
    if user_id is None or user_id == me.id:
        return me, True
    if me.role != Role.ADMIN:
        abort(403, "Only admins change other people's alert channels.")
    return db.get_or_404(User, user_id), False


def _channels_url(user: User, own: bool) -> str:
    if own:
        return url_for("web.my_alert_channels")
    return url_for("web.user_alert_channels", user_id=user.id)


@bp.get("/account/alerts")
@roles_required(*WEB_ROLES)
def my_alert_channels() -> str:
    """Show one's own alert channels."""
    me: User = current_user.user
    return _channels_page(me, alert_sections.channel_values(me.alerts), [], True)


@bp.get("/users/<id:user_id>/alerts")
@roles_required(Role.ADMIN)
def user_alert_channels(user_id: int) -> str:
    """Show a person's alert channels (admins)."""
    user, own = _person(user_id)
    return _channels_page(user, alert_sections.channel_values(user.alerts), [], own)


def _save_channels(user: User, own: bool) -> tuple[str, int] | Response:
    try:
        save_user_channels(user, request.form)
    except FormError as error:
        db.session.rollback()
        return _channels_page(user, error.values, error.errors, own), 422
    flash("Alert channels saved.")
    return redirect(_channels_url(user, own))


@bp.post("/account/alerts")
@roles_required(*WEB_ROLES)
def my_alert_channels_save() -> tuple[str, int] | Response:
    """Save one's own alert channels."""
    return _save_channels(current_user.user, True)


@bp.post("/users/<id:user_id>/alerts")
@roles_required(Role.ADMIN)
def user_alert_channels_save(user_id: int) -> tuple[str, int] | Response:
    """Save a person's alert channels (admins)."""
    user, own = _person(user_id)
    return _save_channels(user, own)


def _test_channels(user: User, own: bool) -> Response:
    channel = _channel(request.form.get("channel", ""))
    _try_test_alert(channel, _user_target(user, channel), event=None, rep=user)
    return redirect(_channels_url(user, own))


@bp.post("/account/alerts/test")
@roles_required(*WEB_ROLES)
@test_alert_limit
def my_test_alert() -> Response:
    """Send a test alert down one of one's own saved channels."""
    return _test_channels(current_user.user, True)


@bp.post("/users/<id:user_id>/alerts/test")
@roles_required(Role.ADMIN)
@test_alert_limit
def user_test_alert(user_id: int) -> Response:
    """Send a test alert down one of a person's saved channels (admins)."""
    user, own = _person(user_id)
    return _test_channels(user, own)
