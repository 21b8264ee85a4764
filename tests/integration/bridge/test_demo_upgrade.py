"""Done when: on the demo district, the legacy IC user `demo.wchen` signs in with the IC password,
chooses a portal username (`demo.wchen` breaks the username rule), confirms the email from a
real message, chooses security questions, and from then on signs in to the portal account."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.cli import main
from idp.config import Settings, SmtpSettings
from idp.demo.data import DEMO_IC_PASSWORD
from idp.services import Services
from tests.integration.bridge.conftest import alert, choose_questions, post_form, sign_in
from tests.smtp import SmtpSink


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """Mail goes to a real SMTP server started by the test."""
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_sink.port, security="plain")
    return replace(settings, smtp=smtp)


def _run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_demo_ic_user_upgrades_to_a_portal_account(
    app: Flask, client: FlaskClient, services: Services, smtp_sink: SmtpSink
) -> None:
    _run(app, "demo", "load")
    assert sign_in(client, "demo.wchen", DEMO_IC_PASSWORD).headers["Location"] == "/upgrade"
    page = client.get("/upgrade").get_data(as_text=True)
    assert "Your Infinite Campus username demo.wchen cannot be your portal username:" in page
    details = {"username": "WeiChen2019", "email": "wei.chen@example.org", "locale": "en"}
    assert post_form(client, "/upgrade", details).headers["Location"] == "/upgrade/check-email"
    _run(app, "worker", "--once")
    (confirmation,) = smtp_sink.messages
    assert confirmation["To"] == "wei.chen@example.org"
    assert "Your username is: WeiChen2019" in _text(confirmation)
    link = re.search(r"http://localhost(/upgrade/verify-email\?token=\S+)", _text(confirmation))
    assert link is not None
    to_questions = client.get(client.get(link.group(1)).headers["Location"])
    questions = choose_questions(
        client, services, to_questions.headers["Location"], DEMO_IC_PASSWORD
    )
    assert "You are signed in as WeiChen2019." in client.get(
        questions.headers["Location"]
    ).get_data(as_text=True)
    _run(app, "worker", "--once")
    assert smtp_sink.messages[1]["Subject"] == "Your Parent/Student Portal account is ready"

    portal = sign_in(app.test_client(), "weichen2019", DEMO_IC_PASSWORD)
    legacy = sign_in(app.test_client(), "demo.wchen", DEMO_IC_PASSWORD)

    assert portal.headers["Location"] == "/"
    assert alert(legacy.get_data(as_text=True)) == (
        "You already moved to your portal account. Sign in with your portal username"
        " WeiChen2019. If you forgot your password, use Forgot password."
    )
    status = _run(app, "bridge", "status", "--person-id", "DEMO-G2011")
    assert "(portal username WeiChen2019)" in status
