"""Send a test alert (a made-up lead) down one saved channel, as real alerts are sent.

The settings pages offer it next to each channel: the message is a made-up lead at the
real event (kind "test", so receivers can tell it apart), rendered and sent exactly as
the dispatcher renders and sends alerts. It is sent at once, not queued: the person who
pressed the button sees whether it arrived, or why not.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from server.alerts.destinations import checked_session, parse_networks
from server.alerts.message import render_alert
from server.alerts.models import Channel
from server.alerts.send import send_alert
from server.events.models import Event


def sample_context(event: Event | None, rep_name: str | None) -> dict[str, Any]:
    """Return an alert context about a made-up visitor, at event when there is one."""
    return {
        "event": {
            "name": event.name if event else "leadbridge",
            "booth": event.booth if event else None,
            "campaign_code": event.campaign_code if event else None,
            "timezone": event.timezone if event else "UTC",
            "venue": event.venue if event else None,
        },
        "lead": {
            "id": None,
            "first_name": "Test",
            "last_name": "Visitor",
            "email": "test.visitor@example.com",
            "company": "Example Ltd",
            "job_title": "Head of Testing",
            "notes": "A test alert: no real visitor behind it.",
            "follow_up": False,
            "rating": "hot",
            "source": "test",
        },
        "answers": [],
        "products": [],
        "score": {"points": None, "band": None, "reasons": []},
        "consent": {"given": False, "version": None, "text_excerpt": ""},
        "earlier_touches": [],
        "ack_url": None,
        "lead_url": None,
        "rep": {"name": rep_name},
    }


def send_test_alert(
    channel: Channel, target: str, *, event: Event | None, rep_name: str | None, secret: str = ""
) -> None:
    """Send a test alert to target by channel; raise DeliveryError saying why it failed."""
    config = current_app.config
    message = render_alert(sample_context(event, rep_name), f"test:{uuid.uuid4()}", "test")
    networks = parse_networks(config["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"])
    with checked_session(networks) as session:
        send_alert(
            channel,
            target,
            message,
            config=config,
            allowed_networks=networks,
            session=session,
            secret=secret,
        )
