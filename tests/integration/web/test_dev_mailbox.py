"""The development mailbox page: what the app sent without an SMTP host, in development only."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp import create_app
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db
from idp.notifications.mail import build_mailer
from idp.notifications.models import OutboxMessage

SIGN_IN_URL = "http://localhost/sign-in?from=email&lang=es"


@pytest.fixture
def dev_settings(settings: Settings) -> Settings:
    """Development settings: no SMTP host, so mail goes to <instance>/mailbox."""
    return dataclasses.replace(settings, env="development")


@pytest.fixture
def client_in(
    app: Flask, settings: Settings, clock: FrozenClock
) -> Iterator[Callable[[str], FlaskClient]]:
    """Clients of the app built for another environment (the test app cleans the database)."""
    applications: list[Flask] = []

    def make(env: str) -> FlaskClient:
        application = create_app(dataclasses.replace(settings, env=env), clock)
        applications.append(application)
        return application.test_client()

    yield make
    for application in applications:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def dev_client(client_in: Callable[[str], FlaskClient]) -> FlaskClient:
    """A client of the app in development."""
    return client_in("development")


def _send_username_reminder(settings: Settings, clock: FrozenClock) -> None:
    mailer = build_mailer(settings, clock, {})
    delivery = mailer(
        OutboxMessage(
            id=1,
            template="username_reminder",
            recipient="maria@example.org",
            locale="en",
            context={"display_name": "Maria", "username": "maria.g", "sign_in_url": SIGN_IN_URL},
        )
    )
    assert delivery is not None
    delivery()  # the mailer builds the email; its Delivery writes it to the mailbox


def _message_url(index_page: str) -> str:
    match = re.search(r'href="(/dev/mailbox/[^"/]+\.eml)"', index_page)
    assert match is not None, "no message link in the list"
    return match.group(1)


def test_sent_email_is_listed_in_the_development_mailbox(
    dev_client: FlaskClient, dev_settings: Settings, clock: FrozenClock
) -> None:
    _send_username_reminder(dev_settings, clock)

    response = dev_client.get("/dev/mailbox")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "maria@example.org" in page
    assert "Your Parent/Student Portal username" in page
    assert "2026-09-01 12:00:00 UTC" in page
    assert (dev_settings.instance_path / "mailbox").is_dir()


def test_message_page_shows_headers_text_and_clickable_links(
    dev_client: FlaskClient, dev_settings: Settings, clock: FrozenClock
) -> None:
    _send_username_reminder(dev_settings, clock)
    url = _message_url(dev_client.get("/dev/mailbox").get_data(as_text=True))

    response = dev_client.get(url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a href="http://localhost/sign-in?from=email&amp;lang=es">' in page
    assert "Your username is: maria.g" in page
    assert "no-reply@portal.invalid" in page
    assert f'href="{url}/html"' in page


def test_html_version_is_served_alone_and_sandboxed(
    dev_client: FlaskClient, dev_settings: Settings, clock: FrozenClock
) -> None:
    _send_username_reminder(dev_settings, clock)
    url = _message_url(dev_client.get("/dev/mailbox").get_data(as_text=True))

    response = dev_client.get(f"{url}/html")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert '<html lang="en" dir="ltr">' in response.get_data(as_text=True)


def test_empty_mailbox_says_so(dev_client: FlaskClient) -> None:
    response = dev_client.get("/dev/mailbox")

    assert response.status_code == 200
    assert "No emails yet." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/dev/mailbox/../../etc/passwd",
        "/dev/mailbox/..%2F..%2Fetc%2Fpasswd",
        "/dev/mailbox/..%2Fsecret_key",
        "/dev/mailbox/..%2Fsecret_key/html",
        "/dev/mailbox/secret_key",
        "/dev/mailbox/20260901T120000Z-0123456789abcdef.eml",
        "/dev/mailbox/20260901T120000Z-0123456789abcdef.eml/html",
    ],
)
def test_names_that_are_not_stored_messages_are_not_found(
    dev_client: FlaskClient, dev_settings: Settings, clock: FrozenClock, path: str
) -> None:
    _send_username_reminder(dev_settings, clock)
    (dev_settings.instance_path / "secret_key").write_text("not for the browser", "utf-8")

    response = dev_client.get(path)

    assert response.status_code == 404
    assert "not for the browser" not in response.get_data(as_text=True)


@pytest.mark.parametrize("env", ["test", "production"])
def test_mailbox_does_not_exist_outside_development(
    client_in: Callable[[str], FlaskClient], settings: Settings, clock: FrozenClock, env: str
) -> None:
    _send_username_reminder(settings, clock)
    client = client_in(env)

    responses = [client.get(path).status_code for path in ("/dev/mailbox", "/dev/mailbox/x")]

    assert responses == [404, 404]
