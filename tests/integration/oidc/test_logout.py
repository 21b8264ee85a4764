"""RP-initiated logout, back-channel logout tokens, and end_access."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.accounts.models import Account
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.logout import BACKCHANNEL_EVENT, LogoutService
from idp.oidc.models import OidcClient, SsoSession
from tests.builders import csrf_token
from tests.integration.oidc.conftest import (
    ISSUER,
    authorize_params,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in,
)


def _id_token(client: FlaskClient, **extra: str) -> str:
    pkce = new_pkce()
    return str(exchange(client, get_code(client, pkce, **extra), pkce).get_json()["id_token"])


def _logout(app: Flask) -> LogoutService:
    return app.extensions["idp.logout"]  # type: ignore[no-any-return]


def test_logout_with_hint_redirects_to_the_registered_uri_with_state(
    signed_in: FlaskClient,
) -> None:
    hint = _id_token(signed_in)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": "http://127.0.0.1:5001/"}

    response = signed_in.get("/end-session?" + urlencode({**query, "state": "bye"}))

    assert response.status_code == 302
    assert response.headers["Location"] == "http://127.0.0.1:5001/?state=bye"
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() is not None


def test_logout_signs_the_browser_out(signed_in: FlaskClient) -> None:
    hint = _id_token(signed_in)
    signed_in.get("/end-session?" + urlencode({"id_token_hint": hint}))

    response = signed_in.get("/authorize?" + urlencode(authorize_params(prompt="none")))

    assert redirect_query(response)["error"] == "login_required"


def test_unregistered_post_logout_uri_is_not_followed(signed_in: FlaskClient) -> None:
    hint = _id_token(signed_in)
    query = {"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"}

    response = signed_in.get("/end-session?" + urlencode(query))

    assert response.status_code == 200
    assert "You are signed out" in response.get_data(as_text=True)


def test_logout_without_hint_asks_before_signing_out(signed_in: FlaskClient) -> None:
    page = signed_in.get("/end-session")
    token = csrf_token(page.get_data(as_text=True))

    response = signed_in.post("/end-session", data={"csrf_token": token, "confirm": "yes"})

    assert "Sign out?" in page.get_data(as_text=True)
    assert "You are signed out" in response.get_data(as_text=True)
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() is not None


def test_confirmation_without_csrf_token_signs_nobody_out(signed_in: FlaskClient) -> None:
    response = signed_in.post("/end-session", data={"confirm": "yes"})

    assert response.status_code == 400
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() is None


def _use_attendance(client: FlaskClient) -> None:
    """The signed-in browser's session signs in to a second app."""
    params = authorize_params(
        new_pkce(), client_id="attendance", redirect_uri="http://127.0.0.1:5002/callback"
    )
    client.get("/authorize?" + urlencode(params))


def _told_apps() -> list[str]:
    """The apps a back-channel logout token is queued for, for the latest session."""
    sid = db.session.execute(select(SsoSession.sid).order_by(SsoSession.id.desc())).first()
    messages = db.session.execute(select(OutboxMessage)).scalars()
    return sorted(m.context["client_id"] for m in messages if sid and m.context["sid"] == sid[0])


def _sign_out(client: FlaskClient) -> None:
    """Sign out at the provider's own page."""
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302


def test_sign_out_at_the_provider_enqueues_one_backchannel_message_per_app_used(
    signed_in: FlaskClient, guardian: Account
) -> None:
    _id_token(signed_in)
    _use_attendance(signed_in)
    _id_token(signed_in)

    _sign_out(signed_in)

    messages = db.session.execute(select(OutboxMessage)).scalars().all()
    sid = db.session.execute(select(SsoSession.sid)).scalar_one()
    assert _told_apps() == ["attendance", "grades"]
    assert {message.context["sid"] for message in messages} == {sid}
    assert {message.context["sub"] for message in messages} == {guardian.sub}


