"""Authorization code flow with PKCE, end to end through HTTP."""

from __future__ import annotations

from urllib.parse import urlencode

from flask.testing import FlaskClient

from idp.accounts.models import Account
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    ISSUER,
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)


def test_code_flow_issues_tokens_and_a_verifiable_id_token(
    signed_in: FlaskClient, guardian: Account
) -> None:
    pkce = new_pkce()
    params = authorize_params(pkce)
    code = get_code(signed_in, pkce, nonce=params["nonce"])

    response = exchange(signed_in, code, pkce)

    body = response.get_json()
    claims = decode_id_token(signed_in, body["id_token"])
    assert response.status_code == 200, body
    assert body["token_type"] == "Bearer"
    assert 300 <= body["expires_in"] <= 900
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ["grades"]
    assert claims["sub"] == guardian.sub
    assert claims["nonce"] == params["nonce"]
    assert "sid" in claims
    assert "auth_time" in claims
    assert claims["amr"] == ["pwd"]


def test_authorization_response_carries_state_and_iss(signed_in: FlaskClient) -> None:
    response = signed_in.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    query = redirect_query(response)
    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER


def test_not_signed_in_goes_to_the_sign_in_page_and_back(
    client: FlaskClient, guardian: Account
) -> None:
    response = client.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_userinfo_returns_released_claims(signed_in: FlaskClient, guardian: Account) -> None:
    pkce = new_pkce()
    token = exchange(signed_in, get_code(signed_in, pkce), pkce).get_json()["access_token"]

    response = signed_in.get("/userinfo", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.get_json()["sub"] == guardian.sub
    assert response.get_json()["email"] == "parent1@example.org"
