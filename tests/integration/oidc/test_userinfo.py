"""The UserInfo endpoint (OIDC Core 5.3): bearer tokens, scopes, claims, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from tests.integration.oidc.conftest import basic_auth, exchange, get_code, new_pkce


def _access_token(client: FlaskClient, scope: str = "openid profile email") -> str:
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, scope=scope), pkce)
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def _userinfo(client: FlaskClient, token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})


def test_bearer_token_in_the_header_returns_the_subject(
    signed_in: FlaskClient, guardian: Account
) -> None:
    response = _userinfo(signed_in, _access_token(signed_in))

    assert response.status_code == 200
    assert response.get_json()["sub"] == guardian.sub


def test_userinfo_accepts_post_with_the_bearer_header(
    signed_in: FlaskClient, guardian: Account
) -> None:
    token = _access_token(signed_in)

    response = signed_in.post("/userinfo", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.get_json()["sub"] == guardian.sub


def test_userinfo_answers_are_not_cached(signed_in: FlaskClient) -> None:
    response = _userinfo(signed_in, _access_token(signed_in))

    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer not-a-token"}],
    ids=["missing", "empty", "unknown"],
)
def test_missing_or_invalid_token_is_401_with_www_authenticate(
    signed_in: FlaskClient, headers: dict[str, str]
) -> None:
    response = signed_in.get("/userinfo", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")  # case-insensitive


def test_invalid_token_names_the_error_in_www_authenticate(signed_in: FlaskClient) -> None:
    response = _userinfo(signed_in, "not-a-token")

    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_basic_credentials_are_not_a_bearer_token(signed_in: FlaskClient) -> None:
    response = signed_in.get("/userinfo", headers=basic_auth())

    assert response.status_code == 401


def test_expired_token_is_401(signed_in: FlaskClient, clock: FrozenClock) -> None:
    token = _access_token(signed_in)
    clock.advance(minutes=10, seconds=1)

    response = _userinfo(signed_in, token)

    assert response.status_code == 401


def test_token_without_openid_scope_is_refused(signed_in: FlaskClient) -> None:
    token = _access_token(signed_in, scope="profile email")

    response = _userinfo(signed_in, token)

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert "sub" not in (response.get_json() or {})


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        ("openid", {"sub"}, {"email", "email_verified", "preferred_username", "role"}),
        ("openid email", {"sub", "email", "email_verified"}, {"preferred_username", "role"}),
        (
            "openid profile",
            {"sub", "preferred_username", "role"},
            {"email", "email_verified"},
        ),
    ],
)
def test_claims_follow_the_token_scopes(
    signed_in: FlaskClient, scope: str, present: set[str], absent: set[str]
) -> None:
    response = _userinfo(signed_in, _access_token(signed_in, scope=scope))

    claims = set(response.get_json())
    assert present <= claims
    assert not absent & claims


def test_email_claim_is_the_account_email(signed_in: FlaskClient) -> None:
    response = _userinfo(signed_in, _access_token(signed_in, scope="openid email"))

    assert response.get_json()["email"] == "parent1@example.org"


@pytest.mark.parametrize("state", ["cancelled", "disabled"])
def test_token_of_an_account_that_lost_access_is_refused(
    signed_in: FlaskClient, guardian: Account, state: str
) -> None:
    token = _access_token(signed_in)
    guardian.state = state
    db.session.commit()

    response = _userinfo(signed_in, token)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
