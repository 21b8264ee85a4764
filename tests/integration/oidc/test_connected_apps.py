"""Preferences, Connected apps: list third-party consents and withdraw them."""

from __future__ import annotations

from urllib.parse import urlencode

from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.extensions import db
from idp.oidc.models import Consent, OAuthToken
from idp.oidc.tokens import NewToken
from idp.services import Services
from tests.builders import csrf_token
from tests.integration.oidc.conftest import authorize_params


def _grant_library(services: Services, account: Account) -> None:
    services.consent.grant(account.id, "library", "openid profile")
    services.tokens.save(
        {"access_token": "a" * 43, "expires_in": 600},
        NewToken(
            client_id="library",
            account_id=account.id,
            scope="openid profile",
            grant_type="authorization_code",
        ),
    )
    db.session.commit()


def test_connected_apps_lists_the_third_party_app(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    _grant_library(services, guardian)

    page = signed_in.get("/preferences/connected-apps").get_data(as_text=True)

    assert "School Library" in page
    assert "Your name, username, language and role" in page


def test_withdrawing_ends_consent_and_the_apps_tokens(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    _grant_library(services, guardian)
    token = csrf_token(signed_in.get("/preferences/connected-apps").get_data(as_text=True))

    signed_in.post(
        "/preferences/connected-apps", data={"csrf_token": token, "client_id": "library"}
    )

    consent = db.session.execute(select(Consent)).scalar_one()
    app_token = db.session.execute(select(OAuthToken)).scalar_one()
    assert consent.revoked_at is not None
    assert app_token.revoked_at is not None


def test_after_withdrawal_the_app_asks_again(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    _grant_library(services, guardian)
    services.consent.withdraw(guardian.id, "library")
    db.session.commit()
    params = authorize_params(
        client_id="library", redirect_uri="http://127.0.0.1:5004/callback", scope="openid profile"
    )

    response = signed_in.get("/authorize?" + urlencode(params))

    assert response.status_code == 200
    assert "wants to use your portal account" in response.get_data(as_text=True)


def test_connected_apps_needs_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/preferences/connected-apps")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
