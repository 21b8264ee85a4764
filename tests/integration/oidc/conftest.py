"""OIDC test wiring: the shipped client registrations, keys, and a signed-in guardian."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, form_action, make_account
from tests.conftest import committed

SECRETS = {
    "IDP_CLIENT_SECRET_GRADES": "grades-secret-" + "g" * 32,
    "IDP_CLIENT_SECRET_ATTENDANCE": "attendance-secret-" + "a" * 32,
    "IDP_CLIENT_SECRET_DISTRICT_REPORTS": "reports-secret-" + "r" * 32,
    "IDP_CLIENT_SECRET_LIBRARY": "library-secret-" + "l" * 32,
}
GRADES_REDIRECT = "http://127.0.0.1:5001/callback"
ISSUER = "http://localhost"


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    """A fresh PKCE pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


@pytest.fixture
def registered_clients(app: Flask, services: Services, clock: FrozenClock) -> None:
    """Sync clients/*.toml (the shipped registrations) and create signing keys."""
    known = frozenset(services.claims.supported_scopes())
    with committed():
        ClientRegistry(db.session, clock, known, env="test").sync(PROJECT_ROOT / "clients", SECRETS)
    services.keys.ensure_keys()


@pytest.fixture
def guardian(services: Services, registered_clients: None) -> Account:
    """An active guardian account (username parentuser1)."""
    return make_account(services)


@pytest.fixture
def signed_in(client: FlaskClient, guardian: Account) -> FlaskClient:
    """The test client with the guardian signed in."""
    sign_in(client)
    return client


def sign_in(client: FlaskClient, username: str = "parentuser1", next_url: str = "") -> Any:
    """Post the sign-in form; return the response."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    target = "/sign-in" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    return client.post(
        target, data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )


@dataclass(frozen=True)
class SignInPage:
    """The sign-in form a browser that must sign in first gets from /authorize."""

    action: str  # where it posts: /sign-in?next=<the authorization request>
    query: dict[str, str]  # the action's query
    page: str


def sign_in_form(response: Any) -> SignInPage:
    """The sign-in form in `response`, which must be that form (not a redirect)."""
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    page = response.get_data(as_text=True)
    action = form_action(page)
    assert action is not None, page[:500]
    assert urlsplit(action).path == "/sign-in", action
    query = {key: values[0] for key, values in parse_qs(urlsplit(action).query).items()}
    return SignInPage(action, query, page)


def authorize_params(pkce: Pkce | None = None, **extra: str) -> dict[str, str]:
    """A valid authorization request of the grades app."""
    params = {
        "response_type": "code",
        "client_id": "grades",
        "redirect_uri": GRADES_REDIRECT,
        "scope": "openid profile email offline_access",
        "state": "state-123",
        "nonce": "nonce-" + secrets.token_hex(4),
    }
    if pkce is not None:
        params.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    params.update(extra)
    return params


def redirect_query(response: Any) -> dict[str, str]:
    """The query parameters of a redirect's Location."""
    assert response.status_code == 302, response.get_data(as_text=True)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def get_code(client: FlaskClient, pkce: Pkce | None = None, **extra: str) -> str:
    """Run the authorization request of a signed-in client; return the code."""
    response = client.get("/authorize?" + urlencode(authorize_params(pkce, **extra)))
    return redirect_query(response)["code"]


def basic_auth(client_id: str = "grades", secret: str | None = None) -> dict[str, str]:
    """HTTP Basic client authentication header."""
    value = secret or SECRETS[f"IDP_CLIENT_SECRET_{client_id.upper().replace('-', '_')}"]
    raw = base64.b64encode(f"{client_id}:{value}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def exchange(client: FlaskClient, code: str, pkce: Pkce | None = None, **extra: str) -> Any:
    """Redeem a code at the token endpoint as the grades app."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": GRADES_REDIRECT}
    if pkce is not None:
        data["code_verifier"] = pkce.verifier
    data.update(extra)
    return client.post("/token", data=data, headers=basic_auth())


def decode_id_token(client: FlaskClient, id_token: str) -> dict[str, Any]:
    """Verify an ID token against the published JWKS; return its claims."""
    key_set = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return dict(jwt.decode(id_token, key_set, algorithms=["RS256", "ES256"]).claims)
