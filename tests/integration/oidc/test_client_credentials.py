"""The client_credentials grant (RFC 6749 4.4) for district back-ends, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import SECRETS, basic_auth

REPORTS_SECRET = SECRETS["IDP_CLIENT_SECRET_DISTRICT_REPORTS"]


def _client_credentials(
    client: FlaskClient,
    client_id: str = "district-reports",
    secret: str | None = None,
    **extra: str,
) -> Any:
    return client.post(
        "/token",
        data={"grant_type": "client_credentials", **extra},
        headers=basic_auth(client_id, secret),
    )


@pytest.fixture
def reports_token(client: FlaskClient, registered_clients: None) -> dict[str, Any]:
    """A token response of the District Reports back-end."""
    response = _client_credentials(client)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_back_end_gets_a_bearer_access_token(reports_token: dict[str, Any]) -> None:
    assert reports_token["token_type"] == "Bearer"
    assert reports_token["access_token"]


@pytest.mark.parametrize("field", ["refresh_token", "id_token"])
def test_back_end_gets_no_refresh_or_id_token(reports_token: dict[str, Any], field: str) -> None:
    assert field not in reports_token


def test_back_end_token_lifetime_honours_the_shorter_client_setting(
    reports_token: dict[str, Any],
) -> None:
    assert reports_token["expires_in"] == 300  # clients/district-reports.toml: 5 minutes


@pytest.mark.parametrize("scope", ["openid students", "openid profile email"])
def test_back_end_never_gets_a_scope_outside_its_registration(
    client: FlaskClient, registered_clients: None, scope: str
) -> None:
    response = _client_credentials(client, scope=scope)

    body = response.get_json()
    granted = set(body.get("scope", "").split()) if response.status_code == 200 else set()
    assert granted <= {"openid"}, body


def test_unknown_scope_is_invalid_scope(client: FlaskClient, registered_clients: None) -> None:
    response = _client_credentials(client, scope="nonsense")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_back_end_token_response_is_not_cached(
    client: FlaskClient, registered_clients: None
) -> None:
    response = _client_credentials(client)

    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({}, basic_auth("grades")),
        ({}, basic_auth("attendance")),
        (
            {"client_id": "library", "client_secret": SECRETS["IDP_CLIENT_SECRET_LIBRARY"]},
            {},
        ),
    ],
    ids=["grades", "attendance", "library"],
)
def test_client_without_the_grant_is_unauthorized_client(
    client: FlaskClient, registered_clients: None, body: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.post(
        "/token", data={"grant_type": "client_credentials", **body}, headers=headers
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"


def test_public_client_cannot_use_client_credentials(
    client: FlaskClient, registered_clients: None
) -> None:
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": "mykids-mobile"}
    )

    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in ("invalid_client", "unauthorized_client")
    assert "access_token" not in response.get_json()


@pytest.mark.parametrize(
    "secret",
    ["wrong-secret-" + "w" * 32, SECRETS["IDP_CLIENT_SECRET_GRADES"]],
    ids=["wrong", "other"],
)
def test_wrong_secret_is_401_invalid_client(
    client: FlaskClient, registered_clients: None, secret: str
) -> None:
    response = _client_credentials(client, secret=secret)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def test_back_end_token_is_active_at_introspection_without_a_subject(
    client: FlaskClient, reports_token: dict[str, Any]
) -> None:
    response = client.post(
        "/introspect",
        data={"token": reports_token["access_token"]},
        headers=basic_auth("district-reports"),
    )

    body = response.get_json()
    assert body["active"] is True
    assert body["client_id"] == "district-reports"
    assert "sub" not in body


def test_back_end_token_is_refused_at_userinfo(
    client: FlaskClient, reports_token: dict[str, Any]
) -> None:
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {reports_token['access_token']}"}
    )

    assert response.status_code == 401
