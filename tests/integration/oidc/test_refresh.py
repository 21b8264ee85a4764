"""Refresh tokens: rotated on every use, reuse revokes the family (RFC 9700 4.14.2), idle and
absolute lifetimes from policies/oidc.toml, bound to their client, only for who may have them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from tests.builders import csrf_token
from tests.integration.oidc.conftest import (
    SECRETS,
    authorize_params,
    basic_auth,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
)

DAY = 24 * 60 * 60
LIBRARY_REDIRECT = "http://127.0.0.1:5004/callback"
MOBILE_REDIRECT = "http://127.0.0.1:5003/callback"


def _sign_in_tokens(client: FlaskClient, **extra: str) -> dict[str, Any]:
    """The grades app's token response for the signed-in guardian."""
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, **extra), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _refresh(client: FlaskClient, refresh_token: str, client_id: str = "grades") -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/token", data=data, headers=basic_auth(client_id))


def _refreshed(client: FlaskClient, refresh_token: str) -> dict[str, Any]:
    response = _refresh(client, refresh_token)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _refresh_every(
    client: FlaskClient, clock: FrozenClock, refresh_token: str, days: int, times: int
) -> str:
    """Refresh `times` times, `days` apart; return the newest refresh token."""
    for _ in range(times):
        clock.advance(seconds=days * DAY)
        refresh_token = _refreshed(client, refresh_token)["refresh_token"]
    return refresh_token


