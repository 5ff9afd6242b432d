"""Alert rendering and delivery by email, signed webhook and chat, against real loopback peers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.alerts.channels import (
    DeliveryError,
    SmtpSettings,
    message_id,
    send_chat,
    send_email,
    send_webhook,
)
from server.alerts.destinations import checked_session, parse_networks
from server.alerts.message import AlertMessage, render_alert
from server.alerts.signing import sign, signature_header, verify
from tests.peers import LOOPBACK_NETWORKS, SmtpRecorder, WebhookReceiver, closed_port_url

SECRET = "whsec-test-0123456789"
KEY = "3f1c2a9e-0000-4000-8000-000000000001:7:new_lead:webhook:abcdef123456"
EMAIL = "ann.example@example.com"
PHONE = "+49 30 1234567"
MALICIOUS = "<script>alert(1)</script> wants a call back"


def make_context(**lead_overrides: Any) -> dict[str, Any]:
    """Return an alert context like server/alerts/context.py builds."""
    lead = {
        "id": "3f1c2a9e-0000-4000-8000-000000000001",
        "first_name": "Ann",
        "last_name": "Example",
        "email": EMAIL,
        "phone": PHONE,
        "company": "Example GmbH",
        "job_title": "Head of Events",
        "country": "DE",
        "region": "Berlin",
        "notes": "Budget approved for Q1; call after 3pm",
        "follow_up": True,
        "rating": "warm",
        "captured_at_local": "Mon 23 Nov 2026, 14:05 CET",
        "captured_by": "Sam Staffer",
        "source": "tablet",
        **lead_overrides,
    }
    return {
        "event": {
            "name": "Demo Expo",
            "booth": "B12",
            "campaign_code": "EXPO26-Q4",
            "timezone": "Europe/Berlin",
            "venue": "Messe Berlin",
        },
        "lead": lead,
        "answers": [
            {"question": "Budget confirmed?", "answer": "Yes"},
            {"question": "Interested in", "answer": "Scanning, Badges"},
        ],
        "products": ["Badge scanner", "Lead API"],
        "score": {
            "points": 55,
            "band": "hot",
            "reasons": [
                {"reason": "Budget confirmed", "points": 30},
                {"reason": "100+ seats", "points": 15},
            ],
        },
        "consent": {
            "given": True,
            "version": "2026-01",
            "text_excerpt": "I agree that Example Corp may contact me about its products.",
        },
        "earlier_touches": [
            {"event_name": "Spring Fair", "date": "2026-03-04", "status": "contacted"},
        ],
        "ack_url": "http://127.0.0.1:5000/ack/token-abc.def",
        "lead_url": "http://127.0.0.1:5000/api/v1/leads/3f1c2a9e-0000-4000-8000-000000000001",
        "rep": {"name": "Rita Rep"},
    }


@pytest.fixture
def message() -> AlertMessage:
    """Return a rendered new-lead alert."""
    return render_alert(make_context(), KEY)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """Yield a running webhook receiver."""
    with WebhookReceiver() as peer:
        yield peer


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    """Yield a running SMTP recorder."""
    with SmtpRecorder() as peer:
        yield peer


MARKETING_FACTS = [
    "Demo Expo",
    "B12",
    "EXPO26-Q4",
    "Messe Berlin",
    "Sam Staffer",
    "Mon 23 Nov 2026, 14:05 CET",
    "Ann Example",
    "Example GmbH",
    "Head of Events",
    EMAIL,
    PHONE,
    "Berlin",
    "Budget confirmed?",
    "Scanning, Badges",
    "Badge scanner",
    "Lead API",
    "55 points",
    "Budget confirmed",
    "100+ seats",
    "warm",
    "Budget approved for Q1",
    "Follow-up requested: Yes",
    "2026-01",
    "Example Corp may contact me",
    "Spring Fair",
    "2026-03-04",
    "contacted",
    "Rita Rep",
]


def test_subject_names_rating_band_person_company_and_event(message: AlertMessage) -> None:
    assert (
        message.subject
        == "New lead, rated warm, scored hot: Ann Example (Example GmbH) at Demo Expo"
    )
    assert message.idempotency_key == KEY


def unscored_context(rating: str | None = "hot") -> dict[str, Any]:
    """Return the context of a lead at an event without rubric rules (no band)."""
    context = make_context(rating=rating)
    context["score"] = {"points": 0, "band": None, "reasons": []}
    return context


def test_without_a_rubric_every_channel_says_the_staff_rating_and_no_band() -> None:
    rendered = render_alert(unscored_context("hot"), KEY)
    assert rendered.subject == "New lead, rated hot: Ann Example (Example GmbH) at Demo Expo"
    for body in (rendered.text, rendered.html):
        assert "Staff rating: " in body and "hot" in body
        assert "Not scored: this event has no rubric rules" in body
        assert "cold" not in body.lower() and "0 points" not in body
    assert "Staff rating: hot" in rendered.text
    assert rendered.payload["subject"] == rendered.subject
    assert rendered.payload["grading"] == {
        "rating": "hot",
        "band": None,
        "points": None,
        "text": "rated hot",
    }
    chat = json.dumps(rendered.chat)
    assert rendered.chat["text"] == rendered.subject
    assert "*Staff rating*\\nhot" in chat and "cold" not in chat.lower()


def test_with_a_rubric_the_band_and_points_are_stated_beside_the_rating(
    message: AlertMessage,
) -> None:
    assert "Staff rating: warm" in message.text
    assert "Score: Hot, 55 points" in message.text
    assert "  +30 Budget confirmed" in message.text
    assert message.payload["grading"] == {
        "rating": "warm",
        "band": "hot",
        "points": 55,
        "text": "rated warm, scored hot (55 points)",
    }
    assert "*Score*\\nHot, 55 points" in json.dumps(message.chat)


def test_a_lead_neither_rated_nor_scored_has_a_plain_subject() -> None:
    rendered = render_alert(unscored_context(None), KEY)
    assert rendered.subject == "New lead: Ann Example (Example GmbH) at Demo Expo"
    assert "Staff rating: none" in rendered.text


@pytest.mark.parametrize(
    ("kind", "start"),
    [("reminder", "Reminder: not yet acknowledged"), ("escalated", "Reassigned to you")],
)
def test_subject_prefix_follows_the_kind(kind: str, start: str) -> None:
    rendered = render_alert(make_context(), KEY, kind)
    assert rendered.subject.startswith(f"{start}, rated warm, scored hot: ")
    assert "Example GmbH" in rendered.subject
    assert rendered.payload["type"] == kind


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        render_alert(make_context(), KEY, "birthday")


@pytest.mark.parametrize("part", ["text", "html"])
def test_text_and_html_carry_the_whole_marketing_context(message: AlertMessage, part: str) -> None:
    body = getattr(message, part)
    missing = [fact for fact in MARKETING_FACTS if fact not in body]
    assert not missing
    assert "Hot" in body
    assert "http://127.0.0.1:5000/ack/token-abc.def" in body
    assert "/api/v1/leads/3f1c2a9e-0000-4000-8000-000000000001" in body


def test_plain_text_is_phone_friendly(message: AlertMessage) -> None:
    lines = message.text.splitlines()
    assert lines[0] == message.subject
    # Facts, not layout: no line beyond what a phone shows without sideways scrolling, URLs aside.
    assert all(len(line) <= 80 for line in lines if "http" not in line)
    assert "\n\n\n" not in message.text


def test_html_escapes_lead_content() -> None:
    rendered = render_alert(make_context(notes=MALICIOUS, company="Smith & <Sons>"), KEY)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "Smith &amp; &lt;Sons&gt;" in rendered.html
    # The plain text shows what staff typed, exactly.
    assert MALICIOUS in rendered.text


def test_missing_optional_fields_render_without_gaps() -> None:
    context = make_context(
        company=None, job_title=None, phone=None, notes=None, follow_up=False, rating=None
    )
    context.update(answers=[], products=[], earlier_touches=[])
    context["consent"] = {"given": False, "version": None, "text_excerpt": ""}
    rendered = render_alert(context, KEY)
    assert rendered.subject == "New lead, scored hot: Ann Example at Demo Expo"
    for body in (rendered.text, rendered.html):
        assert "None" not in body
        assert "Not given" in body
    assert "\n\n\n" not in rendered.text


def test_payload_is_json_and_carries_the_context(message: AlertMessage) -> None:
    document = json.loads(json.dumps(message.payload))
    assert document["type"] == "new_lead"
    assert document["idempotency_key"] == KEY
    assert document["lead"]["email"] == EMAIL
    assert document["score"]["reasons"][0] == {"reason": "Budget confirmed", "points": 30}
    assert document["ack_url"].endswith("/ack/token-abc.def")
    expected = {"event", "lead", "answers", "products", "score", "consent", "earlier_touches"}
    assert expected <= set(document)


def test_message_does_not_follow_later_changes_to_the_context() -> None:
    context = make_context()
    rendered = render_alert(context, KEY)
    context["lead"]["email"] = "changed@example.com"
    assert rendered.payload["lead"]["email"] == EMAIL


def test_chat_blocks_escape_lead_content() -> None:
    rendered = render_alert(make_context(notes=MALICIOUS), KEY)
    dumped = json.dumps(rendered.chat)
    assert "<script>" not in dumped
    assert "&lt;script&gt;" in dumped


# --- email -----------------------------------------------------------------------------------


def smtp_settings(smtp: SmtpRecorder, **overrides: Any) -> SmtpSettings:
    """Return settings that send to the recorder."""
    return SmtpSettings(host=smtp.host, port=smtp.port, timeout=5.0, **overrides)


def test_email_arrives_as_multipart_text_and_html(
    smtp: SmtpRecorder, message: AlertMessage
) -> None:
    settings = smtp_settings(smtp, sender="alerts@leadbridge.test")
    send_email(settings, "rita@example.com", message)
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == message.subject
    assert mail["From"] == "alerts@leadbridge.test"
    assert mail["To"] == "rita@example.com"
    assert mail["X-Leadbridge-Idempotency-Key"] == KEY
    assert mail["Message-ID"] == message_id(KEY, "alerts@leadbridge.test")
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == message.text
    assert "Budget approved for Q1" in html.get_content()
    assert smtp.envelopes == [("alerts@leadbridge.test", ["rita@example.com"])]


def test_message_id_is_stable_for_the_same_key(smtp: SmtpRecorder, message: AlertMessage) -> None:
    settings = smtp_settings(smtp)
    send_email(settings, "rita@example.com", message)
    send_email(settings, "rita@example.com", render_alert(make_context(), KEY))
    send_email(settings, "rita@example.com", render_alert(make_context(), KEY + "-other"))
    first, again, other = smtp.wait_for(3)
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].startswith("<") and first["Message-ID"].endswith("@localhost>")


def test_accented_names_survive_the_trip(smtp: SmtpRecorder) -> None:
    rendered = render_alert(make_context(first_name="Zoë", last_name="Müller-Ångström"), KEY)
    send_email(smtp_settings(smtp), "rita@example.com", rendered)
    [mail] = smtp.wait_for(1)
    assert "Zoë Müller-Ångström" in mail["Subject"]
    assert "Zoë Müller-Ångström" in mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(("reply", "retryable"), [("451 4.3.0 Try later", True), ("554 No", False)])
def test_smtp_refusals_follow_the_reply_class(
    smtp: SmtpRecorder, message: AlertMessage, reply: str, retryable: bool
) -> None:
    smtp.fail_with = reply
    with pytest.raises(DeliveryError) as caught:
        send_email(smtp_settings(smtp), EMAIL, message)
    assert caught.value.retryable is retryable
    assert caught.value.status == int(reply[:3])
    assert_no_personal_data(caught.value)


def test_email_to_a_closed_port_is_retryable(message: AlertMessage) -> None:
    port = int(closed_port_url().rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(DeliveryError) as caught:
        send_email(SmtpSettings(host="127.0.0.1", port=port, timeout=2.0), EMAIL, message)
    assert caught.value.retryable is True
    assert_no_personal_data(caught.value)


def test_header_injection_in_the_address_is_refused(message: AlertMessage) -> None:
    with pytest.raises(DeliveryError) as caught:
        send_email(SmtpSettings(host="127.0.0.1", port=1), "x@example.com\r\nBcc: y@z", message)
    assert caught.value.retryable is False


# --- signatures ------------------------------------------------------------------------------


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"a":1}'
    now = 1_800_000_000
    header = signature_header(SECRET, body, now=now)
    assert header == f"t={now},v1={sign(SECRET, now, body)}"
    assert verify(SECRET, header, body, now=now + 10)
    assert not verify(SECRET, header, b'{"a":2}', now=now)
    assert not verify("other-secret", header, body, now=now)
    assert not verify(SECRET, header, body, now=now + 301)
    assert not verify(SECRET, header, body, now=now - 301)
    assert verify(SECRET, header, body, now=now + 600, tolerance_s=600)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=,v1=00",
        "t=abc,v1=00",
        "t=-5,v1=00",
        "v1=00",
        "t=1800000000",
        "t=1800000000,t=1800000000,v1=00",
        "t=1800000000;v1=00",
        "t=１８００００００００,v1=00",
    ],
)
def test_malformed_signature_headers_fail(header: str | None) -> None:
    assert verify(SECRET, header, b"{}", now=1_800_000_000) is False


def test_any_matching_signature_passes_during_rotation() -> None:
    body, now = b"{}", 1_800_000_000
    header = f"t={now},v1={sign('old', now, body)},v1={sign(SECRET, now, body)}"
    assert verify(SECRET, header, body, now=now)
    assert verify("old", header, body, now=now)


# --- webhooks --------------------------------------------------------------------------------


def assert_no_personal_data(error: DeliveryError) -> None:
    """Fail if the error's text names the lead or the recipient."""
    text = f"{error} {error!r}"
    for fact in (EMAIL, "Ann", "Example", PHONE, "rita", "Budget approved"):
        assert fact not in text
    # Not chained either: a logged traceback would show the cause's text.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_a_webhook_connection_reaching_a_refused_address_sends_nothing(
    receiver: WebhookReceiver, message: AlertMessage
) -> None:
    # What a DNS answer rebound to an inside address between the dispatcher's look-up and
    # the client's own would do: the connection reaches loopback, which is not allowed here.
    # The address the connection reached is checked before a byte is sent.
    with pytest.raises(DeliveryError) as refused:
        send_webhook(receiver.url(), SECRET, message, timeout=5, session=checked_session(()))
    assert refused.value.retryable is False
    assert "private or reserved address" in str(refused.value)
    assert receiver.requests == []
    assert_no_personal_data(refused.value)
    # The same session kind, with loopback allowed, delivers.
    allowed = checked_session(parse_networks(LOOPBACK_NETWORKS))
    send_webhook(receiver.url(), SECRET, message, timeout=5, session=allowed)
    [request] = receiver.wait_for(1)
    assert request.headers["Idempotency-Key"] == KEY


