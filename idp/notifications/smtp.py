"""Delivery over SMTP (smtplib), with failures turned into short `DeliveryError` codes.

RFC 5321 4.2.1: a 4yz reply is a transient failure (try again later), a 5yz reply a permanent
one. A connection that fails, times out or drops is transient too. Codes name the stage and
the reply code only (`smtp_rcpt_550`), never the server's text, the message or a secret.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from idp.config import SmtpSettings
from idp.notifications.outbox import DeliveryError

log = logging.getLogger("idp.notifications")

# Which step of the conversation an SMTP reply exception belongs to, most specific first.
_STAGES: tuple[tuple[type[smtplib.SMTPResponseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, "auth"),
    (smtplib.SMTPSenderRefused, "sender"),
    (smtplib.SMTPDataError, "data"),
    (smtplib.SMTPConnectError, "connect"),
    (smtplib.SMTPHeloError, "helo"),
)


def reply_error(stage: str, reply_code: int) -> DeliveryError:
    """A DeliveryError for an SMTP reply: permanent for 5yz, temporary otherwise."""
    return DeliveryError(f"smtp_{stage}_{reply_code}", permanent=500 <= reply_code < 600)


def _refused_recipients_error(error: smtplib.SMTPRecipientsRefused) -> DeliveryError:
    codes = [code for code, _reply in error.recipients.values()]
    # One transient refusal among permanent ones: trying again may still reach someone.
    transient = [code for code in codes if not 500 <= code < 600]
    return reply_error("rcpt", (transient or codes or [0])[0])


def _response_error(error: smtplib.SMTPResponseException) -> DeliveryError:
    stage = next((name for kind, name in _STAGES if isinstance(error, kind)), "reply")
    return reply_error(stage, error.smtp_code)


def _connection_error(error: OSError | smtplib.SMTPException) -> DeliveryError:
    # smtplib reports a reply that never came as SMTPServerDisconnected, from a TimeoutError.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return DeliveryError("smtp_timeout")
    if isinstance(error, ssl.SSLError):
        return DeliveryError("smtp_tls")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryError("smtp_not_supported")  # e.g. no STARTTLS: a settings problem
    return DeliveryError("smtp_unavailable")


def delivery_error_for(error: OSError | smtplib.SMTPException) -> DeliveryError:
    """The DeliveryError (code, permanent or not) for what smtplib or the socket raised."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _refused_recipients_error(error)
    if isinstance(error, smtplib.SMTPResponseException):
        return _response_error(error)
    return _connection_error(error)


class SmtpTransport:
    """Sends one message per connection to the configured SMTP server."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise DeliveryError (permanent for a 5yz reply)."""
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise self._translate(error) from None
        try:
            self._authenticate(client)
            client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise self._translate(error) from None
        finally:
            _close(client)

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        timeout = settings.timeout_seconds
        if settings.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            try:
                client.starttls(context=ssl.create_default_context())
            except BaseException:
                _close(client)
                raise
        return client

    def _authenticate(self, client: smtplib.SMTP) -> None:
        if self._settings.username:
            client.login(self._settings.username, self._settings.password)

    def _translate(self, error: OSError | smtplib.SMTPException) -> DeliveryError:
        delivery_error = delivery_error_for(error)
        log.info(
            "notifications:smtp:failed host=%s code=%s", self._settings.host, delivery_error.code
        )
        return delivery_error


def _close(client: smtplib.SMTP) -> None:
    """Say QUIT, or just drop the connection: the message's fate is already decided."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
