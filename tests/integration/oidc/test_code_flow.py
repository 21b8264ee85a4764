"""Authorization code flow with PKCE, end to end through HTTP."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask.testing import FlaskClient

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.services import Services
from tests.builders import make_account
from tests.conftest import committed
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    ISSUER,
    SECRETS,
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in,
    sign_in_form,
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


def test_a_redirect_uri_keeps_its_own_query_next_to_the_code_state_and_one_iss(
    signed_in: FlaskClient, services: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    # RFC 6749 3.1.2: a registered query is retained; RFC 9207 2: `iss` is added once.
    redirect_uri = GRADES_REDIRECT + "?school=north"
    grades = (PROJECT_ROOT / "clients" / "grades.toml").read_text(encoding="utf-8")
    (tmp_path / "grades.toml").write_text(grades.replace(GRADES_REDIRECT + '"', redirect_uri + '"'))
    known = frozenset(services.claims.supported_scopes())
    with committed():
        ClientRegistry(db.session, clock, known, env="test").sync(tmp_path, SECRETS)

    response = signed_in.get(
        "/authorize?" + urlencode(authorize_params(new_pkce(), redirect_uri=redirect_uri))
    )

    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert response.status_code == 302
    assert location._replace(query="").geturl() == GRADES_REDIRECT
    assert sorted(query) == ["code", "iss", "school", "state"]
    assert (query["school"], query["state"], query["iss"]) == (["north"], ["state-123"], [ISSUER])


def test_not_signed_in_gets_the_sign_in_form_which_comes_back_to_the_request(
    client: FlaskClient, guardian: Account
) -> None:
    response = client.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    form = sign_in_form(response)
    back = urlsplit(form.query["next"])
    assert back.path == "/authorize"
    assert parse_qs(back.query)["state"] == ["state-123"]
    assert 'name="password"' in form.page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_forms_language_links_keep_the_waiting_request(
    client: FlaskClient, guardian: Account
) -> None:
    form = sign_in_form(client.get("/authorize?" + urlencode(authorize_params(new_pkce()))))
    spanish_link = html.unescape(re.findall(r'<a href="([^"]+)" lang="es"', form.page)[0])

    spanish = sign_in_form(client.get(spanish_link))

    assert urlsplit(spanish_link).path == "/sign-in"
    assert spanish.query["next"] == form.query["next"]
    assert '<html lang="es"' in spanish.page
    assert "Iniciar sesión" in spanish.page


def test_userinfo_returns_released_claims(signed_in: FlaskClient, guardian: Account) -> None:
    pkce = new_pkce()
    token = exchange(signed_in, get_code(signed_in, pkce), pkce).get_json()["access_token"]

    response = signed_in.get("/userinfo", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.get_json()["sub"] == guardian.sub
    assert response.get_json()["email"] == "parent1@example.org"


def _sign_in_for(client: FlaskClient, client_id: str, redirect_uri: str) -> tuple[str, Any]:
    """A browser sent to sign in by an authorization request: (that request, the sign-in's
    answer)."""
    params = authorize_params(new_pkce(), client_id=client_id, redirect_uri=redirect_uri)
    if client_id == "library":
        params["scope"] = "openid profile"
    waiting = "/authorize?" + urlencode(params)
    form = sign_in_form(client.get(waiting))
    assert form.query["next"] == waiting
    return waiting, sign_in(client, next_url=form.query["next"])


def test_a_sign_in_finishes_the_waiting_request_and_goes_straight_back_to_the_app(
    client: FlaskClient, guardian: Account
) -> None:
    _, response = _sign_in_for(client, "grades", GRADES_REDIRECT)

    query = redirect_query(response)
    assert response.headers["Location"].startswith(GRADES_REDIRECT + "?")
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert "code" in query
    assert "You are signed in as parentuser1." in client.get("/").get_data(as_text=True)


def test_a_waiting_request_that_needs_consent_goes_back_to_authorize(
    client: FlaskClient, guardian: Account
) -> None:
    waiting, response = _sign_in_for(client, "library", "http://127.0.0.1:5004/callback")

    assert response.headers["Location"] == waiting
    assert "School Library" in client.get(waiting).get_data(as_text=True)  # the consent page


def test_a_first_sign_in_goes_back_to_authorize_for_the_security_questions(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    make_account(services, has_questions=False)

    waiting, response = _sign_in_for(client, "grades", GRADES_REDIRECT)

    assert response.headers["Location"] == waiting
    assert "/security-questions" in client.get(waiting).headers["Location"]
