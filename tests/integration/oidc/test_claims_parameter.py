"""The OIDC `claims` request parameter (Core 5.5): named claims, within what the app may see."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import (
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)

EMAIL_IN_ID_TOKEN = json.dumps({"id_token": {"email": {"essential": True}}})
EMAIL_AT_USERINFO = json.dumps({"userinfo": {"email": None}})


def _tokens(client: FlaskClient, claims: str, **extra: str) -> dict[str, str]:
    pkce = new_pkce()
    code = get_code(client, pkce, scope="openid", claims=claims, **extra)
    return exchange(client, code, pkce).get_json()  # type: ignore[no-any-return]


def test_requested_claim_is_added_to_the_id_token(signed_in: FlaskClient) -> None:
    tokens = _tokens(signed_in, EMAIL_IN_ID_TOKEN)

    claims = decode_id_token(signed_in, tokens["id_token"])

    assert claims["email"] == "parent1@example.org"


def test_without_the_parameter_scope_openid_releases_no_email(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    tokens = exchange(signed_in, get_code(signed_in, pkce, scope="openid"), pkce).get_json()

    assert "email" not in decode_id_token(signed_in, tokens["id_token"])


def test_requested_claim_is_returned_at_userinfo(signed_in: FlaskClient) -> None:
    tokens = _tokens(signed_in, EMAIL_AT_USERINFO)

    info = signed_in.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).get_json()

    assert info["email"] == "parent1@example.org"


def test_a_claim_outside_the_apps_allowed_scopes_is_never_released(
    signed_in: FlaskClient,
) -> None:
    # mykids-mobile is not registered for the email scope.
    pkce = new_pkce()
    params = authorize_params(
        pkce,
        client_id="mykids-mobile",
        redirect_uri="http://127.0.0.1:5003/callback",
        scope="openid",
        claims=EMAIL_IN_ID_TOKEN,
    )
    code = redirect_query(signed_in.get("/authorize?" + urlencode(params)))["code"]
    response = signed_in.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:5003/callback",
            "client_id": "mykids-mobile",
            "code_verifier": pkce.verifier,
        },
    )

    assert "email" not in decode_id_token(signed_in, response.get_json()["id_token"])


@pytest.mark.parametrize("claims", ["not json", "[1, 2]", '{"id_token": ["email"]}'])
def test_malformed_claims_parameter_is_invalid_request(signed_in: FlaskClient, claims: str) -> None:
    params = authorize_params(new_pkce(), claims=claims)

    query = redirect_query(signed_in.get("/authorize?" + urlencode(params)))

    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
