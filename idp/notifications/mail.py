"""Email delivery from the outbox: render in the recipient's language, build, hand over.

`Mailer` is an outbox `Sender` for every email template. A template may have a *preparer*
that builds its context at delivery time (a fresh link, the current username); a preparer
returning None means there is nothing to send any more, e.g. the account is gone. Preparing,
rendering and building happen while the worker's short transaction is open; the `Delivery`
returned only hands the built message to the transport (outbox.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import partial
from typing import Any, Protocol

import jinja2

from idp.clock import Clock
from idp.config import Settings
from idp.notifications.mailbox_directory import MailboxDirectory, MailboxEntry
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Delivery, DeliveryError
from idp.notifications.rendering import MessageRenderer, RenderedMessage, mail_locale
from idp.notifications.smtp import SmtpTransport

__all__ = [
    "MailboxDirectory",
    "MailboxEntry",
    "Mailer",
    "MessageRenderer",
    "Preparer",
    "RenderedMessage",
    "SmtpTransport",
    "Transport",
    "build_email",
    "build_mailer",
    "development_mailbox",
]

log = logging.getLogger("idp.notifications")
Preparer = Callable[[OutboxMessage], Mapping[str, Any] | None]
FALLBACK_MESSAGE_ID_DOMAIN = "portal.invalid"


class Transport(Protocol):
    """Where built messages go: an SMTP server or the development mailbox."""

    def send(self, message: EmailMessage) -> None: ...


def build_email(
    rendered: RenderedMessage,
    *,
    sender: str,
    recipient: str,
    locale: str,
    sent_at: datetime,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML), UTF-8 throughout."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain=message_id_domain(sender))
    # RFC 3834 5: sent by a program, so vacation responders and the like stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps every line 7-bit, so any relay passes Arabic or Vietnamese as is.
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After set_content, which drops every Content-* header (RFC 3282).
    message["Content-Language"] = locale
    return message


def message_id_domain(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs (RFC 5322 3.6.4)."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    return domain or FALLBACK_MESSAGE_ID_DOMAIN


class Mailer:
    """An outbox Sender for emails: prepare the context, render, build; the Delivery sends."""

    def __init__(
        self,
        renderer: MessageRenderer,
        transport: Transport,
        *,
        sender: str,
        clock: Clock,
        preparers: Mapping[str, Preparer],
    ) -> None:
        self._renderer = renderer
        self._transport = transport
        self._sender = sender
        self._clock = clock
        self._preparers = dict(preparers)
        self.mail_templates: tuple[str, ...] = renderer.template_names()

    def __call__(self, message: OutboxMessage) -> Delivery | None:
        """Build one outbox message; return its sending, or None when there is nothing to send
        (the OutboxWorker's Sender interface)."""
        preparer = self._preparers.get(message.template)
        context = preparer(message) if preparer is not None else message.context
        if context is None:
            log.info(
                "notifications:message:skipped id=%s template=%s", message.id, message.template
            )
            return None
        return partial(self._transport.send, self._build(message, context))

    def _build(self, message: OutboxMessage, context: Mapping[str, Any]) -> EmailMessage:
        locale = mail_locale(message.locale)
        try:
            rendered = self._renderer.render(message.template, locale, context)
        except jinja2.TemplateError as error:
            # A template or context bug: retrying gives the same result, so it is dead at once.
            code = "template_missing" if isinstance(error, jinja2.TemplateNotFound) else "render"
            raise DeliveryError(code, permanent=True) from None
        try:
            return build_email(
                rendered,
                sender=self._sender,
                recipient=message.recipient,
                locale=locale,
                sent_at=self._clock.now(),
            )
        except ValueError:
            # A line break in an address (header injection) or the like: never deliverable.
            raise DeliveryError("bad_header", permanent=True) from None


def development_mailbox(settings: Settings) -> MailboxDirectory:
    """The folder that stands in for an SMTP server when IDP_SMTP_HOST is not set."""
    return MailboxDirectory(settings.instance_path / "mailbox")


def build_mailer(settings: Settings, clock: Clock, preparers: Mapping[str, Preparer]) -> Mailer:
    """The Mailer of these settings: SMTP when a host is set, else the development mailbox."""
    transport: Transport
    if settings.smtp.host:
        transport = SmtpTransport(settings.smtp)
    else:
        transport = development_mailbox(settings)
    return Mailer(
        MessageRenderer(),
        transport,
        sender=settings.smtp.sender,
        clock=clock,
        preparers=preparers,
    )
