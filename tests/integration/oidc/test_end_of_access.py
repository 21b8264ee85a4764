"""What ends with a sign-out or the end of access (issue 14): unredeemed codes, the session's
tokens, refresh tokens without offline_access; and /end-session asks before signing out a
browser on someone else's ID token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.models import SsoSession
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_account
from tests.integration.oidc.conftest import (
    authorize_params,
    basic_auth,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in,
)
from tests.integration.oidc.test_password_reset_revokes_tokens import _reset

WITHOUT_OFFLINE = "openid profile"
WITH_OFFLINE = "openid profile offline_access"


def _tokens(client: FlaskClient, scope: str = WITHOUT_OFFLINE) -> dict[str, Any]:
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, scope=scope), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )


def _userinfo_status(client: FlaskClient, access_token: str) -> int:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code


def _sign_out(client: FlaskClient) -> None:
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302


def _is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/authorize?" + urlencode(authorize_params(prompt="none")))
    return "code" in redirect_query(response)


# --- 2. Codes outlive neither a password change, a reset, a restriction nor a sign-out ------


def test_code_from_before_a_password_change_is_refused(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    kept_sid = db.session.execute(select(SsoSession.sid)).scalar_one()  # this browser stays in
    services.recovery.change_password(
        guardian, DEFAULT_PASSWORD, "a brand new passphrase", kept_sid
    )
    db.session.commit()

    response = exchange(signed_in, code, pkce)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_code_from_before_a_password_reset_is_refused(
    signed_in: FlaskClient, services: Services, guardian: Account
) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    _reset(services, guardian)

    response = exchange(signed_in, code, pkce)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_code_from_before_the_end_of_access_gives_no_refresh_token(
    signed_in: FlaskClient, app: Any, guardian: Account
) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    app.extensions["idp.logout"].end_access(guardian, reason="guardian_restricted")
    db.session.commit()

    body = exchange(signed_in, code, pkce).get_json()

    assert "refresh_token" not in body
    assert body["error"] == "invalid_grant"


def test_code_of_a_signed_out_session_is_refused(signed_in: FlaskClient) -> None:
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    _sign_out(signed_in)

    response = exchange(signed_in, code, pkce)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


# --- 3. Signing out ends the session's tokens ------------------------------------------------


def test_sign_out_ends_refresh_tokens_without_offline_access(signed_in: FlaskClient) -> None:
    refresh_token = _tokens(signed_in)["refresh_token"]
    _sign_out(signed_in)

    response = _refresh(signed_in, refresh_token)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "id_token" not in response.get_json()


@pytest.mark.parametrize("scope", [WITHOUT_OFFLINE, WITH_OFFLINE])
def test_sign_out_ends_the_sessions_access_tokens(signed_in: FlaskClient, scope: str) -> None:
    access_token = _tokens(signed_in, scope)["access_token"]
    _sign_out(signed_in)

    assert _userinfo_status(signed_in, access_token) == 401


def test_offline_access_refresh_token_outlives_the_sign_out(signed_in: FlaskClient) -> None:
    refresh_token = _tokens(signed_in, WITH_OFFLINE)["refresh_token"]
    _sign_out(signed_in)

    response = _refresh(signed_in, refresh_token)

    assert response.status_code == 200, response.get_json()
    assert _userinfo_status(signed_in, response.get_json()["access_token"]) == 200


def test_rp_initiated_logout_ends_refresh_tokens_without_offline_access(
    signed_in: FlaskClient,
) -> None:
    tokens = _tokens(signed_in)
    signed_in.get("/end-session?" + urlencode({"id_token_hint": tokens["id_token"]}))

    response = _refresh(signed_in, tokens["refresh_token"])

    assert response.get_json()["error"] == "invalid_grant"
    assert _userinfo_status(signed_in, tokens["access_token"]) == 401


def test_refresh_without_offline_access_ends_with_the_sessions_lifetime(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    refresh_token = _tokens(signed_in)["refresh_token"]
    clock.advance(hours=12, seconds=1)  # oidc.toml [sessions] absolute_hours = 12

    response = _refresh(signed_in, refresh_token)

    assert response.get_json()["error"] == "invalid_grant"


def test_refresh_without_offline_access_works_while_the_session_lives(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    refresh_token = _tokens(signed_in)["refresh_token"]
    clock.advance(hours=11)

    assert _refresh(signed_in, refresh_token).status_code == 200


# --- 3. /end-session: someone else's ID token does not sign this browser out ----------------


@pytest.fixture
def attackers_id_token(client: FlaskClient, services: Services, guardian: Account) -> str:
    """A valid ID token of another account, obtained in another browser."""
    make_account(services, username="attacker01", email="attacker@example.org")
    db.session.commit()
    other = client.application.test_client()
    sign_in(other, "attacker01")
    pkce = new_pkce()
    return str(exchange(other, get_code(other, pkce), pkce).get_json()["id_token"])


def test_someone_elses_id_token_hint_asks_before_signing_out(
    attackers_id_token: str, client: FlaskClient
) -> None:
    sign_in(client)

    response = client.get("/end-session?" + urlencode({"id_token_hint": attackers_id_token}))

    assert response.status_code == 200
    assert 'name="confirm"' in response.get_data(as_text=True)
    assert _is_signed_in(client)


def test_an_expired_id_token_of_someone_else_asks_before_signing_out(
    attackers_id_token: str, client: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(minutes=30)  # the hint's exp (10 minutes) has passed
    sign_in(client)

    client.get("/end-session?" + urlencode({"id_token_hint": attackers_id_token}))

    assert _is_signed_in(client)


def test_own_id_token_hint_signs_out_without_asking(signed_in: FlaskClient) -> None:
    hint = _tokens(signed_in)["id_token"]

    response = signed_in.get("/end-session?" + urlencode({"id_token_hint": hint}))

    assert "confirm" not in response.get_data(as_text=True)
    assert not _is_signed_in(signed_in)


def test_refresh_after_sign_out_gives_no_id_token_with_the_ended_sid(
    signed_in: FlaskClient,
) -> None:
    refresh_token = _tokens(signed_in, WITH_OFFLINE)["refresh_token"]
    _sign_out(signed_in)

    id_token = _refresh(signed_in, refresh_token).get_json()["id_token"]

    assert "sid" not in decode_id_token(signed_in, id_token)


def test_refresh_in_a_live_session_keeps_its_sid(signed_in: FlaskClient) -> None:
    sid = db.session.execute(select(SsoSession.sid)).scalar_one()
    refresh_token = _tokens(signed_in, WITH_OFFLINE)["refresh_token"]

    id_token = _refresh(signed_in, refresh_token).get_json()["id_token"]

    assert decode_id_token(signed_in, id_token)["sid"] == sid
