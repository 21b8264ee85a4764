"""Token revocation (RFC 7009) through HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import (
    authorize_params,
    basic_auth,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)

MYKIDS_REDIRECT = "http://127.0.0.1:5003/callback"


def _grades_tokens(client: FlaskClient) -> dict[str, Any]:
    """A token response of the grades app (access and refresh token)."""
    pkce = new_pkce()
    body: dict[str, Any] = exchange(client, get_code(client, pkce), pkce).get_json()
    assert "refresh_token" in body, body
    return body


def _mykids_tokens(client: FlaskClient) -> dict[str, Any]:
    """A token response of the public MyKids phone app (PKCE, no secret)."""
    pkce = new_pkce()
    params = authorize_params(
        pkce, client_id="mykids-mobile", redirect_uri=MYKIDS_REDIRECT, scope="openid profile"
    )
    code = redirect_query(client.get("/authorize?" + urlencode(params)))["code"]
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": MYKIDS_REDIRECT,
            "client_id": "mykids-mobile",
            "code_verifier": pkce.verifier,
        },
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _revoke(client: FlaskClient, token: str, client_id: str = "grades", **extra: str) -> Any:
    return client.post("/revoke", data={"token": token, **extra}, headers=basic_auth(client_id))


def _userinfo(client: FlaskClient, access_token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revoked_access_token_is_refused_at_userinfo(
    signed_in: FlaskClient, hint: str | None
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = _revoke(signed_in, access_token, **({"token_type_hint": hint} if hint else {}))

    assert response.status_code == 200
    assert _userinfo(signed_in, access_token).status_code == 401


def test_revoking_an_access_token_also_ends_its_refresh_token(signed_in: FlaskClient) -> None:
    # RFC 7009 2.1: the server MAY revoke the respective refresh token as well; we do.
    tokens = _grades_tokens(signed_in)

    _revoke(signed_in, tokens["access_token"])

    assert _refresh(signed_in, tokens["refresh_token"]).status_code == 400


def test_revoking_a_refresh_token_revokes_its_access_token(signed_in: FlaskClient) -> None:
    tokens = _grades_tokens(signed_in)

    response = _revoke(signed_in, tokens["refresh_token"], token_type_hint="refresh_token")

    assert response.status_code == 200
    assert _userinfo(signed_in, tokens["access_token"]).status_code == 401


def test_revoking_a_refresh_token_stops_it_refreshing(signed_in: FlaskClient) -> None:
    tokens = _grades_tokens(signed_in)

    _revoke(signed_in, tokens["refresh_token"])

    response = _refresh(signed_in, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_revokes_tokens_rotated_from_it(signed_in: FlaskClient) -> None:
    first = _grades_tokens(signed_in)
    second = _refresh(signed_in, first["refresh_token"]).get_json()

    _revoke(signed_in, second["refresh_token"])

    assert _userinfo(signed_in, second["access_token"]).status_code == 401
    assert _userinfo(signed_in, first["access_token"]).status_code == 401


def test_revoking_an_unknown_token_answers_200(signed_in: FlaskClient) -> None:
    response = _revoke(signed_in, "no-such-token")

    assert response.status_code == 200


def test_another_client_cannot_revoke_the_token(signed_in: FlaskClient) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = _revoke(signed_in, access_token, client_id="attendance")

    assert response.status_code == 400
    assert _userinfo(signed_in, access_token).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        basic_auth("grades", "wrong-secret-" + "w" * 32),
        basic_auth("attendance", "grades-secret-" + "g" * 32),
        {},
    ],
    ids=["wrong-secret", "secret-of-another-client", "no-credentials"],
)
def test_revocation_without_valid_client_credentials_is_401_invalid_client(
    signed_in: FlaskClient, headers: dict[str, str]
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    response = signed_in.post("/revoke", data={"token": access_token}, headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert _userinfo(signed_in, access_token).status_code == 200


def test_public_client_revokes_its_own_token_with_client_id_only(
    signed_in: FlaskClient,
) -> None:
    access_token = _mykids_tokens(signed_in)["access_token"]

    response = signed_in.post("/revoke", data={"token": access_token, "client_id": "mykids-mobile"})

    assert response.status_code == 200
    assert _userinfo(signed_in, access_token).status_code == 401


def test_public_client_cannot_revoke_another_clients_token(signed_in: FlaskClient) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]

    signed_in.post("/revoke", data={"token": access_token, "client_id": "mykids-mobile"})

    assert _userinfo(signed_in, access_token).status_code == 200


def test_revocation_answers_are_not_cached(signed_in: FlaskClient) -> None:
    response = _revoke(signed_in, "no-such-token")

    assert response.headers["Cache-Control"] == "no-store"
