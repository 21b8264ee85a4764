"""prompt, max_age, login_hint, ui_locales and friends (OIDC Core 3.1.2.1), through HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from joserfc import jwt

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.oidc.authorize import ACR_PASSWORD
from idp.services import Services
from tests.builders import make_account
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    ISSUER,
    authorize_params,
    decode_id_token,
    exchange,
    new_pkce,
    redirect_query,
    sign_in,
    sign_in_form,
)

LIBRARY_REDIRECT = "http://127.0.0.1:5004/callback"


def _authorize(client: FlaskClient, **extra: str) -> Any:
    return client.get("/authorize?" + urlencode(authorize_params(None, **extra)))


def _library_params(**extra: str) -> dict[str, str]:
    return authorize_params(
        None, client_id="library", redirect_uri=LIBRARY_REDIRECT, scope="openid profile", **extra
    )


def _sign_in_target(response: Any) -> dict[str, str]:
    """The query of the sign-in form's action (/authorize answers with the form)."""
    return sign_in_form(response).query


def _sign_in_again_and_return(client: FlaskClient, to_sign_in: Any) -> Any:
    """Sign in with the form `to_sign_in` shows: the sign-in finishes the waiting
    authorization request and answers with the redirect back to the app."""
    back = _sign_in_target(to_sign_in)["next"]
    signed = sign_in(client, next_url=back)
    assert signed.status_code == 302
    assert signed.headers["Location"].startswith(GRADES_REDIRECT + "?")
    return signed


def _id_token_claims(client: FlaskClient, **extra: str) -> dict[str, Any]:
    pkce = new_pkce()
    code = redirect_query(_authorize(client, **_with_pkce(pkce), **extra))["code"]
    body = exchange(client, code, pkce).get_json()
    return decode_id_token(client, body["id_token"])


def _with_pkce(pkce: Any) -> dict[str, str]:
    return {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}


def test_prompt_none_without_a_session_redirects_with_login_required(
    client: FlaskClient, guardian: Account
) -> None:
    response = _authorize(client, prompt="none")

    query = redirect_query(response)
    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert query["error"] == "login_required"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert "code" not in query


@pytest.mark.parametrize("client_id", ["grades", "attendance"])
def test_prompt_none_with_a_session_at_a_first_party_app_issues_a_code(
    signed_in: FlaskClient, client_id: str
) -> None:
    redirect_uri = {"grades": GRADES_REDIRECT, "attendance": "http://127.0.0.1:5002/callback"}

    response = _authorize(
        signed_in, prompt="none", client_id=client_id, redirect_uri=redirect_uri[client_id]
    )

    query = redirect_query(response)
    assert "code" in query
    assert "error" not in query


def test_prompt_none_at_a_third_party_app_without_consent_redirects_with_consent_required(
    signed_in: FlaskClient,
) -> None:
    response = signed_in.get("/authorize?" + urlencode(_library_params(prompt="none")))

    query = redirect_query(response)
    assert response.headers["Location"].startswith(LIBRARY_REDIRECT + "?")
    assert query["error"] == "consent_required"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER


def test_prompt_login_with_a_session_sends_to_the_sign_in_page(signed_in: FlaskClient) -> None:
    response = _authorize(signed_in, prompt="login")

    target = _sign_in_target(response)
    assert urlsplit(target["next"]).path == "/authorize"
    assert "prompt=login" in target["next"]