def test_webhook_is_signed_and_verifiable(receiver: WebhookReceiver, message: AlertMessage) -> None:
    send_webhook(receiver.url(), SECRET, message, timeout=5)
    [request] = receiver.wait_for(1)
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.json == message.payload
    signature = request.headers["X-Leadbridge-Signature"]
    assert verify(SECRET, signature, request.body)
    assert not verify(SECRET, signature, request.body.replace(b"Ann", b"Eve"))
    stale = int(signature.split(",")[0].removeprefix("t=")) + 301
    assert not verify(SECRET, signature, request.body, now=stale)
    assert not verify("wrong", signature, request.body)


def test_webhook_delivery_is_repeatable_with_the_same_key(
    receiver: WebhookReceiver, message: AlertMessage
) -> None:
    send_webhook(receiver.url(), SECRET, message, timeout=5)
    send_webhook(receiver.url(), SECRET, message, timeout=5)
    first, second = receiver.wait_for(2)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == KEY
    assert first.body == second.body


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(503, True), (500, True), (429, True), (408, True), (400, False), (404, False), (410, False)],
)
def test_webhook_statuses(
    receiver: WebhookReceiver, message: AlertMessage, status: int, retryable: bool
) -> None:
    receiver.fail_with = status
    with pytest.raises(DeliveryError) as caught:
        send_webhook(receiver.url(), SECRET, message, timeout=5)
    assert caught.value.retryable is retryable
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert_no_personal_data(caught.value)