@pytest.mark.parametrize("named", [{}, {"client_id": "grades"}], ids=["hint", "hint+client_id"])
def test_rp_initiated_logout_tells_every_app_but_the_one_that_asked(
    signed_in: FlaskClient, guardian: Account, named: dict[str, str]
) -> None:
    _use_attendance(signed_in)
    hint = _id_token(signed_in)  # Grades's ID token of this session

    signed_in.get("/end-session?" + urlencode({"id_token_hint": hint, **named}))

    (message,) = db.session.execute(select(OutboxMessage)).scalars().all()
    sid = db.session.execute(select(SsoSession.sid)).scalar_one()
    assert (message.context["client_id"], message.context["sid"]) == ("attendance", sid)
    assert message.context["sub"] == guardian.sub


def test_logout_naming_an_app_without_its_id_token_tells_every_app(
    signed_in: FlaskClient,
) -> None:
    _use_attendance(signed_in)
    _id_token(signed_in)
    query = "?" + urlencode({"client_id": "grades"})
    page = signed_in.get("/end-session" + query)
    token = csrf_token(page.get_data(as_text=True))

    signed_in.post("/end-session" + query, data={"csrf_token": token, "confirm": "yes"})

    # Anyone can write client_id=grades: nothing shows Grades asked, so it is told too.
    assert "Sign out?" in page.get_data(as_text=True)
    assert _told_apps() == ["attendance", "grades"]


def test_logout_with_an_id_token_of_an_earlier_session_tells_every_app(
    signed_in: FlaskClient,
) -> None:
    earlier_hint = _id_token(signed_in)
    _sign_out(signed_in)
    sign_in(signed_in)
    _use_attendance(signed_in)
    _id_token(signed_in)

    signed_in.get("/end-session?" + urlencode({"id_token_hint": earlier_hint}))

    # The hint is this account's (no confirmation), but Grades's session of the earlier
    # sign-in is not this one: it may still hold one of this session, and is told.
    assert _told_apps() == ["attendance", "grades"]


def test_logout_token_is_a_signed_backchannel_token(app: Flask, signed_in: FlaskClient) -> None:
    keys = KeySet.import_key_set(signed_in.get("/jwks.json").get_json())

    token = _logout(app).logout_token("grades", "subject-1", "sid-1")

    claims = jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "grades"
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert (claims["sub"], claims["sid"]) == ("subject-1", "sid-1")
    assert "nonce" not in claims
    assert claims["jti"]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_logout_token_is_signed_with_the_algorithm_of_the_clients_id_tokens(
    app: Flask, signed_in: FlaskClient, alg: str
) -> None:
    grades = db.session.execute(
        select(OidcClient).where(OidcClient.client_id == "grades")
    ).scalar_one()
    grades.id_token_signed_response_alg = alg
    db.session.commit()
    keys = KeySet.import_key_set(signed_in.get("/jwks.json").get_json())

    token = _logout(app).logout_token("grades", "subject-1", "sid-1")

    assert jwt.decode(token, keys, algorithms=[alg]).header["alg"] == alg


def test_end_access_revokes_tokens_and_sessions(
    app: Flask, signed_in: FlaskClient, guardian: Account
) -> None:
    pkce = new_pkce()
    token = exchange(signed_in, get_code(signed_in, pkce), pkce).get_json()["access_token"]

    _logout(app).end_access(guardian, reason="cancelled")
    db.session.commit()

    userinfo = signed_in.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.status_code == 401
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() is not None
    assert len(db.session.execute(select(OutboxMessage)).scalars().all()) == 1


def test_every_service_that_ends_access_holds_the_one_logout_service(app: Flask) -> None:
    services = app.extensions["idp.services"]

    holders = [
        services.staff._access,
        services.recovery._deps.access,
        services.lifecycle._access,
    ]

    assert all(holder is services.logout for holder in holders)
    assert app.extensions["idp.logout"] is services.logout
