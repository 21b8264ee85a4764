"""Error pages, health check, redirects and session expiry."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.clock import FrozenClock
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account


def _sign_in(client: FlaskClient, next_url: str | None = None) -> str:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    target = "/sign-in" + (f"?next={next_url}" if next_url else "")
    response = client.post(
        target,
        data={"username": "parentuser1", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    return response.headers["Location"]


def test_unknown_page_gives_a_translated_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page?lang=es")

    assert response.status_code == 404
    assert 'lang="es"' in response.get_data(as_text=True)


def test_unexpected_error_shows_no_stack_trace(app: Flask, client: FlaskClient) -> None:
    def explode() -> str:
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/explode", "explode", explode)

    response = client.get("/explode")

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "hunter2" not in body
    assert "Traceback" not in body
    assert response.headers["X-Request-Id"] in body


def test_health_check_answers_when_the_database_does(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/sign-in")

    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    response = client.get("/sign-in")

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_in_returns_to_a_local_next_page(client: FlaskClient, services: Services) -> None:
    make_account(services)

    assert _sign_in(client, "/?tab=kids") == "/?tab=kids"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_sign_in_never_redirects_off_site(
    client: FlaskClient, services: Services, target: str
) -> None:
    make_account(services)

    assert _sign_in(client, target) == "/"


def test_idle_session_expires(client: FlaskClient, services: Services, clock: FrozenClock) -> None:
    make_account(services)
    _sign_in(client)
    clock.advance(minutes=61)

    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_session_used_within_the_idle_time_stays(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    make_account(services)
    _sign_in(client)
    statuses = []
    for _ in range(3):
        clock.advance(minutes=50)
        statuses.append(client.get("/").status_code)

    assert statuses == [200, 200, 200]


def test_session_ends_at_the_absolute_limit_even_when_used(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    make_account(services)
    _sign_in(client)
    for _ in range(15):
        clock.advance(minutes=50)
        client.get("/")

    assert client.get("/").status_code == 302