def test_fail_next_then_recover(receiver: WebhookReceiver, message: AlertMessage) -> None:
    receiver.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(DeliveryError):
            send_webhook(receiver.url(), SECRET, message, timeout=5)
    send_webhook(receiver.url(), SECRET, message, timeout=5)
    assert [r.status for r in receiver.wait_for(3)] == [503, 503, 200]


def test_slow_receiver_times_out_as_retryable(
    receiver: WebhookReceiver, message: AlertMessage
) -> None:
    receiver.delay_s = 5.0
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        send_webhook(receiver.url(), SECRET, message, timeout=0.3)
    assert time.monotonic() - started < 3
    assert caught.value.retryable is True
    assert "timed out" in str(caught.value)
    assert_no_personal_data(caught.value)


def test_closed_port_is_retryable(message: AlertMessage) -> None:
    with pytest.raises(DeliveryError) as caught:
        send_webhook(closed_port_url(), SECRET, message, timeout=2)
    assert caught.value.retryable is True
    assert_no_personal_data(caught.value)


def test_url_secrets_stay_out_of_errors(receiver: WebhookReceiver, message: AlertMessage) -> None:
    receiver.fail_with = 403
    url = receiver.url("/services/T000/B000/s3cr3t-token")
    with pytest.raises(DeliveryError) as caught:
        send_chat(url, message, timeout=5)
    assert "s3cr3t-token" not in str(caught.value)
    assert caught.value.retryable is False


