"""Consent for third-party apps: the page, Allow, Do not allow, remembered scope sets."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.models import Consent
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    ISSUER,
    SECRETS,
    authorize_params,
    redirect_query,
    sign_in,
    sign_in_form,
)

LIBRARY_REDIRECT = "http://127.0.0.1:5004/callback"


class _ConsentForm(HTMLParser):
    """The hidden fields and decision buttons of the consent page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.decisions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")
        if tag == "button" and values.get("name") == "decision":
            self.decisions.append(values["value"])


def _form(page: str) -> _ConsentForm:
    parser = _ConsentForm()
    parser.feed(page)
    return parser


def _library(**extra: str) -> dict[str, str]:
    params = authorize_params(
        client_id="library", redirect_uri=LIBRARY_REDIRECT, scope="openid profile"
    )
    params.update(extra)
    return params


def _authorize(client: FlaskClient, params: dict[str, str]) -> Any:
    return client.get("/authorize?" + urlencode(params))


def _decide(client: FlaskClient, params: dict[str, str], decision: str) -> Any:
    """Show the consent page for `params` and press one of its buttons."""
    page = _authorize(client, params)
    assert page.status_code == 200, page.headers.get("Location")
    return client.post(
        "/authorize", data={**_form(page.get_data(as_text=True)).hidden, "decision": decision}
    )


def _consents() -> int:
    return db.session.execute(select(func.count()).select_from(Consent)).scalar_one()


def test_third_party_app_shows_the_consent_page_with_its_name(signed_in: FlaskClient) -> None:
    response = _authorize(signed_in, _library())

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "School Library wants to use your portal account" in page


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        ("openid", "Know who you are when you sign in"),
        ("profile", "Your name, username, language and role"),
        ("email", "Your email address"),
    ],
)
def test_consent_page_lists_each_requested_scope_in_plain_words(
    signed_in: FlaskClient, scope: str, words: str
) -> None:
    response = _authorize(signed_in, _library(scope="openid profile email"))

    assert f'<li data-scope="{scope}">{words}</li>' in response.get_data(as_text=True)


@pytest.mark.parametrize("scope", ["students", "notifications", "offline_access"])
def test_consent_page_leaves_out_scopes_the_app_may_not_have(
    signed_in: FlaskClient, scope: str
) -> None:
    response = _authorize(signed_in, _library(scope=f"openid {scope}"))

    page = response.get_data(as_text=True)
    assert 'data-scope="openid"' in page
    assert f'data-scope="{scope}"' not in page


def test_consent_page_offers_allow_and_do_not_allow(signed_in: FlaskClient) -> None:
    response = _authorize(signed_in, _library())

    form = _form(response.get_data(as_text=True))
    assert form.decisions == ["allow", "deny"]
    assert form.hidden["csrf_token"]
    assert form.hidden["client_id"] == "library"


def test_allow_redirects_with_a_code_the_app_can_redeem(signed_in: FlaskClient) -> None:
    response = _decide(signed_in, _library(), "allow")

    query = redirect_query(response)
    token = signed_in.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": LIBRARY_REDIRECT,
            "client_id": "library",
            "client_secret": SECRETS["IDP_CLIENT_SECRET_LIBRARY"],
        },
    )
    assert response.headers["Location"].startswith(LIBRARY_REDIRECT + "?")
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert token.status_code == 200, token.get_json()


def test_allow_records_the_consent(signed_in: FlaskClient) -> None:
    _decide(signed_in, _library(), "allow")

    assert _consents() == 1


@pytest.mark.parametrize("second_scope", ["openid profile", "profile openid", "openid"])
def test_second_authorization_within_the_allowed_scopes_skips_the_page(
    signed_in: FlaskClient, second_scope: str
) -> None:
    _decide(signed_in, _library(), "allow")

    response = _authorize(signed_in, _library(scope=second_scope, nonce="second"))

    assert "code" in redirect_query(response)


def test_wider_scope_set_asks_again(signed_in: FlaskClient) -> None:
    _decide(signed_in, _library(), "allow")

    response = _authorize(signed_in, _library(scope="openid profile email", nonce="second"))

    assert response.status_code == 200
    assert 'data-scope="email"' in response.get_data(as_text=True)


def test_prompt_consent_shows_the_page_even_after_consent(signed_in: FlaskClient) -> None:
    _decide(signed_in, _library(), "allow")

    response = _authorize(signed_in, _library(prompt="consent", nonce="second"))

    assert response.status_code == 200
    assert "School Library wants to use your portal account" in response.get_data(as_text=True)


def test_do_not_allow_redirects_with_access_denied(signed_in: FlaskClient) -> None:
    response = _decide(signed_in, _library(), "deny")

    query = redirect_query(response)
    assert response.headers["Location"].startswith(LIBRARY_REDIRECT + "?")
    assert query["error"] == "access_denied"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert "code" not in query


def test_do_not_allow_records_no_consent(signed_in: FlaskClient) -> None:
    _decide(signed_in, _library(), "deny")

    assert _consents() == 0


def test_consent_post_without_csrf_token_is_refused(signed_in: FlaskClient) -> None:
    page = _authorize(signed_in, _library())
    hidden = _form(page.get_data(as_text=True)).hidden
    del hidden["csrf_token"]

    response = signed_in.post("/authorize", data={**hidden, "decision": "allow"})

    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert _consents() == 0


def test_consent_post_with_a_wrong_csrf_token_is_refused(signed_in: FlaskClient) -> None:
    page = _authorize(signed_in, _library())
    hidden = _form(page.get_data(as_text=True)).hidden

    response = signed_in.post(
        "/authorize", data={**hidden, "csrf_token": "not-the-token", "decision": "allow"}
    )

    assert response.status_code == 400
    assert _consents() == 0


@pytest.mark.parametrize(
    ("client_id", "redirect_uri"),
    [("grades", GRADES_REDIRECT), ("attendance", "http://127.0.0.1:5002/callback")],
)
def test_first_party_app_never_shows_the_consent_page(
    signed_in: FlaskClient, client_id: str, redirect_uri: str
) -> None:
    response = _authorize(
        signed_in, authorize_params(client_id=client_id, redirect_uri=redirect_uri)
    )

    assert "code" in redirect_query(response)
    assert _consents() == 0


def test_prompt_login_at_a_third_party_app_signs_in_then_asks_consent_then_issues_a_code(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(minutes=5)
    to_sign_in = _authorize(signed_in, _library(prompt="login"))
    back = sign_in_form(to_sign_in).query["next"]
    sign_in(signed_in, next_url=back)
    page = signed_in.get(back)

    response = signed_in.post(
        "/authorize", data={**_form(page.get_data(as_text=True)).hidden, "decision": "allow"}
    )

    assert "code" in redirect_query(response)
