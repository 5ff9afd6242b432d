"""Send one rendered alert down one channel: the step the dispatcher and test alerts share.

Email goes to the SMTP relay; webhook and chat URLs are checked against the server's own
network first (server/alerts/destinations.py), then posted through a checked session.
"""

from __future__ import annotations

from typing import Any

import requests

from server.alerts.channels import DeliveryError, SmtpSettings, send_chat, send_email, send_webhook
from server.alerts.destinations import DestinationRefused, IPNetwork, check_destination
from server.alerts.message import AlertMessage
from server.alerts.models import Channel


def smtp_settings(config: dict[str, Any]) -> SmtpSettings:
    """Return the SMTP settings from the app's config."""
    return SmtpSettings(
        host=config["LEADBRIDGE_SMTP_HOST"],
        port=config["LEADBRIDGE_SMTP_PORT"],
        username=config.get("LEADBRIDGE_SMTP_USERNAME") or None,
        password=config.get("LEADBRIDGE_SMTP_PASSWORD") or None,
        starttls=config["LEADBRIDGE_SMTP_STARTTLS"],
        sender=config["LEADBRIDGE_SMTP_SENDER"],
    )


def send_alert(
    channel: Channel,
    target: str,
    message: AlertMessage,
    *,
    config: dict[str, Any],
    allowed_networks: tuple[IPNetwork, ...],
    session: requests.Session,
    secret: str = "",
) -> None:
    """Deliver message to target by channel; raise DeliveryError when it did not arrive."""
    if channel == Channel.EMAIL:
        send_email(smtp_settings(config), target, message)
        return
    try:
        check_destination(target, allowed_networks)
    except DestinationRefused as refused:
        raise DeliveryError(f"{channel.value}: refused, {refused}", retryable=False) from None
    timeout = config["LEADBRIDGE_ALERT_TIMEOUT_SECONDS"]
    if channel == Channel.WEBHOOK:
        send_webhook(target, secret, message, timeout=timeout, session=session)
    else:
        send_chat(target, message, timeout=timeout, session=session)
