"""A guardian-rights restriction acts at once: tokens revoked, apps told by back-channel
logout, the child gone from the next sign-in; lifting it restores the child at the next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Request, Response
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update

from idp.accounts.models import Account
from idp.cli import main
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.logout import BACKCHANNEL_EVENT
from idp.oidc.models import OidcClient, SsoSession
from idp.roster.models import Person
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
from tests.integration.oidc.conftest import (
    ISSUER,
    authorize_params,
    basic_auth,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in,
)
from tests.integration.oidc.live import serve
from tests.ports import free_port

SCOPE = "openid students offline_access"


@pytest.fixture
def guardian(services: Services, registered_clients: None) -> Account:
    """parentuser1, parent of S-A (2011) and S-B (2014) at Lakeview Elementary."""
    account = make_account(services)
    guardian = make_person("guardian", sis_person_id="G-1")
    account.person_id = guardian.id
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    for sis, born in (("S-A", date(2011, 2, 2)), ("S-B", date(2014, 4, 4))):
        student = make_person("student", born, sis_person_id=sis)
        enroll(student, school, "05")
        relate(guardian, student)
    make_staff(services, school, role="school_admin")
    db.session.commit()
    return account


class Receiver:
    """The Grades app's back-channel logout URI, on a real loopback port."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.tokens.append(request.form["logout_token"])
        return Response("", 200)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Grades' back-channel logout URI pointed at a local server for this test."""
    app = Receiver()
    port = free_port()
    db.session.execute(
        update(OidcClient)
        .where(OidcClient.client_id == "grades")
        .values(backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel-logout")
    )
    db.session.commit()
    with serve(app, port):
        yield app


def _tokens(client: FlaskClient) -> dict[str, Any]:
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, scope=SCOPE), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/token", data=data, headers=basic_auth())


def _userinfo_ids(client: FlaskClient, access_token: str) -> list[str]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_json()
    return [student["id"] for student in response.get_json()["students"]]


def _restrict(services: Services) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "secretary1", "Court order 2026-114")


def test_restriction_revokes_refresh_and_access_tokens(
    client: FlaskClient, services: Services, guardian: Account
) -> None:
    sign_in(client)
    tokens = _tokens(client)

    _restrict(services)

    refreshed = _refresh(client, tokens["refresh_token"])
    assert (refreshed.status_code, refreshed.get_json()["error"]) == (400, "invalid_grant")
    userinfo = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401


def test_code_fetched_before_the_restriction_is_refused(
    client: FlaskClient, services: Services, guardian: Account
) -> None:
    sign_in(client)
    pkce = new_pkce()
    code = get_code(client, pkce, scope=SCOPE)

    _restrict(services)

    response = exchange(client, code, pkce)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_grant")


def test_restriction_sends_a_valid_logout_token_to_the_app_the_guardian_used(
    app: Flask, client: FlaskClient, services: Services, guardian: Account, receiver: Receiver
) -> None:
    sign_in(client)
    _tokens(client)
    sid = db.session.execute(select(SsoSession.sid)).scalar_one()

    _restrict(services)
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])

    assert "sent 1," in result.output, result.output
    (token,) = receiver.tokens
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    claims = jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims
    assert (claims["iss"], claims["aud"], claims["sub"]) == (ISSUER, "grades", guardian.sub)
    assert claims["sid"] == sid
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert "nonce" not in claims


def test_restricted_child_is_absent_at_the_next_sign_in_and_back_after_the_lift(
    client: FlaskClient, services: Services, guardian: Account, clock: FrozenClock
) -> None:
    sign_in(client)
    assert _userinfo_ids(client, _tokens(client)["access_token"]) == ["S-A", "S-B"]
    _restrict(services)

    sign_in(client)
    during = _userinfo_ids(client, _tokens(client)["access_token"])
    services.staff.lift_restriction("G-1", "S-A", "secretary1", "Order set aside on appeal")
    clock.advance(minutes=1)
    sign_in(client)
    after = _userinfo_ids(client, _tokens(client)["access_token"])

    assert during == ["S-B"]
    assert after == ["S-A", "S-B"]


def test_restriction_ends_the_guardians_browser_session(
    client: FlaskClient, services: Services, guardian: Account
) -> None:
    sign_in(client)

    _restrict(services)

    silent = client.get("/authorize?" + urlencode(authorize_params(new_pkce(), prompt="none")))
    assert redirect_query(silent)["error"] == "login_required"


def test_other_guardians_of_the_child_keep_their_tokens(
    client: FlaskClient, services: Services, guardian: Account
) -> None:
    other = make_account(services, "parentuser2", "parent2@example.org")
    other_person = make_person("guardian", sis_person_id="G-2")
    other.person_id = other_person.id
    student = db.session.execute(select(Person).where(Person.sis_person_id == "S-A")).scalar_one()
    relate(other_person, student)
    db.session.commit()
    sign_in(client, "parentuser2")
    tokens = _tokens(client)

    _restrict(services)

    assert _refresh(client, tokens["refresh_token"]).status_code == 200
