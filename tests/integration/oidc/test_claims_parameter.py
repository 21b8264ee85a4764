"""The OIDC `claims` request parameter (Core 5.5): validated, and never wider than the scopes
the person granted (issue 14: asking for claims by name bypassed consent)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from tests.integration.oidc.conftest import (
    SECRETS,
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)
from tests.integration.oidc.test_consent import LIBRARY_REDIRECT, _decide

EMAIL_IN_ID_TOKEN = json.dumps({"id_token": {"email": {"essential": True}}})
EMAIL_AT_USERINFO = json.dumps({"userinfo": {"email": None}})
# The attacker's request of the report: everything by name, with scope=openid only.
EVERYTHING_BY_NAME = json.dumps(
    {
        "userinfo": {
            "email": None,
            "name": None,
            "preferred_username": None,
            "students": None,
            "student_ids": None,
        },
        "id_token": {"email": None, "given_name": None, "students": None, "student_ids": None},
    }
)
PERSONAL_CLAIMS = {
    "email",
    "name",
    "given_name",
    "preferred_username",
    "students",
    "student_ids",
    "student",
}


def _tokens(client: FlaskClient, claims: str, scope: str = "openid") -> dict[str, str]:
    pkce = new_pkce()
    code = get_code(client, pkce, scope=scope, claims=claims)
    return exchange(client, code, pkce).get_json()  # type: ignore[no-any-return]


def _userinfo(client: FlaskClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _library_token(client: FlaskClient, code: str) -> dict[str, str]:
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": LIBRARY_REDIRECT,
            "client_id": "library",
            "client_secret": SECRETS["IDP_CLIENT_SECRET_LIBRARY"],
        },
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _library_params(**extra: str) -> dict[str, str]:
    params = authorize_params(
        client_id="library",
        redirect_uri=LIBRARY_REDIRECT,
        scope="openid",
        claims=EVERYTHING_BY_NAME,
    )
    params.update(extra)
    return params


def test_third_party_app_gets_only_sub_after_consenting_to_openid(
    signed_in: FlaskClient,
) -> None:
    code = redirect_query(_decide(signed_in, _library_params(), "allow"))["code"]

    tokens = _library_token(signed_in, code)

    id_token = decode_id_token(signed_in, tokens["id_token"])
    assert not PERSONAL_CLAIMS & set(id_token)
    assert set(_userinfo(signed_in, tokens["access_token"])) == {"sub"}


def test_stored_consent_does_not_release_named_claims_on_a_silent_request(
    signed_in: FlaskClient,
) -> None:
    _decide(signed_in, _library_params(), "allow")
    silent = signed_in.get("/authorize?" + urlencode(_library_params(prompt="none", nonce="2")))

    tokens = _library_token(signed_in, redirect_query(silent)["code"])

    assert not PERSONAL_CLAIMS & set(decode_id_token(signed_in, tokens["id_token"]))
    assert set(_userinfo(signed_in, tokens["access_token"])) == {"sub"}


def test_consent_page_lists_only_the_requested_scopes(signed_in: FlaskClient) -> None:
    page = signed_in.get("/authorize?" + urlencode(_library_params())).get_data(as_text=True)

    assert "Know who you are" in page
    assert "Your email address" not in page


def test_a_named_claim_outside_the_granted_scopes_is_not_in_the_id_token(
    signed_in: FlaskClient,
) -> None:
    tokens = _tokens(signed_in, EMAIL_IN_ID_TOKEN)

    assert "email" not in decode_id_token(signed_in, tokens["id_token"])


def test_a_named_claim_outside_the_granted_scopes_is_not_at_userinfo(
    signed_in: FlaskClient,
) -> None:
    tokens = _tokens(signed_in, EMAIL_AT_USERINFO)

    assert "email" not in _userinfo(signed_in, tokens["access_token"])


def test_named_students_claim_needs_the_students_scope(signed_in: FlaskClient) -> None:
    tokens = _tokens(signed_in, EVERYTHING_BY_NAME)

    assert "students" not in decode_id_token(signed_in, tokens["id_token"])
    assert "students" not in _userinfo(signed_in, tokens["access_token"])


def test_a_named_claim_within_the_granted_scopes_is_in_the_id_token(
    signed_in: FlaskClient,
) -> None:
    tokens = _tokens(signed_in, EMAIL_IN_ID_TOKEN, scope="openid email")

    assert decode_id_token(signed_in, tokens["id_token"])["email"] == "parent1@example.org"


@pytest.mark.parametrize("claims", ["not json", "[1, 2]", '{"id_token": ["email"]}'])
def test_malformed_claims_parameter_is_invalid_request(signed_in: FlaskClient, claims: str) -> None:
    params = authorize_params(new_pkce(), claims=claims)

    query = redirect_query(signed_in.get("/authorize?" + urlencode(params)))

    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