def test_prompt_login_then_signing_in_again_issues_a_code_with_a_newer_auth_time(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    first_auth_time = _id_token_claims(signed_in)["auth_time"]
    clock.advance(minutes=5)
    pkce = new_pkce()
    to_sign_in = _authorize(signed_in, prompt="login", **_with_pkce(pkce))

    response = _sign_in_again_and_return(signed_in, to_sign_in)

    code = redirect_query(response)["code"]
    claims = decode_id_token(signed_in, exchange(signed_in, code, pkce).get_json()["id_token"])
    assert claims["auth_time"] == first_auth_time + 300


def test_max_age_shorter_than_the_sign_in_age_sends_to_the_sign_in_page(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(minutes=2)

    response = _authorize(signed_in, max_age="60")

    assert urlsplit(_sign_in_target(response)["next"]).path == "/authorize"


def test_max_age_longer_than_the_sign_in_age_issues_a_code(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(minutes=2)

    response = _authorize(signed_in, max_age="600")

    assert "code" in redirect_query(response)


def test_max_age_then_signing_in_again_issues_a_code_with_a_fresh_auth_time(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(minutes=2)
    pkce = new_pkce()
    to_sign_in = _authorize(signed_in, max_age="60", **_with_pkce(pkce))

    response = _sign_in_again_and_return(signed_in, to_sign_in)

    code = redirect_query(response)["code"]
    claims = decode_id_token(signed_in, exchange(signed_in, code, pkce).get_json()["id_token"])
    assert claims["auth_time"] == int(clock.now().timestamp())


@pytest.mark.parametrize("max_age", ["soon", "1.5", "-1", "60s"])
def test_max_age_not_a_non_negative_integer_redirects_with_invalid_request(
    signed_in: FlaskClient, max_age: str
) -> None:
    response = _authorize(signed_in, max_age=max_age)

    query = redirect_query(response)
    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER


def test_login_hint_prefills_the_username_on_the_sign_in_page(
    client: FlaskClient, guardian: Account
) -> None:
    to_sign_in = _authorize(client, login_hint="someuser")

    page = sign_in_form(to_sign_in).page

    assert 'name="username"' in page
    assert 'value="someuser"' in page


@pytest.mark.parametrize(
    ("ui_locales", "lang"), [("es-MX vi", "es"), ("vi es", "vi"), ("fr ar", "ar"), ("fr", "en")]
)
def test_ui_locales_picks_the_first_supported_language_for_the_sign_in_page(
    client: FlaskClient, guardian: Account, ui_locales: str, lang: str
) -> None:
    to_sign_in = _authorize(client, ui_locales=ui_locales)

    page = sign_in_form(to_sign_in).page

    assert f'<html lang="{lang}"' in page


def test_ui_locales_es_shows_the_sign_in_page_in_spanish(
    client: FlaskClient, guardian: Account
) -> None:
    to_sign_in = _authorize(client, ui_locales="es-MX vi")

    page = sign_in_form(to_sign_in).page

    assert "Iniciar sesión" in page


def test_id_token_has_auth_time_when_max_age_was_sent(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    claims = _id_token_claims(signed_in, max_age="3600")

    assert claims["auth_time"] == int(clock.now().timestamp())


def test_id_token_acr_is_the_password_level(signed_in: FlaskClient) -> None:
    claims = _id_token_claims(signed_in)

    assert claims["acr"] == ACR_PASSWORD == "urn:portal:acr:password"


@pytest.mark.parametrize("extra", [{"foo": "bar"}, {"display": "page", "x-custom": "1"}])
def test_unknown_extra_parameters_are_ignored(
    signed_in: FlaskClient, extra: dict[str, str]
) -> None:
    response = _authorize(signed_in, **extra)

    query = redirect_query(response)
    assert "code" in query
    assert not set(extra) & set(query)


def test_post_to_authorize_with_form_data_issues_a_code_like_get(signed_in: FlaskClient) -> None:
    pkce = new_pkce()

    response = signed_in.post("/authorize", data=authorize_params(pkce))

    query = redirect_query(response)
    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert exchange(signed_in, query["code"], pkce).status_code == 200


def test_post_to_authorize_without_a_session_sends_to_the_sign_in_page(
    client: FlaskClient, guardian: Account
) -> None:
    response = client.post("/authorize", data=authorize_params(new_pkce()))

    assert urlsplit(_sign_in_target(response)["next"]).path == "/authorize"


def test_prompt_login_with_a_forged_reauthentication_marker_still_sends_to_the_sign_in_page(
    signed_in: FlaskClient,
) -> None:
    response = _authorize(signed_in, prompt="login", portal_reauth="forged.marker")

    assert urlsplit(_sign_in_target(response)["next"]).path == "/authorize"


def test_a_reauthentication_marker_of_another_request_does_not_skip_prompt_login(
    signed_in: FlaskClient,
) -> None:
    to_sign_in = _authorize(signed_in, prompt="login", state="first")
    marker = parse_qs(urlsplit(_sign_in_target(to_sign_in)["next"]).query)["portal_reauth"][0]
    sign_in(signed_in)

    response = _authorize(signed_in, prompt="login", state="second", portal_reauth=marker)

    assert urlsplit(_sign_in_target(response)["next"]).path == "/authorize"


def test_id_token_hint_for_someone_else_with_prompt_none_is_login_required(
    signed_in: FlaskClient, services: Services
) -> None:
    other = make_account(services, username="otherparent1", email="other@example.org")
    hint = jwt.encode(
        {"alg": "RS256", "kid": services.keys.active_kid("RS256")},
        {"sub": other.sub, "iss": "http://localhost", "aud": "grades"},
        services.keys.signing_key("RS256"),
    )
    params = authorize_params(new_pkce(), prompt="none", id_token_hint=hint)

    query = redirect_query(signed_in.get("/authorize?" + urlencode(params)))

    assert query["error"] == "login_required"


def test_id_token_hint_not_of_this_provider_is_invalid_request(signed_in: FlaskClient) -> None:
    params = authorize_params(new_pkce(), prompt="none", id_token_hint="not.a.token")

    query = redirect_query(signed_in.get("/authorize?" + urlencode(params)))

    assert query["error"] == "invalid_request"
