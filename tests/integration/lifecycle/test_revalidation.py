"""A disabled account's owner signs in, gets a link, follows it: active again, signed in, and
the app request that was waiting goes on."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.messages import REVALIDATE_EMAIL
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token
from tests.integration.lifecycle.conftest import idle_account, messages, state_of
from tests.integration.oidc.conftest import (  # noqa: F401 - fixture used by the OIDC test
    GRADES_REDIRECT,
    authorize_params,
    new_pkce,
    redirect_query,
    registered_clients,
)


@pytest.fixture
def disabled(services: Services, clock: FrozenClock) -> Account:
    """parentuser1, disabled by the sweep after 190 idle days."""
    account = idle_account(services, clock, 190)
    services.lifecycle.sweep()
    return account


def _sign_in(client: FlaskClient, next_url: str = "") -> tuple[int, str]:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    form = {"username": "parentuser1", "password": DEFAULT_PASSWORD, "csrf_token": token}
    target = "/sign-in" + (f"?next={quote(next_url)}" if next_url else "")
    response = client.post(target, data=form)
    return response.status_code, response.get_data(as_text=True)


def _link(services: Services) -> str:
    """The link of the newest revalidation email, as the mailer would make it now."""
    query = select(OutboxMessage).where(OutboxMessage.template == REVALIDATE_EMAIL)
    message = db.session.execute(query.order_by(OutboxMessage.id.desc())).scalars().first()
    assert message is not None, "no revalidation email queued"
    context = services.lifecycle_messages.prepare_revalidate_email(message)
    assert context is not None
    return str(context["revalidate_url"]).removeprefix("http://localhost")


def test_disabled_sign_in_explains_and_queues_one_link(
    client: FlaskClient, disabled: Account
) -> None:
    status, page = _sign_in(client)
    _sign_in(client)

    assert status == 403
    assert "turned off because it was not used for a long time" in page
    assert messages(REVALIDATE_EMAIL, disabled) == 1


def test_wrong_password_on_a_disabled_account_sends_nothing(
    client: FlaskClient, disabled: Account
) -> None:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    form = {"username": "parentuser1", "password": "not the password", "csrf_token": token}

    page = client.post("/sign-in", data=form).get_data(as_text=True)

    assert "turned off" not in page
    assert messages(REVALIDATE_EMAIL) == 0


def test_following_the_link_reactivates_and_signs_in_the_same_browser(
    client: FlaskClient, services: Services, disabled: Account, clock: FrozenClock
) -> None:
    _sign_in(client)
    response = client.get(_link(services))

    assert response.status_code == 302
    assert state_of(disabled) == AccountState.ACTIVE
    assert "You are signed in as parentuser1." in client.get("/").get_data(as_text=True)
    db.session.refresh(disabled)
    assert disabled.last_activity_at == clock.now()


def test_the_waiting_authorization_request_goes_on_after_revalidation(
    client: FlaskClient,
    services: Services,
    disabled: Account,
    registered_clients: None,  # noqa: F811
) -> None:
    authorize = "/authorize?" + urlencode(authorize_params(new_pkce()))
    _sign_in(client, authorize)

    response = client.get(_link(services))

    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert "code" in redirect_query(response)


def test_a_link_opened_in_another_browser_reactivates_but_asks_to_sign_in(
    app: Flask, client: FlaskClient, services: Services, disabled: Account
) -> None:
    _sign_in(client)
    other = app.test_client()

    page = other.get(_link(services)).get_data(as_text=True)

    assert "Sign in with your username and password to continue." in page
    assert state_of(disabled) == AccountState.ACTIVE
    assert "You are signed in" not in other.get("/").get_data(as_text=True)


def test_a_used_link_says_so(client: FlaskClient, services: Services, disabled: Account) -> None:
    _sign_in(client)
    link = _link(services)
    client.get(link)

    response = client.get(link)

    assert response.status_code == 409
    assert "already turned back on" in response.get_data(as_text=True)


def test_an_expired_link_says_how_to_get_a_new_one(
    client: FlaskClient, services: Services, disabled: Account, clock: FrozenClock
) -> None:
    _sign_in(client)
    link = _link(services)
    clock.advance(hours=49)

    response = client.get(link)

    assert response.status_code == 410
    assert state_of(disabled) == AccountState.DISABLED


def test_an_altered_link_is_refused(
    client: FlaskClient, services: Services, disabled: Account
) -> None:
    _sign_in(client)

    response = client.get(_link(services)[:-3] + "abc")

    assert response.status_code == 404
    assert state_of(disabled) == AccountState.DISABLED


def test_a_link_from_an_earlier_disabling_does_not_work_after_a_later_one(
    client: FlaskClient, services: Services, disabled: Account, clock: FrozenClock
) -> None:
    _sign_in(client)
    old_link = _link(services)
    client.get(old_link)  # active again
    clock.advance(days=190)
    services.lifecycle.sweep()  # disabled again
    assert state_of(disabled) == AccountState.DISABLED

    response = client.get(old_link)

    assert response.status_code == 409
    assert state_of(disabled) == AccountState.DISABLED
