"""The whole journey over real SMTP: key issued -> register -> confirmation email received ->
link followed -> worker provisions -> "ready" email received -> sign-in works."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.cli import main
from idp.clock import FrozenClock
from idp.config import Settings, SmtpSettings
from idp.services import Services
from tests.builders import csrf_token
from tests.integration.registration.conftest import STRONG_PASSWORD, Family
from tests.smtp import SmtpSink

SENDER = "Lakeview Portal <portal@district.example>"


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """This module's app delivers mail to a real SMTP server started by the test."""
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="plain", sender=SENDER)
    return replace(settings, smtp=smtp)


def _post(client: FlaskClient, url: str, data: dict[str, str]) -> str:
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location or ""


def _worker_once(app: Flask) -> str:
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _issue_key(app: Flask, family: Family) -> str:
    args = ["activation", "issue", "--person-id", family.guardian.sis_person_id]
    result = app.test_cli_runner().invoke(
        main, [*args, "--staff", "secretaryes1", "--id-type", "drivers_license"]
    )
    match = re.search(r"Activation key:\s+(\S+)", result.output)
    assert match is not None, result.output
    return match.group(1)


def test_guardian_registers_confirms_is_told_ready_and_signs_in(
    app: Flask, client: FlaskClient, services: Services, family: Family, smtp_sink: SmtpSink
) -> None:
    key = _issue_key(app, family)
    _post(client, "/register", {"person_id": family.guardian.sis_person_id, "activation_key": key})
    details = {"username": "MariaLee2026", "password": STRONG_PASSWORD}
    details |= {"password_again": STRONG_PASSWORD, "email": "maria@example.org", "locale": "en"}
    assert _post(client, "/register/account", details) == "/register/check-email"

    assert _worker_once(app) == "provisioned 0, removed 0, sent 1, retried 0, dead 0"
    (confirmation,) = smtp_sink.messages
    link = re.search(r"http://localhost(/verify-email\?token=\S+)", _text(confirmation))
    assert (confirmation["To"], confirmation["From"]) == ("maria@example.org", SENDER)
    assert link is not None

    page = client.get(link.group(1)).get_data(as_text=True)
    assert "Your account is being created" in page

    assert _worker_once(app) == "provisioned 1, removed 0, sent 1, retried 0, dead 0"
    ready = smtp_sink.messages[1]
    assert ready["To"] == "maria@example.org"
    assert "MariaLee2026" in _text(ready)

    signed_in = _post(client, "/sign-in", {"username": "marialee2026", "password": STRONG_PASSWORD})
    assert signed_in == "/"
    first_step = client.get("/")  # first sign-in: the security questions come before anything
    assert first_step.headers["Location"].startswith("/security-questions")


def test_confirmation_email_waits_in_the_outbox_while_smtp_is_down(
    app: Flask, client: FlaskClient, family: Family, smtp_sink: SmtpSink, clock: FrozenClock
) -> None:
    key = _issue_key(app, family)
    _post(client, "/register", {"person_id": family.guardian.sis_person_id, "activation_key": key})
    details = {"username": "MariaLee2026", "password": STRONG_PASSWORD}
    details |= {"password_again": STRONG_PASSWORD, "email": "maria@example.org", "locale": "so"}
    _post(client, "/register/account", details)
    smtp_sink.stop()
    assert _worker_once(app) == "provisioned 0, removed 0, sent 0, retried 1, dead 0"
    smtp_sink.start()
    clock.advance(minutes=5)

    report = _worker_once(app)

    assert report == "provisioned 0, removed 0, sent 1, retried 0, dead 0"
    assert [message["To"] for message in smtp_sink.messages] == ["maria@example.org"]
    assert _worker_once(app) == "provisioned 0, removed 0, sent 0, retried 0, dead 0"