def _userinfo(client: FlaskClient, access_token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def _rotated_twice_then_reused(
    client: FlaskClient, clock: FrozenClock, seconds: int
) -> tuple[dict[str, Any], Any]:
    """Rotate once, present the rotated token again after `seconds`: (newest tokens, answer)."""
    original = _sign_in_tokens(client)
    newest = _refreshed(client, original["refresh_token"])
    clock.advance(seconds=seconds)
    return newest, _refresh(client, original["refresh_token"])


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_refresh_returns_new_tokens(signed_in: FlaskClient, kind: str) -> None:
    original = _sign_in_tokens(signed_in)

    refreshed = _refreshed(signed_in, original["refresh_token"])

    assert refreshed[kind]
    assert refreshed[kind] != original[kind]


def test_refreshed_access_token_works(signed_in: FlaskClient) -> None:
    original = _sign_in_tokens(signed_in)
    refreshed = _refreshed(signed_in, original["refresh_token"])

    response = _userinfo(signed_in, refreshed["access_token"])

    assert response.status_code == 200


@pytest.mark.parametrize("claim", ["sub", "auth_time", "sid", "amr"])
def test_refreshed_id_token_keeps_the_sign_in_claims(
    signed_in: FlaskClient, clock: FrozenClock, claim: str
) -> None:
    original = _sign_in_tokens(signed_in)
    clock.advance(seconds=5 * 60)

    refreshed = _refreshed(signed_in, original["refresh_token"])

    before = decode_id_token(signed_in, original["id_token"])
    after = decode_id_token(signed_in, refreshed["id_token"])
    assert after[claim] == before[claim]
    assert after["iat"] == before["iat"] + 5 * 60


def test_refuses_a_rotated_refresh_token(signed_in: FlaskClient) -> None:
    original = _sign_in_tokens(signed_in)
    _refreshed(signed_in, original["refresh_token"])

    response = _refresh(signed_in, original["refresh_token"])

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_reuse_within_the_grace_keeps_the_newest_refresh_token(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    newest, reuse = _rotated_twice_then_reused(signed_in, clock, seconds=1)

    response = _refresh(signed_in, newest["refresh_token"])

    assert reuse.get_json()["error"] == "invalid_grant"
    assert response.status_code == 200


def test_reuse_after_the_grace_is_refused(signed_in: FlaskClient, clock: FrozenClock) -> None:
    _, reuse = _rotated_twice_then_reused(signed_in, clock, seconds=6)

    assert reuse.status_code == 400
    assert reuse.get_json()["error"] == "invalid_grant"


def test_reuse_after_the_grace_is_logged_as_a_security_event(
    signed_in: FlaskClient, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="idp.oidc")

    _rotated_twice_then_reused(signed_in, clock, seconds=6)

    assert any("oidc:refresh:reused" in record.getMessage() for record in caplog.records)


def test_reuse_after_the_grace_revokes_the_newest_refresh_token(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    newest, _ = _rotated_twice_then_reused(signed_in, clock, seconds=6)

    response = _refresh(signed_in, newest["refresh_token"])

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_reuse_after_the_grace_revokes_the_newest_access_token(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    newest, _ = _rotated_twice_then_reused(signed_in, clock, seconds=6)

    response = _userinfo(signed_in, newest["access_token"])

    assert response.status_code == 401


@pytest.mark.parametrize(("idle_days", "status"), [(13, 200), (14, 400)])
def test_refresh_token_stops_working_after_14_idle_days(
    signed_in: FlaskClient, clock: FrozenClock, idle_days: int, status: int
) -> None:
    original = _sign_in_tokens(signed_in)
    clock.advance(seconds=idle_days * DAY)

    response = _refresh(signed_in, original["refresh_token"])

    assert response.status_code == status
    assert response.get_json().get("error") == (None if status == 200 else "invalid_grant")


@pytest.mark.parametrize(("last_gap_days", "status"), [(9, 200), (10, 400)])
def test_refresh_token_stops_working_90_days_after_sign_in_even_if_used(
    signed_in: FlaskClient, clock: FrozenClock, last_gap_days: int, status: int
) -> None:
    original = _sign_in_tokens(signed_in)
    newest = _refresh_every(signed_in, clock, original["refresh_token"], days=10, times=8)
    clock.advance(seconds=last_gap_days * DAY)

    response = _refresh(signed_in, newest)

    assert response.status_code == status
    assert response.get_json().get("error") == (None if status == 200 else "invalid_grant")


def test_absolute_lifetime_counts_from_the_sign_in_not_the_code(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    clock.advance(seconds=30 * 60)  # signed in half an hour before the app asks for a code
    original = _sign_in_tokens(signed_in)
    newest = _refresh_every(signed_in, clock, original["refresh_token"], days=10, times=8)
    clock.advance(seconds=10 * DAY - 30 * 60)  # 90 days after the sign-in

    response = _refresh(signed_in, newest)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_refuses_a_refresh_token_of_another_client(signed_in: FlaskClient) -> None:
    original = _sign_in_tokens(signed_in)

    response = _refresh(signed_in, original["refresh_token"], client_id="attendance")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


def test_another_clients_attempt_does_not_use_up_the_refresh_token(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    original = _sign_in_tokens(signed_in)
    _refresh(signed_in, original["refresh_token"], client_id="attendance")
    clock.advance(seconds=6)

    response = _refresh(signed_in, original["refresh_token"])

    assert response.status_code == 200


def test_refuses_a_wider_scope_on_refresh(signed_in: FlaskClient) -> None:
    original = _sign_in_tokens(signed_in, scope="openid profile")

    response = _refresh_with_scope(signed_in, original["refresh_token"], "openid profile email")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_a_refused_scope_does_not_use_up_the_refresh_token(
    signed_in: FlaskClient, clock: FrozenClock
) -> None:
    original = _sign_in_tokens(signed_in, scope="openid profile")
    _refresh_with_scope(signed_in, original["refresh_token"], "openid profile email")
    clock.advance(seconds=6)

    response = _refresh(signed_in, original["refresh_token"])

    assert response.status_code == 200, response.get_json()


def _refresh_with_scope(client: FlaskClient, refresh_token: str, scope: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope}
    return client.post("/token", data=data, headers=basic_auth())


def _library_tokens(client: FlaskClient) -> dict[str, Any]:
    """Sign in to the third-party library app (consent given), asking for offline_access."""
    pkce = new_pkce()
    params = authorize_params(
        pkce,
        client_id="library",
        redirect_uri=LIBRARY_REDIRECT,
        scope="openid profile email offline_access",
    )
    page = client.get("/authorize?" + urlencode(params))
    form = {**params, "csrf_token": csrf_token(page.get_data(as_text=True)), "decision": "allow"}
    code = redirect_query(client.post("/authorize", data=form))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": LIBRARY_REDIRECT,
        "code_verifier": pkce.verifier,
        "client_id": "library",
        "client_secret": SECRETS["IDP_CLIENT_SECRET_LIBRARY"],
    }
    response = client.post("/token", data=data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _mobile_tokens(client: FlaskClient, scope: str) -> dict[str, Any]:
    pkce = new_pkce()
    params = authorize_params(
        pkce, client_id="mykids-mobile", redirect_uri=MOBILE_REDIRECT, scope=scope
    )
    code = redirect_query(client.get("/authorize?" + urlencode(params)))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MOBILE_REDIRECT,
        "code_verifier": pkce.verifier,
        "client_id": "mykids-mobile",
    }
    response = client.post("/token", data=data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_third_party_client_gets_no_refresh_token(signed_in: FlaskClient) -> None:
    body = _library_tokens(signed_in)

    assert body["access_token"]
    assert "offline_access" not in body["scope"].split()
    assert "refresh_token" not in body


@pytest.mark.parametrize("scope", ["openid profile", "openid profile offline_access"])
def test_first_party_app_allowed_to_refresh_always_gets_a_refresh_token(
    signed_in: FlaskClient, scope: str
) -> None:
    body = _mobile_tokens(signed_in, scope)

    assert body["refresh_token"]


def test_public_client_refreshes_with_its_client_id_only(signed_in: FlaskClient) -> None:
    original = _mobile_tokens(signed_in, "openid profile")
    data = {
        "grant_type": "refresh_token",
        "refresh_token": original["refresh_token"],
        "client_id": "mykids-mobile",
    }

    response = signed_in.post("/token", data=data)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["refresh_token"] != original["refresh_token"]


def _last_activity(guardian: Account) -> datetime | None:
    db.session.expire_all()
    return db.session.get(Account, guardian.id).last_activity_at  # type: ignore[union-attr]


def test_a_refresh_counts_as_activity_at_most_once_an_hour(
    signed_in: FlaskClient, guardian: Account, clock: FrozenClock
) -> None:
    # The lifecycle sweep disables accounts idle for 6 months: an app that keeps refreshing
    # keeps its user's account alive, without a write on every refresh.
    tokens = _sign_in_tokens(signed_in)
    signed_in_at = _last_activity(guardian)

    clock.advance(seconds=30 * 60)
    tokens = _refreshed(signed_in, tokens["refresh_token"])
    assert _last_activity(guardian) == signed_in_at  # within the hour: not written again

    clock.advance(seconds=31 * 60)
    _refreshed(signed_in, tokens["refresh_token"])
    assert _last_activity(guardian) == clock.now()
