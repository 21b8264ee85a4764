"""A new staff account (idp staff create): the emailed link chooses the first password, once;
the sign-in that follows sets up the authenticator app (issue 16.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.cli import main
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.notifications.rendering import MessageRenderer
from idp.services import Services
from tests.builders import csrf_token

NEW_PASSWORD = "a long staff pass phrase"


@pytest.fixture
def link(app: Flask, services: Services) -> str:
    """`idp staff create`, then the path of the link its email carries."""
    result = app.test_cli_runner().invoke(
        main, ["staff", "create", "--username", "newclerk01", "--email", "clerk@school.example"]
    )
    assert result.exit_code == 0, result.output
    message = db.session.execute(select(OutboxMessage)).scalars().one()
    context = services.recovery_messages.prepare_set_password(message)
    assert context is not None
    parts = urlsplit(context["set_password_url"])
    return f"{parts.path}?{parts.query}"


def _choose(client: FlaskClient, link: str, password: str = NEW_PASSWORD) -> tuple[int, str]:
    """Open the link (its page, or the sign-in page's form token when it shows none) and post
    the password."""
    page = client.get(link).get_data(as_text=True)
    if "csrf_token" not in page:
        page = client.get("/sign-in").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post(
        link,
        data={"new_password": password, "new_password_again": password, "csrf_token": token},
    )
    return response.status_code, response.get_data(as_text=True)


def test_the_link_chooses_the_first_password_then_the_sign_in_asks_for_the_app(
    client: FlaskClient, link: str
) -> None:
    status, page = _choose(client, link)

    assert status == 200
    assert "Your password is saved" in page
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"username": "newclerk01", "password": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/sign-in/second-factor")
    assert client.get("/sign-in/second-factor").headers["Location"].endswith("/set-up")


def test_the_link_works_once(client: FlaskClient, app: Flask, link: str) -> None:
    _choose(client, link)

    other = app.test_client()
    opened = other.get(link)
    status, page = _choose(other, link, "another long pass phrase")

    assert opened.status_code == 404
    assert "This link does not work" in opened.get_data(as_text=True)
    assert status == 404
    assert "This link does not work" in page
    account = db.session.execute(
        select(Account).where(Account.username == "newclerk01")
    ).scalar_one()
    db.session.refresh(account)
    assert account.password_hash is not None


def test_a_forged_link_changes_nothing(client: FlaskClient, link: str) -> None:
    status, _ = _choose(client, link[:-3] + "xyz")

    assert status == 404
    account = db.session.execute(
        select(Account).where(Account.username == "newclerk01")
    ).scalar_one()
    assert account.password_hash is None


def test_the_email_names_the_username_and_the_link(
    app: Flask, services: Services, link: str
) -> None:
    message = db.session.execute(select(OutboxMessage)).scalars().one()
    context = services.recovery_messages.prepare_set_password(message)
    assert context is not None

    rendered = MessageRenderer().render(message.template, message.locale, context)

    assert "newclerk01" in rendered.text
    assert context["set_password_url"] in rendered.text