def test_unusable_url_is_not_retryable(message: AlertMessage) -> None:
    with pytest.raises(DeliveryError) as caught:
        send_webhook("not a url", SECRET, message, timeout=1)
    assert caught.value.retryable is False


# --- chat ------------------------------------------------------------------------------------


def test_chat_posts_slack_blocks_with_an_ack_button(
    receiver: WebhookReceiver, message: AlertMessage
) -> None:
    send_chat(receiver.url("/slack"), message, timeout=5)
    [request] = receiver.wait_for(1)
    document = request.json
    assert request.path == "/slack"
    assert document["text"] == message.subject
    types = [block["type"] for block in document["blocks"]]
    assert types[0] == "section" and "context" in types and types[-1] == "actions"
    fields = next(block["fields"] for block in document["blocks"] if "fields" in block)
    assert any("Example GmbH" in field["text"] for field in fields)
    assert len(fields) <= 10
    buttons = document["blocks"][-1]["elements"]
    ack = next(button for button in buttons if button["action_id"] == "acknowledge")
    assert ack["type"] == "button" and ack["url"] == message.payload["ack_url"]
    assert "X-Leadbridge-Signature" not in request.headers


def test_chat_failures_follow_the_same_rules(
    receiver: WebhookReceiver, message: AlertMessage
) -> None:
    receiver.fail_next(1, status=429)
    with pytest.raises(DeliveryError) as caught:
        send_chat(receiver.url("/slack"), message, timeout=5)
    assert caught.value.retryable is True
    assert_no_personal_data(caught.value)
