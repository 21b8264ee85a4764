"""Building emails and the Mailer's choices, with an in-memory transport (no app, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from idp.clock import FrozenClock
from idp.notifications.mail import (
    Mailer,
    MessageRenderer,
    RenderedMessage,
    build_email,
    message_id_domain,
)
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import DeliveryError

SENT_AT = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
SENDER = "Parent/Student Portal <no-reply@district.example>"
READY_CONTEXT = {
    "display_name": "Maria",
    "username": "maria.garcia7",
    "sign_in_url": "https://id.district.example/sign-in",
}


class MemoryTransport:
    """Keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        """Keep the message."""
        self.sent.append(message)


def _build(subject: str = "Subject", recipient: str = "maria@example.org") -> EmailMessage:
    rendered = RenderedMessage(subject=subject, text="Text ✓\n", html="<p>HTML ✓</p>\n")
    return build_email(
        rendered,
        sender=SENDER,
        recipient=recipient,
        locale="vi",
        sent_at=SENT_AT,
    )


def _round_trip(message: EmailMessage) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes(policy=policy.SMTP))


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


def _outbox_message(template: str, context: dict[str, Any], locale: str = "en") -> OutboxMessage:
    return OutboxMessage(
        id=7, template=template, recipient="maria@example.org", locale=locale, context=context
    )


def _mailer(transport: MemoryTransport, **preparers: Any) -> Mailer:
    return Mailer(
        MessageRenderer(),
        transport,
        sender=SENDER,
        clock=FrozenClock(SENT_AT),
        preparers=preparers,
    )


def _deliver(mailer: Mailer, message: OutboxMessage) -> None:
    """What the outbox worker does: prepare (transaction open), then send (none open)."""
    delivery = mailer(message)
    if delivery is not None:
        delivery()


def test_email_carries_every_header() -> None:
    message = _round_trip(_build())

    assert message["From"] == SENDER
    assert message["To"] == "maria@example.org"
    assert message["Subject"] == "Subject"
    assert message["Date"].datetime == SENT_AT
    assert message["Message-ID"].endswith("@district.example>")
    assert message["Content-Language"] == "vi"
    assert message["Auto-Submitted"] == "auto-generated"


def test_email_is_text_then_html_alternatives() -> None:
    message = _round_trip(_build())

    parts = list(message.iter_parts())
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert [part.get_content_charset() for part in parts] == ["utf-8", "utf-8"]
    # On the wire lines end in CRLF (RFC 5322 2.1).
    assert parts[0].get_content() == "Text ✓\r\n"
    assert parts[1].get_content() == "<p>HTML ✓</p>\r\n"


@pytest.mark.parametrize(
    "subject",
    [
        "تأكيد عنوان بريدك الإلكتروني",
        "Xác nhận địa chỉ email của bạn",
        "Xaqiiji ciwaanka iimaylkaaga",
        "Confirme su correo electrónico",
    ],
)
def test_non_english_subject_survives_serialisation(subject: str) -> None:
    raw = _build(subject).as_bytes(policy=policy.SMTP)

    assert max(raw) < 128  # 7-bit on the wire: any relay passes it unchanged
    assert _round_trip(_build(subject))["Subject"] == subject


@pytest.mark.parametrize(
    ("sender", "domain"),
    [
        ("Portal <no-reply@district.example>", "district.example"),
        ("no-reply@mail.district.example", "mail.district.example"),
        ("Portal", "portal.invalid"),
    ],
)
def test_message_id_domain_is_the_senders(sender: str, domain: str) -> None:
    assert message_id_domain(sender) == domain


def test_mailer_knows_the_shipped_templates() -> None:
    assert _mailer(MemoryTransport()).mail_templates == (
        "account_cancelled",
        "account_ready",
        "inactivity_delete_warning",
        "inactivity_disable_warning",
        "password_changed",
        "password_reset",
        "revalidate_email",
        "staff_set_password",
        "username_reminder",
        "verify_email",
    )


def test_mailer_renders_in_the_messages_locale_with_the_clocks_date() -> None:
    transport = MemoryTransport()

    _deliver(_mailer(transport), _outbox_message("account_ready", READY_CONTEXT, locale="ar"))

    (sent,) = transport.sent
    assert sent["Content-Language"] == "ar"
    assert sent["Date"].datetime == SENT_AT
    assert 'dir="rtl"' in _body(sent, "html")


def test_mailer_falls_back_to_english_for_an_unknown_locale() -> None:
    transport = MemoryTransport()

    _deliver(_mailer(transport), _outbox_message("account_ready", READY_CONTEXT, locale="xx"))

    assert transport.sent[0]["Content-Language"] == "en"


def test_preparer_supplies_the_context_at_delivery_time() -> None:
    transport = MemoryTransport()
    fresh = {**READY_CONTEXT, "username": "renamed.user"}

    _deliver(
        _mailer(transport, account_ready=lambda message: fresh),
        _outbox_message("account_ready", READY_CONTEXT),
    )

    assert "renamed.user" in _body(transport.sent[0], "plain")


def test_preparer_returning_none_sends_nothing() -> None:
    transport = MemoryTransport()

    delivery = _mailer(transport, account_ready=lambda message: None)(
        _outbox_message("account_ready", READY_CONTEXT)
    )

    assert delivery is None
    assert transport.sent == []


def test_preparing_builds_the_email_and_only_the_delivery_sends_it() -> None:
    transport = MemoryTransport()

    delivery = _mailer(transport)(_outbox_message("account_ready", READY_CONTEXT))
    sent_when_prepared = len(transport.sent)
    if delivery is not None:
        delivery()

    assert delivery is not None
    assert sent_when_prepared == 0
    assert [message["To"] for message in transport.sent] == ["maria@example.org"]


@pytest.mark.parametrize(
    ("template", "context", "recipient", "code"),
    [
        ("account_ready", {"display_name": ""}, "maria@example.org", "render"),
        ("no_such_email", {}, "maria@example.org", "template_missing"),
        ("account_ready", READY_CONTEXT, "maria@example.org\nBcc: x@evil.example", "bad_header"),
    ],
)
def test_undeliverable_message_is_a_permanent_failure(
    template: str, context: dict[str, Any], recipient: str, code: str
) -> None:
    transport = MemoryTransport()
    message = _outbox_message(template, context)
    message.recipient = recipient

    with pytest.raises(DeliveryError) as caught:
        _mailer(transport)(message)

    assert (caught.value.code, caught.value.permanent) == (code, True)
    assert transport.sent == []
