"""After a password reset, the refresh tokens issued before it are refused by the token endpoint."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.builders import DEFAULT_ANSWERS
from tests.integration.oidc.conftest import basic_auth, exchange, get_code, new_pkce


def _reset(services: Services, account: Account) -> None:
    services.recovery.request_reset(account.username or "")
    message = db.session.execute(select(OutboxMessage)).scalars().all()[-1]
    context = services.recovery_messages.prepare_reset(message)
    assert context is not None
    token = parse_qs(urlsplit(context["reset_url"]).query)["token"][0]
    keys = services.policies.credentials.security_questions.question_keys[:3]
    proof = services.recovery.check_answers(token, dict(zip(keys, DEFAULT_ANSWERS, strict=True)))
    services.recovery.reset_password(proof, "a brand new passphrase")


def test_refresh_token_from_before_the_reset_is_rejected(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    pkce = new_pkce()
    refresh_token = exchange(signed_in, get_code(signed_in, pkce), pkce).get_json()["refresh_token"]

    _reset(services, guardian)
    response = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
