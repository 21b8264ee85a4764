"""PKCE (RFC 7636) as the OAuth 2.0 Security BCP wants it: S256 only, required of public clients."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    ISSUER,
    Pkce,
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)

MOBILE_REDIRECT = "http://127.0.0.1:5003/callback"
REDIRECTS = {"grades": GRADES_REDIRECT, "mykids-mobile": MOBILE_REDIRECT}


def _params(client_id: str, pkce: Pkce | None = None, **extra: str) -> dict[str, str]:
    """A valid authorization request of `client_id` (grades or the public mykids-mobile)."""
    params = authorize_params(pkce, client_id=client_id, redirect_uri=REDIRECTS[client_id])
    if client_id == "mykids-mobile":
        params["scope"] = "openid profile offline_access"
    params.update(extra)
    return params


def _authorize(client: FlaskClient, params: dict[str, str]) -> Any:
    return client.get("/authorize?" + urlencode(params))


def _mobile_code(client: FlaskClient, pkce: Pkce) -> str:
    return redirect_query(_authorize(client, _params("mykids-mobile", pkce)))["code"]


def _mobile_exchange(client: FlaskClient, code: str, verifier: str | None) -> Any:
    """The token request of the public client: client_id in the form, no secret."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_REDIRECT,
        "client_id": "mykids-mobile",
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/token", data=data)


def _redeem(client: FlaskClient, client_id: str, pkce: Pkce, verifier: str | None) -> Any:
    """Get a code for `client_id` with `pkce`, then redeem it sending `verifier`."""
    code = redirect_query(_authorize(client, _params(client_id, pkce)))["code"]
    if client_id == "mykids-mobile":
        return _mobile_exchange(client, code, verifier)
    extra = {"code_verifier": verifier} if verifier is not None else {}
    return exchange(client, code, None, **extra)


def test_public_client_without_code_challenge_is_sent_back_with_invalid_request(
    signed_in: FlaskClient,
) -> None:
    response = _authorize(signed_in, _params("mykids-mobile"))

    query = redirect_query(response)
    assert response.headers["Location"].startswith(MOBILE_REDIRECT + "?")
    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert "code" not in query


@pytest.mark.parametrize("client_id", ["grades", "mykids-mobile"])
@pytest.mark.parametrize("method", ["s256", "S512", "RS256"])
def test_refuses_a_code_challenge_method_other_than_s256(
    signed_in: FlaskClient, client_id: str, method: str
) -> None:
    pkce = new_pkce()
    params = _params(client_id, code_challenge=pkce.challenge, code_challenge_method=method)

    query = redirect_query(_authorize(signed_in, params))

    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
    assert "code" not in query


@pytest.mark.parametrize("client_id", ["grades", "mykids-mobile"])
def test_refuses_plain_pkce(signed_in: FlaskClient, client_id: str) -> None:
    verifier = new_pkce().verifier
    params = _params(client_id, code_challenge=verifier, code_challenge_method="plain")

    query = redirect_query(_authorize(signed_in, params))

    assert query["error"] == "invalid_request"
    assert "code" not in query


@pytest.mark.parametrize("client_id", ["grades", "mykids-mobile"])
def test_refuses_a_code_challenge_without_method(signed_in: FlaskClient, client_id: str) -> None:
    params = _params(client_id, code_challenge=new_pkce().challenge)

    query = redirect_query(_authorize(signed_in, params))

    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
    assert "code" not in query


def test_public_client_with_s256_gets_tokens_without_a_secret(
    signed_in: FlaskClient, guardian: Account
) -> None:
    pkce = new_pkce()
    code = _mobile_code(signed_in, pkce)

    response = _mobile_exchange(signed_in, code, pkce.verifier)

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    assert decode_id_token(signed_in, body["id_token"])["aud"] == ["mykids-mobile"]
    assert decode_id_token(signed_in, body["id_token"])["sub"] == guardian.sub


@pytest.mark.parametrize("client_id", ["grades", "mykids-mobile"])
def test_refuses_a_wrong_code_verifier(signed_in: FlaskClient, client_id: str) -> None:
    response = _redeem(signed_in, client_id, new_pkce(), verifier=new_pkce().verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


@pytest.mark.parametrize("client_id", ["grades", "mykids-mobile"])
def test_refuses_a_missing_code_verifier_when_a_challenge_was_sent(
    signed_in: FlaskClient, client_id: str
) -> None:
    response = _redeem(signed_in, client_id, new_pkce(), verifier=None)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "access_token" not in response.get_json()


def test_confidential_client_without_pkce_gets_tokens(signed_in: FlaskClient) -> None:
    code = get_code(signed_in)

    response = exchange(signed_in, code)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["access_token"]
    assert response.get_json()["id_token"]


def test_refuses_a_code_verifier_when_no_challenge_was_sent(signed_in: FlaskClient) -> None:
    code = get_code(signed_in)

    response = exchange(signed_in, code, code_verifier=new_pkce().verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "access_token" not in response.get_json()
