"""Token introspection (RFC 7662) through HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db
from tests.builders import edited_policies
from tests.integration.oidc.conftest import (
    ISSUER,
    basic_auth,
    exchange,
    get_code,
    new_pkce,
)


def _grades_tokens(client: FlaskClient) -> dict[str, Any]:
    pkce = new_pkce()
    body: dict[str, Any] = exchange(client, get_code(client, pkce), pkce).get_json()
    assert "refresh_token" in body, body
    return body


def _introspect(client: FlaskClient, token: str, client_id: str = "grades", **extra: str) -> Any:
    return client.post("/introspect", data={"token": token, **extra}, headers=basic_auth(client_id))


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )


def test_own_active_access_token_is_described(
    signed_in: FlaskClient, guardian: Account, clock: FrozenClock
) -> None:
    tokens = _grades_tokens(signed_in)

    response = _introspect(signed_in, tokens["access_token"])

    body = response.get_json()
    now = int(clock.now().timestamp())
    assert response.status_code == 200
    assert body["active"] is True
    assert body["sub"] == guardian.sub
    assert body["client_id"] == "grades"
    assert body["scope"] == tokens["scope"]
    assert body["iss"] == ISSUER
    assert body["iat"] == now
    assert body["exp"] == now + tokens["expires_in"]


def test_revoked_access_token_is_inactive(signed_in: FlaskClient) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    signed_in.post("/revoke", data={"token": access_token}, headers=basic_auth())

    response = _introspect(signed_in, access_token)

    assert response.get_json() == {"active": False}


def test_expired_access_token_is_inactive(signed_in: FlaskClient, clock: FrozenClock) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    clock.advance(minutes=10, seconds=1)  # access_token_minutes = 10

    response = _introspect(signed_in, access_token)

    assert response.get_json() == {"active": False}


def test_access_token_just_before_expiry_is_active(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    clock.advance(minutes=9, seconds=59)

    response = _introspect(signed_in, access_token)

    assert response.get_json()["active"] is True


def test_live_refresh_token_is_active_until_its_idle_expiry(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    refresh_token = _grades_tokens(signed_in)["refresh_token"]
    idle_expiry = clock.now() + timedelta(days=14)  # refresh_idle_days = 14
    clock.advance(minutes=30)  # past the access token, well within the refresh lifetime

    response = _introspect(signed_in, refresh_token, token_type_hint="refresh_token")

    body = response.get_json()
    assert body["active"] is True
    assert body["exp"] == int(idle_expiry.timestamp())
    assert "token_type" not in body  # RFC 6749 7.1 token types describe access tokens


def test_refresh_token_past_its_idle_expiry_is_inactive(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    refresh_token = _grades_tokens(signed_in)["refresh_token"]
    clock.advance(days=14, seconds=1)

    response = _introspect(signed_in, refresh_token, token_type_hint="refresh_token")

    assert response.get_json() == {"active": False}


def test_rotated_refresh_token_is_inactive(signed_in: FlaskClient) -> None:
    refresh_token = _grades_tokens(signed_in)["refresh_token"]
    assert _refresh(signed_in, refresh_token).status_code == 200

    response = _introspect(signed_in, refresh_token, token_type_hint="refresh_token")

    assert response.get_json() == {"active": False}


def test_token_of_a_cancelled_account_is_inactive(
    signed_in: FlaskClient, guardian: Account
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    guardian.state = "cancelled"
    db.session.commit()

    response = _introspect(signed_in, access_token)

    assert response.get_json() == {"active": False}


def test_back_end_service_can_introspect_another_apps_token(
    signed_in: FlaskClient, guardian: Account
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = _introspect(signed_in, access_token, client_id="district-reports")

    body = response.get_json()
    assert body["active"] is True
    assert body["client_id"] == "grades"
    assert body["sub"] == guardian.sub


def test_another_app_cannot_introspect_the_token(signed_in: FlaskClient) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = _introspect(signed_in, access_token, client_id="attendance")

    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_public_client_cannot_introspect(signed_in: FlaskClient) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = signed_in.post(
        "/introspect", data={"token": access_token, "client_id": "mykids-mobile"}
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "headers",
    [basic_auth("grades", "wrong-secret-" + "w" * 32), {}],
    ids=["wrong-secret", "no-credentials"],
)
def test_introspection_without_valid_client_credentials_is_401(
    signed_in: FlaskClient, headers: dict[str, str]
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = signed_in.post("/introspect", data={"token": access_token}, headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_unknown_token_is_inactive(signed_in: FlaskClient) -> None:
    response = _introspect(signed_in, "no-such-token")

    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_introspection_answers_are_not_cached(signed_in: FlaskClient) -> None:
    response = _introspect(signed_in, "no-such-token")

    assert response.headers["Cache-Control"] == "no-store"


def test_introspection_names_the_resource_servers_in_the_audience(
    signed_in: FlaskClient,
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = _introspect(signed_in, access_token, client_id="district-reports")

    assert response.get_json()["aud"] == ["grades", "district-reports"]


@pytest.fixture
def reports_serving_attendance_only(settings: Settings, tmp_path: Path) -> Settings:
    """oidc.toml where district-reports serves attendance only (not grades)."""
    old = '"district-reports" = ["grades", "attendance", "mykids-mobile"]'
    policies = edited_policies(tmp_path, "oidc.toml", old, '"district-reports" = ["attendance"]')
    return replace(settings, policy_dir=policies)


class TestClientCredentialsAloneGivesNoIntrospection:
    """Issue 14: any client with client_credentials could introspect every user's tokens."""

    @pytest.fixture
    def settings(self, reports_serving_attendance_only: Settings) -> Settings:
        return reports_serving_attendance_only

    def test_a_back_end_cannot_introspect_tokens_of_an_app_it_does_not_serve(
        self, signed_in: FlaskClient
    ) -> None:
        access_token = _grades_tokens(signed_in)["access_token"]

        response = _introspect(signed_in, access_token, client_id="district-reports")

        assert response.status_code == 200
        assert response.get_json() == {"active": False}

    def test_the_apps_own_introspection_still_works(self, signed_in: FlaskClient) -> None:
        access_token = _grades_tokens(signed_in)["access_token"]

        response = _introspect(signed_in, access_token)

        assert response.get_json()["active"] is True
