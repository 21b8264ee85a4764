"""SMTP failures become short codes: 5yz replies are permanent, everything else is retried."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from idp.notifications.smtp import delivery_error_for


@pytest.mark.parametrize(
    ("error", "code", "is_permanent"),
    [
        (
            smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"no such user")}),
            "smtp_rcpt_550",
            True,
        ),
        (
            smtplib.SMTPRecipientsRefused({"a@x.example": (451, b"try later")}),
            "smtp_rcpt_451",
            False,
        ),
        (
            smtplib.SMTPRecipientsRefused({"a@x.example": (550, b""), "b@x.example": (452, b"")}),
            "smtp_rcpt_452",
            False,
        ),
        (
            smtplib.SMTPSenderRefused(553, b"bad sender", "no-reply@x.example"),
            "smtp_sender_553",
            True,
        ),
        (smtplib.SMTPDataError(554, b"rejected as spam"), "smtp_data_554", True),
        (smtplib.SMTPDataError(452, b"mailbox full for now"), "smtp_data_452", False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), "smtp_auth_535", True),
        (smtplib.SMTPAuthenticationError(454, b"temporary auth failure"), "smtp_auth_454", False),
        (smtplib.SMTPConnectError(421, b"too busy"), "smtp_connect_421", False),
        (smtplib.SMTPHeloError(501, b"bad helo"), "smtp_helo_501", True),
        (smtplib.SMTPResponseException(454, b"TLS not available"), "smtp_reply_454", False),
        (
            smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
            "smtp_unavailable",
            False,
        ),
        (ConnectionRefusedError(111, "Connection refused"), "smtp_unavailable", False),
        (TimeoutError("timed out"), "smtp_timeout", False),
        (ssl.SSLError(1, "certificate verify failed"), "smtp_tls", False),
        (
            smtplib.SMTPNotSupportedError("STARTTLS extension not supported"),
            "smtp_not_supported",
            False,
        ),
        (smtplib.SMTPException("something else"), "smtp_unavailable", False),
    ],
)
def test_failure_is_translated_to_a_code(
    error: OSError | smtplib.SMTPException, code: str, is_permanent: bool
) -> None:
    delivery_error = delivery_error_for(error)

    assert (delivery_error.code, delivery_error.permanent) == (code, is_permanent)


def test_code_never_carries_the_servers_text() -> None:
    error = smtplib.SMTPAuthenticationError(535, b"5.7.8 password s3cret-pass rejected")

    assert "s3cret-pass" not in repr(delivery_error_for(error))
