"""Outbox emails over real SMTP: OutboxWorker + Mailer + SmtpTransport into an aiosmtpd sink."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.clock import FrozenClock
from idp.config import Settings, SmtpSettings
from idp.extensions import db
from idp.notifications.mail import (
    Mailer,
    MessageRenderer,
    Preparer,
    RenderedMessage,
    SmtpTransport,
    build_email,
    build_mailer,
)
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import DeliveryError, OutboxWorker, RetryPolicy
from idp.services import Services
from tests.smtp import HOST, SmtpSink

SENDER = "Parent/Student Portal <no-reply@district.example>"
READY = "account_ready"


def _context(number: int = 0) -> dict[str, Any]:
    return {
        "display_name": "Maria",
        "username": f"maria.garcia{number}",
        "sign_in_url": "http://localhost/sign-in",
    }


@pytest.fixture
def mail_settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """The test settings, sending to the sink over plain SMTP."""
    smtp = SmtpSettings(
        host=HOST, port=smtp_sink.port, security="plain", sender=SENDER, timeout_seconds=5
    )
    return dataclasses.replace(settings, smtp=smtp)


def _enqueue(services: Services, count: int = 1, locale: str = "en") -> None:
    for number in range(count):
        services.outbox.enqueue(READY, f"r{number}@example.org", _context(number), locale=locale)
    db.session.commit()


def _senders(mailer: Mailer) -> dict[str, Mailer]:
    return {template: mailer for template in mailer.mail_templates}


def _worker(
    mail_settings: Settings,
    clock: FrozenClock,
    preparers: Mapping[str, Preparer] | None = None,
    session: Session | None = None,
) -> OutboxWorker:
    mailer = build_mailer(mail_settings, clock, preparers or {})
    return OutboxWorker(session or db.session, clock, _senders(mailer), RetryPolicy(max_attempts=3))


def _row() -> OutboxMessage:
    return db.session.execute(select(OutboxMessage)).scalar_one()


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


def test_outbox_email_arrives_over_smtp_with_headers_and_both_parts(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services, locale="es")

    report = _worker(mail_settings, clock).deliver_due()

    (received,) = smtp_sink.messages
    row = _row()
    assert report.sent == 1
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock.now(), 1)
    assert received["From"] == SENDER
    assert received["To"] == "r0@example.org"
    assert smtp_sink.envelope_recipients == [["r0@example.org"]]
    assert received["Subject"] == "Su cuenta del Portal para Padres y Estudiantes está lista"  # es
    assert received["Date"].datetime == clock.now()
    assert received["Content-Language"] == "es"
    assert "maria.garcia0" in _body(received, "plain")
    assert '<html lang="es" dir="ltr">' in _body(received, "html")


def test_arabic_subject_and_body_survive_smtp(
    mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    subject = "حسابك في بوابة أولياء الأمور والطلاب جاهز"
    rendered = RenderedMessage(subject=subject, text="مرحبا Hùng ✓\n", html="<p>مرحبا</p>\n")
    message = build_email(
        rendered,
        sender=SENDER,
        recipient="r0@example.org",
        locale="ar",
        sent_at=clock.now(),
    )

    SmtpTransport(mail_settings.smtp).send(message)

    (received,) = smtp_sink.messages
    assert received["Subject"] == subject
    assert _body(received, "plain").replace("\r\n", "\n") == "مرحبا Hùng ✓\n"


def test_server_down_keeps_the_message_then_delivers_it_once(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services)
    worker = _worker(mail_settings, clock)
    smtp_sink.stop()

    while_down = worker.deliver_due()
    after_failure = (_row().status, _row().attempts, _row().last_error)
    smtp_sink.start()
    too_soon = worker.deliver_due()
    clock.advance(seconds=31)
    back_up = worker.deliver_due()
    again = worker.deliver_due()

    assert (while_down.retried, too_soon.sent, back_up.sent, again.sent) == (1, 0, 1, 0)
    assert after_failure == ("pending", 1, "smtp_unavailable")
    assert (_row().status, _row().attempts, _row().last_error) == ("sent", 2, None)
    assert [message["To"] for message in smtp_sink.messages] == ["r0@example.org"]


def test_recipient_refused_for_good_is_dead_at_once(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services)
    smtp_sink.refuse("r0@example.org", "550 no such user")

    report = _worker(mail_settings, clock).deliver_due()

    row = _row()
    assert report.dead == 1
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "smtp_rcpt_550")
    assert smtp_sink.messages == []


def test_recipient_refused_for_now_is_retried(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services)
    worker = _worker(mail_settings, clock)
    smtp_sink.refuse("r0@example.org", "451 try later")

    first = worker.deliver_due()
    after_refusal = (_row().status, _row().last_error)
    smtp_sink.accept("r0@example.org")
    clock.advance(seconds=31)
    second = worker.deliver_due()

    assert (first.retried, second.sent) == (1, 1)
    assert after_refusal == ("pending", "smtp_rcpt_451")
    assert len(smtp_sink.messages) == 1


def test_preparer_returning_none_sends_nothing_and_closes_the_message(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services)

    report = _worker(mail_settings, clock, {READY: lambda message: None}).deliver_due()

    # Nothing left to send is a finished delivery: the message is not retried.
    assert report.sent == 1
    assert (_row().status, _row().attempts) == ("sent", 1)
    assert smtp_sink.messages == []


def test_preparer_context_replaces_the_stored_one(
    services: Services, mail_settings: Settings, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    _enqueue(services)

    def fresh_context(message: OutboxMessage) -> dict[str, Any]:
        return {**message.context, "sign_in_url": f"http://localhost/sign-in?m={message.id}"}

    _worker(mail_settings, clock, {READY: fresh_context}).deliver_due()

    assert f"http://localhost/sign-in?m={_row().id}" in _body(smtp_sink.messages[0], "plain")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections but never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(5)
        yield int(listener.getsockname()[1])


def test_server_that_never_answers_is_a_temporary_timeout(
    mail_settings: Settings, silent_server: int
) -> None:
    smtp = dataclasses.replace(mail_settings.smtp, port=silent_server, timeout_seconds=1)

    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(smtp).send(EmailMessage())

    assert (caught.value.code, caught.value.permanent) == ("smtp_timeout", False)


@pytest.mark.parametrize(
    ("security", "code"), [("starttls", "smtp_not_supported"), ("ssl", "smtp_tls")]
)
def test_encryption_the_server_does_not_speak_is_refused_not_skipped(
    mail_settings: Settings, smtp_sink: SmtpSink, security: str, code: str
) -> None:
    smtp = dataclasses.replace(mail_settings.smtp, security=security)

    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(smtp).send(EmailMessage())

    assert (caught.value.code, caught.value.permanent) == (code, False)
    assert smtp_sink.messages == []


def test_login_the_server_does_not_offer_fails_with_a_code_not_the_password(
    mail_settings: Settings, smtp_sink: SmtpSink
) -> None:
    smtp = dataclasses.replace(mail_settings.smtp, username="portal", password="s3cret-pass")

    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(smtp).send(EmailMessage())

    assert (caught.value.code, caught.value.permanent) == ("smtp_not_supported", False)
    assert "s3cret-pass" not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert smtp_sink.messages == []


class _KilledAfter:
    """Hands `count` messages to SMTP, then dies right after handing over the next one:
    the server has it, but the worker never records that it was sent."""

    def __init__(self, inner: SmtpTransport, count: int, death: type[BaseException]) -> None:
        self._inner, self._count, self._death = inner, count, death
        self.handed_over = 0

    def send(self, message: EmailMessage) -> None:
        """Send, then maybe die."""
        self._inner.send(message)
        self.handed_over += 1
        if self.handed_over > self._count:
            raise self._death()


@pytest.mark.parametrize("death", [KeyboardInterrupt, SystemExit])
def test_nothing_is_lost_when_the_worker_dies_mid_batch(
    services: Services,
    mail_settings: Settings,
    clock: FrozenClock,
    smtp_sink: SmtpSink,
    death: type[BaseException],
) -> None:
    _enqueue(services, count=10)
    dying = _KilledAfter(SmtpTransport(mail_settings.smtp), count=3, death=death)
    mailer = Mailer(
        MessageRenderer(),
        dying,
        sender=SENDER,
        clock=clock,
        preparers={},
    )
    # The dying process's connection closes with it; the message in flight stays leased.
    with Session(db.engine) as session, pytest.raises(death):
        OutboxWorker(session, clock, _senders(mailer)).deliver_due()

    with Session(db.engine) as session:
        at_once = _worker(mail_settings, clock, session=session).deliver_due()
        clock.advance(seconds=RetryPolicy().lease_seconds)
        after_the_lease = _worker(mail_settings, clock, session=session).deliver_due()

    received = Counter(message["To"] for message in smtp_sink.messages)
    statuses = db.session.execute(select(OutboxMessage.status)).scalars().all()
    assert dying.handed_over == 4
    assert (at_once.sent, after_the_lease.sent) == (6, 1)
    assert sorted(received) == [f"r{number}@example.org" for number in range(10)]
    # The one in flight when the worker died went out again when its lease ran out; every
    # other went out once.
    assert {address: count for address, count in received.items() if count > 1} == {
        "r3@example.org": 2
    }
    assert statuses == ["sent"] * 10


@pytest.mark.postgresql_only
def test_two_workers_deliver_500_emails_each_exactly_once(
    app: Flask,
    services: Services,
    mail_settings: Settings,
    clock: FrozenClock,
    smtp_sink: SmtpSink,
) -> None:
    _enqueue(services, count=500)
    mailer = build_mailer(mail_settings, clock, {})
    errors: list[BaseException] = []
    sent_by_worker: list[int] = []

    def run() -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                report = OutboxWorker(session, clock, _senders(mailer)).deliver_due(limit=1000)
            sent_by_worker.append(report.sent)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    received = Counter(message["To"] for message in smtp_sink.messages)
    sent_rows = db.session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
    ).scalar_one()
    assert errors == []
    assert sum(sent_by_worker) == 500
    assert len(sent_by_worker) == 2
    assert received == Counter({f"r{number}@example.org": 1 for number in range(500)})
    assert sent_rows == 500
