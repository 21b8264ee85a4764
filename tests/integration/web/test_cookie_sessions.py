"""A visitor who only sees forms keeps a signed session in the cookie, not a database row."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.clock import FrozenClock
from idp.extensions import db
from idp.services import Services
from idp.web.session_models import BrowserSession
from idp.web.session_store import DatabaseSessionInterface
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account


def _rows() -> int:
    return int(db.session.execute(select(func.count()).select_from(BrowserSession)).scalar_one())


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("idp_session")
    assert cookie is not None
    return cookie.value


def _signed(app: Flask, data: dict[str, object]) -> str:
    """A cookie session signed with the application's own key: what only the server can make."""
    interface = app.session_interface
    assert isinstance(interface, DatabaseSessionInterface)
    return "." + interface._cookie_serializer(app).dumps(data)


def _sign_in(client: FlaskClient, token: str) -> int:
    data = {"username": "parentuser1", "password": DEFAULT_PASSWORD, "csrf_token": token}
    return client.post("/sign-in", data=data).status_code


def test_form_pages_write_no_session_row_until_the_sign_in(
    client: FlaskClient, services: Services
) -> None:
    make_account(services)

    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    client.get("/sign-in")  # a second view, e.g. after a typo, reuses the token
    rows_before = _rows()

    assert rows_before == 0
    assert _cookie(client).startswith(".")
    assert _sign_in(client, token) == 302
    assert _rows() == 1
    assert not _cookie(client).startswith(".")  # now a random id of a row
    assert "You are signed in as parentuser1." in client.get("/").get_data(as_text=True)


def test_a_tampered_cookie_session_is_an_empty_one(client: FlaskClient, services: Services) -> None:
    make_account(services)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    value = _cookie(client)
    client.set_cookie("idp_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))

    response = client.post(
        "/sign-in",
        data={"username": "parentuser1", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 400  # the form's token no longer matches any session
    assert "This form expired" in response.get_data(as_text=True)
    assert _rows() == 0


def test_a_cookie_session_may_hold_only_a_form_token_and_a_language(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    account = make_account(services)
    sid = services.sso.start(account.id, amr=["pwd"], acr=None).sid
    db.session.commit()

    # Even signed with the server's key, a cookie session claiming a sign-in is not one.
    client.set_cookie("idp_session", _signed(app, {"account_id": account.id, "sid": sid}))

    assert "You are signed in" not in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_cookie_session_idles_out_like_a_row(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    make_account(services)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))

    clock.advance(minutes=61)  # the idle timeout is 60 minutes

    assert _sign_in(client, token) == 400
    assert _rows() == 0


def test_a_cookie_session_in_use_is_signed_again_and_stays(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    make_account(services)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    for _ in range(3):  # the page stays open, the language is changed now and then...
        clock.advance(minutes=40)
        client.get("/sign-in")

    assert _sign_in(client, token) == 302  # 120 minutes after the first view, none idle


def test_the_language_alone_keeps_no_row(client: FlaskClient) -> None:
    client.get("/sign-in?lang=so")

    assert _rows() == 0
    assert 'lang="so"' in client.get("/sign-in").get_data(as_text=True)
