"""Failed client authentication is limited per client id and address (issue 14: 400 wrong
secrets in a second were all answered, then the right one worked). oidc.toml
[client_authentication] max_failures_per_minute = 10."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.config import Settings
from tests.integration.oidc.conftest import SECRETS, basic_auth

ALLOWED = 10
GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development settings: the rate limiter is on (memory storage, per app)."""
    return replace(settings, env="development")


def _basic(client: FlaskClient, secret: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/token",
        data=GRANT,
        headers=basic_auth("district-reports", secret),
        environ_base={"REMOTE_ADDR": address},
    )


def _post_secret(client: FlaskClient, secret: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/introspect",
        data={"token": "x", "client_id": "district-reports", "client_secret": secret},
        environ_base={"REMOTE_ADDR": address},
    )


RIGHT = SECRETS["IDP_CLIENT_SECRET_DISTRICT_REPORTS"]


def _fail(client: FlaskClient, times: int, address: str = "10.0.0.1") -> list[int]:
    return [_basic(client, f"wrong-{n}", address).status_code for n in range(times)]


@pytest.mark.usefixtures("registered_clients")
def test_wrong_secrets_beyond_the_limit_get_429(client: FlaskClient) -> None:
    statuses = _fail(client, ALLOWED + 1)

    assert statuses[:ALLOWED] == [401] * ALLOWED
    assert statuses[ALLOWED] == 429


@pytest.mark.usefixtures("registered_clients")
def test_after_the_limit_even_the_right_secret_is_refused(client: FlaskClient) -> None:
    _fail(client, ALLOWED)

    response = _basic(client, RIGHT)

    assert response.status_code == 429
    assert response.get_json()["error"] == "invalid_client"
    assert "access_token" not in response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.usefixtures("registered_clients")
def test_the_limit_is_per_address(client: FlaskClient) -> None:
    _fail(client, ALLOWED)

    response = _basic(client, RIGHT, address="10.0.0.2")

    assert response.status_code == 200, response.get_json()


@pytest.mark.usefixtures("registered_clients")
def test_successful_authentications_are_not_counted(client: FlaskClient) -> None:
    statuses = [_basic(client, RIGHT).status_code for _ in range(ALLOWED + 5)]

    assert statuses == [200] * (ALLOWED + 5)


@pytest.mark.usefixtures("registered_clients")
def test_failures_with_the_secret_in_the_body_count_too(client: FlaskClient) -> None:
    statuses = [_post_secret(client, f"wrong-{n}").status_code for n in range(ALLOWED + 1)]

    assert 429 not in statuses[:ALLOWED]
    assert statuses[ALLOWED] == 429


@pytest.mark.usefixtures("registered_clients")
def test_a_failed_client_authentication_is_logged_without_the_secret(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="idp.oidc")

    _basic(client, "wrong-secret-for-the-log")

    lines = [record.getMessage() for record in caplog.records]
    assert any(
        "oidc:client:authentication_failed" in line and "'district-reports'" in line
        for line in lines
    ), lines
    assert not any("wrong-secret-for-the-log" in line for line in lines)
