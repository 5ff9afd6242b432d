"""Deliver a rendered alert by email, signed webhook or chat webhook.

Each sender either returns (delivered) or raises DeliveryError, which says whether
trying again later may help. Error text names the channel, the host and the status,
never the recipient or the lead: it is stored on the job and logged. For the same
reason the underlying exception is not chained (``from None``): its text may hold
the recipient address, or a webhook URL whose path is itself a secret.
"""

from __future__ import annotations

import hashlib
import io
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from server.alerts.destinations import DestinationRefused
from server.alerts.message import AlertMessage
from server.alerts.signing import signature_header

USER_AGENT = "leadbridge-alerts/1"
SIGNATURE_HEADER = "X-Leadbridge-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EMAIL_IDEMPOTENCY_HEADER = "X-Leadbridge-Idempotency-Key"
# Timeouts and throttling pass; so do a receiver's own failures.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
# Receivers answer a few bytes ("ok"); read this much of an answer, no more.
_ANSWER_READ_BYTES = 64 * 1024


class DeliveryError(Exception):
    """An alert was not delivered; retryable says whether a later attempt may succeed."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: str | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        # The receiver's Retry-After header, a lower bound on the next attempt's delay.
        self.retry_after = retry_after


@dataclass
class SmtpSettings:
    """Where and how to hand email to an SMTP relay."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "leadbridge@localhost"
    timeout: float = 10.0


def message_id(idempotency_key: str, sender: str) -> str:
    """Return the Message-ID of an alert: the same key always gives the same id."""
    domain = sender.rpartition("@")[2] or "localhost"
    # The key holds characters (":") that a Message-ID may not; a digest of it never does.
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<alert.{digest}@{domain}>"


def build_email(settings: SmtpSettings, to_address: str, message: AlertMessage) -> EmailMessage:
    """Return the multipart/alternative email (plain text and HTML) for message."""
    mail = EmailMessage()
    try:
        mail["Subject"] = message.subject
        mail["From"] = settings.sender
        mail["To"] = to_address
    except (ValueError, IndexError, TypeError):
        # The header parser rejects line breaks and malformed addresses; repeat neither.
        raise DeliveryError("email: invalid recipient or sender address", retryable=False) from None
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.idempotency_key, settings.sender)
    mail[EMAIL_IDEMPOTENCY_HEADER] = message.idempotency_key
    # RFC 3834: tells out-of-office responders not to answer a machine.
    mail["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps both parts 7-bit, so any relay accepts them, names with accents too.
    mail.set_content(message.text, cte="quoted-printable")
    mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return mail


def _wire_bytes(mail: EmailMessage) -> bytes:
    # Headers are written unfolded (up to RFC 5322's hard limit of 998): folding puts a long
    # idempotency key on a continuation line, and some parsers then keep the leading space,
    # which would break de-duplication by exact match. The bodies are already encoded.
    buffer = io.BytesIO()
    wire_policy = mail.policy.clone(max_line_length=998, linesep="\r\n")
    BytesGenerator(buffer, policy=wire_policy).flatten(mail)
    return buffer.getvalue()


def _smtp_error(where: str, error: Exception) -> DeliveryError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        code = codes[0] if codes else None
        retryable = any(400 <= c < 500 for c in codes)
        return DeliveryError(
            f"email via {where}: recipient refused ({code})", retryable=retryable, status=code
        )
    if isinstance(error, smtplib.SMTPResponseException):
        # 4xx is a temporary failure by definition (RFC 5321 4.2.1); 5xx is permanent.
        # The server's own reply text is left out: it often repeats the address.
        code = error.smtp_code
        retryable = not (500 <= code < 600)
        name = type(error).__name__
        return DeliveryError(
            f"email via {where}: {name} ({code})", retryable=retryable, status=code
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"email via {where}: server lacks a needed extension", retryable=False)
    if isinstance(error, ssl.SSLCertVerificationError):
        return DeliveryError(f"email via {where}: TLS certificate not trusted", retryable=False)
    if isinstance(error, TimeoutError):
        return DeliveryError(f"email via {where}: timed out", retryable=True)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return DeliveryError(f"email via {where}: server disconnected", retryable=True)
    if isinstance(error, ConnectionRefusedError):
        return DeliveryError(f"email via {where}: connection refused", retryable=True)
    return DeliveryError(f"email via {where}: {type(error).__name__}", retryable=True)


def send_email(settings: SmtpSettings, to_address: str, message: AlertMessage) -> None:
    """Send message to to_address through the SMTP relay in settings."""
    mail = build_email(settings, to_address, message)
    where = f"{settings.host}:{settings.port}"
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.sendmail(settings.sender, [to_address], _wire_bytes(mail))
    except (smtplib.SMTPException, OSError) as error:
        raise _smtp_error(where, error) from None
    except UnicodeError:
        # An address smtplib cannot put on the wire (non-ASCII without SMTPUTF8).
        raise DeliveryError(f"email via {where}: address not encodable", retryable=False) from None


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "unknown host"
    except ValueError:
        return "unknown host"


def _post_json(
    channel: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    session: requests.Session | None,
) -> None:
    host = _host(url)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    post = session.post if session is not None else requests.post
    try:
        # Redirects would turn the POST into a GET elsewhere; a receiver must give its real URL.
        response = post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
    except DestinationRefused as refused:
        # The address reached at connect time (server/alerts/destinations.py): never retried.
        raise DeliveryError(f"{channel}: refused, {refused}", retryable=False) from None
    except requests.Timeout:
        raise DeliveryError(f"{channel} to {host}: timed out", retryable=True) from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as error:
        name = type(error).__name__
        raise DeliveryError(f"{channel}: unusable URL ({name})", retryable=False) from None
    except requests.exceptions.InvalidSchema:
        raise DeliveryError(f"{channel}: unusable URL (scheme)", retryable=False) from None
    except requests.ConnectionError:
        raise DeliveryError(f"{channel} to {host}: connection failed", retryable=True) from None
    except requests.RequestException as error:
        name = type(error).__name__
        raise DeliveryError(f"{channel} to {host}: {name}", retryable=True) from None
    status = response.status_code
    # Only the status matters. A short answer is read to its end, which hands the connection
    # back to the session's pool for the next alert; a longer one is cut off, which drops it.
    try:
        response.raw.read(_ANSWER_READ_BYTES, decode_content=False)
    except (OSError, urllib3.exceptions.HTTPError):
        pass  # the answer is not needed; its connection is dropped below
    response.close()
    if 200 <= status < 300:
        return
    retryable = status in RETRYABLE_STATUSES or status >= 500
    raise DeliveryError(f"{channel} to {host}: HTTP {status}", retryable=retryable, status=status)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def send_webhook(
    url: str,
    secret: str,
    message: AlertMessage,
    *,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> None:
    """POST the alert's JSON payload to url, signed with secret."""
    body = _json_bytes(message.payload)
    headers = {
        SIGNATURE_HEADER: signature_header(secret, body),
        IDEMPOTENCY_HEADER: message.idempotency_key,
    }
    _post_json("webhook", url, body, headers, timeout, session)


def send_chat(
    url: str,
    message: AlertMessage,
    *,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> None:
    """POST the alert's chat blocks to a Slack-style incoming webhook at url."""
    headers = {IDEMPOTENCY_HEADER: message.idempotency_key}
    _post_json("chat", url, _json_bytes(message.chat), headers, timeout, session)
