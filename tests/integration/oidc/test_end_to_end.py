"""End to end over real HTTP: the provider served by werkzeug on a loopback port, a relying
party (Grades) served on its registered port 5001, a standard client library (Authlib's
OAuth2Session + joserfc) and a browser (requests) that follows every redirect by hand.

discovery -> code + PKCE -> ID token validation -> userinfo -> refresh -> revocation ->
introspection -> RP-initiated logout (the app that asked is not told again) -> back-channel
logout of a sign-out at the provider, delivered by `idp worker --once`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from idp.accounts.models import Account
from idp.cli import main
from idp.clock import FrozenClock, as_aware
from idp.config import Settings
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from tests.builders import DEFAULT_PASSWORD
from tests.conftest import base_settings
from tests.integration.oidc.conftest import SECRETS
from tests.integration.oidc.live import (
    Browser,
    RelyingParty,
    is_listening,
    new_login,
    serve,
)
from tests.ports import free_port

GRADES_PORT = 5001  # clients/grades.toml registers its URIs on this port
ATTENDANCE_PORT = 5002  # clients/attendance.toml; nothing listens there in these tests
SCOPE = "openid profile email offline_access"


@pytest.fixture
def clock(clock: FrozenClock) -> FrozenClock:
    """Frozen at the real time: the RP checks exp and iat with its own wall clock, as real
    relying parties do, so the provider's frozen time must be close to it."""
    clock.set(datetime.now(UTC))  # noqa: TID251 - a test aligning the frozen clock with the RP's
    return clock


@pytest.fixture
def provider_port() -> int:
    """A free loopback port for the provider."""
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, provider_port: int) -> Settings:
    """Test settings whose issuer is where the provider is served."""
    return replace(
        base_settings(database_url, tmp_path / "instance"),
        issuer=f"http://127.0.0.1:{provider_port}",
    )


@pytest.fixture
def provider(
    app: Flask, registered_clients: None, guardian: Account, provider_port: int
) -> Iterator[str]:
    """The provider (shipped clients synced, keys created, a guardian) on a real server."""
    with serve(app, provider_port) as url:
        yield url


@pytest.fixture
def grades(provider: str) -> Iterator[RelyingParty]:
    """The Grades app on 127.0.0.1:5001, configured by discovery."""
    rp = RelyingParty(
        provider,
        "grades",
        SECRETS["IDP_CLIENT_SECRET_GRADES"],
        f"http://127.0.0.1:{GRADES_PORT}",
        SCOPE,
    )
    rp.discover()
    with serve(rp.app, GRADES_PORT):
        yield rp


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A browser with no cookies."""
    agent = Browser()
    yield agent
    agent.close()


def _sign_in(browser: Browser, start: str, stop_at: str | None = None) -> None:
    """From `start`, through the provider's sign-in page, as parentuser1."""
    page = browser.go(start, stop_at=stop_at)
    assert page.status_code == 200, browser.path()
    form = {"username": "parentuser1", "password": DEFAULT_PASSWORD}
    browser.submit(page, form, stop_at=stop_at)


def _worker_once(app: Flask) -> str:
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()  # the report line (logged warnings go to stderr)


def _backchannel_messages() -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.template == "backchannel_logout")
    return list(db.session.execute(query).scalars())


def test_relying_party_signs_in_refreshes_and_logs_out_over_real_http(
    app: Flask, provider: str, grades: RelyingParty, browser: Browser, guardian: Account
) -> None:
    rp_url = grades.base_url
    host = urlsplit(provider).netloc
    sub = guardian.sub

    # Sign-in: RP /login -> /authorize, which answers with the sign-in form ...
    page = browser.go(f"{rp_url}/login")
    assert browser.path() == [
        ("GET", "127.0.0.1:5001/login", 302),
        ("GET", f"{host}/authorize", 200),
    ]
    authorize = browser.hops[1].query
    assert 'name="password"' in page.text
    assert authorize["code_challenge_method"] == "S256"
    assert {"code_challenge", "nonce", "state"} <= authorize.keys()
    # ... credentials -> RP /callback?code&state&iss -> signed in at the RP. The sign-in
    # finishes the authorization request itself: no second trip through /authorize.
    form = {"username": "parentuser1", "password": DEFAULT_PASSWORD}
    landing = browser.submit(page, form)
    assert browser.path() == [
        ("POST", f"{host}/sign-in", 302),
        ("GET", "127.0.0.1:5001/callback", 200),
    ]
    callback = browser.hops[-1].query
    assert callback["iss"] == provider  # RFC 9207
    assert callback["state"] == authorize["state"]
    assert "code" in callback
    assert landing.text == f"Signed in as {sub}"
    id_claims = grades.id_claims
    assert id_claims["iss"] == provider
    assert id_claims["aud"] == ["grades"]
    assert id_claims["sub"] == sub
    assert id_claims["nonce"] == authorize["nonce"]
    assert id_claims["amr"] == ["pwd"]
    assert id_claims["sid"]
    first = dict(grades.tokens)

    # UserInfo with the access token.
    userinfo = grades.userinfo(grades.tokens)
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == sub

    # Refresh: new tokens; the new ID token keeps sub, sid and auth_time.
    refreshed, refreshed_claims = grades.refresh()
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert refreshed["id_token"] != first["id_token"]
    assert refreshed_claims["sub"] == sub
    assert refreshed_claims["sid"] == id_claims["sid"]
    assert refreshed_claims["auth_time"] == id_claims["auth_time"]
    assert grades.userinfo(refreshed).json()["sub"] == sub

    # Introspection (grades is confidential) of the live refresh token.
    live = grades.introspect(refreshed["refresh_token"], "refresh_token")
    assert live["active"] is True
    assert live["client_id"] == "grades"
    assert live["sub"] == sub
    assert live["iss"] == provider

    # Revocation of the new access token: userinfo refuses it. Then the RP revokes its
    # refresh token too, and introspection reports it inactive.
    revoked = grades.revoke(refreshed["access_token"], "access_token")
    assert revoked.status_code == 200
    assert grades.userinfo(refreshed).status_code == 401
    assert grades.revoke(refreshed["refresh_token"], "refresh_token").status_code == 200
    assert grades.introspect(refreshed["refresh_token"], "refresh_token") == {"active": False}

    # RP-initiated logout -> post-logout URI with state. Grades asked with its ID token of
    # this session and has ended its own: no back-channel logout token is queued for it.
    signed_out = browser.go(grades.end_session_url("xyz"))
    assert browser.path() == [
        ("GET", f"{host}/end-session", 302),
        ("GET", "127.0.0.1:5001/", 200),
    ]
    assert signed_out.text == "Signed out of the app"
    assert grades.signed_out_states == ["xyz"]
    assert _backchannel_messages() == []
    assert _worker_once(app) == "provisioned 0, removed 0, sent 0, retried 0, dead 0"
    assert grades.logout_tokens == []

    # The browser's provider session is gone: a silent request says login_required.
    silent = browser.go(f"{rp_url}/login?prompt=none")
    assert browser.path() == [
        ("GET", "127.0.0.1:5001/login", 302),
        ("GET", f"{host}/authorize", 302),
        ("GET", "127.0.0.1:5001/callback", 401),
    ]
    assert browser.hops[-1].query["iss"] == provider
    assert silent.text == "sign-in failed: login_required"
    assert grades.sign_in_errors == ["login_required"]


def test_app_signed_out_at_the_provider_gets_a_logout_token_it_validates(
    app: Flask, provider: str, grades: RelyingParty, browser: Browser, guardian: Account
) -> None:
    _sign_in(browser, f"{grades.base_url}/login")
    sid = grades.id_claims["sid"]
    browser.submit(browser.go(f"{provider}/"), {})  # "Sign out" on the provider's home page

    output = _worker_once(app)

    (message,) = _backchannel_messages()
    assert output == "provisioned 0, removed 0, sent 1, retried 0, dead 0"
    assert (message.status, message.attempts, message.recipient) == (
        "sent",
        1,
        "http://127.0.0.1:5001/backchannel-logout",
    )
    assert grades.rejected_logout_tokens == []
    (logout_token,) = grades.logout_tokens
    assert logout_token["iss"] == provider
    assert logout_token["aud"] == "grades"
    assert logout_token["sub"] == guardian.sub
    assert logout_token["sid"] == sid


def test_backchannel_to_an_app_that_is_down_stays_pending_and_does_not_block_logout(
    app: Flask, provider: str, grades: RelyingParty, browser: Browser, clock: FrozenClock
) -> None:
    assert not is_listening(ATTENDANCE_PORT), f"something listens on {ATTENDANCE_PORT}"
    down = f"http://127.0.0.1:{ATTENDANCE_PORT}"
    attendance = RelyingParty(
        provider, "attendance", SECRETS["IDP_CLIENT_SECRET_ATTENDANCE"], down, SCOPE
    )
    attendance.discover()
    pending = new_login()
    _sign_in(browser, attendance.authorization_url(pending), stop_at=down)
    attendance.finish_sign_in(str(browser.hops[-1].location), pending)
    browser.go(f"{grades.base_url}/login")  # single sign-on: Grades too, no password

    # Grades asks for the logout; Attendance, down, must be told over the back channel.
    response = browser.go(grades.end_session_url("bye"))
    queued = [(m.context["client_id"], m.status, m.attempts) for m in _backchannel_messages()]
    output = _worker_once(app)

    assert browser.path() == [
        ("GET", f"{urlsplit(provider).netloc}/end-session", 302),
        ("GET", "127.0.0.1:5001/", 200),
    ]
    assert response.text == "Signed out of the app"
    assert grades.signed_out_states == ["bye"]
    # The logout answered without trying to deliver.
    assert queued == [("attendance", "pending", 0)]
    assert output == "provisioned 0, removed 0, sent 0, retried 1, dead 0"
    (message,) = _backchannel_messages()
    assert message.recipient == f"{down}/backchannel-logout"
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "unreachable")
    assert as_aware(message.available_at) == clock.now() + timedelta(seconds=30)


class CallingBackApp(RelyingParty):
    """Grades, whose back-channel handler calls the provider back, as apps do: it revokes its
    refresh token (a write at the provider, over HTTP) and checks, from its own database
    connection, that nothing holds the logout message's row, before it answers."""

    def __init__(self, provider: str, engine: Engine) -> None:
        secret = SECRETS["IDP_CLIENT_SECRET_GRADES"]
        super().__init__(provider, "grades", secret, f"http://127.0.0.1:{GRADES_PORT}", SCOPE)
        self.engine = engine
        self.revocations: list[int] = []
        self.outbox_lockable: list[bool] = []

    def _backchannel(self) -> Any:
        answer = super()._backchannel()
        refresh_token = self.tokens["refresh_token"]
        self.revocations.append(self.revoke(refresh_token, "refresh_token").status_code)
        self.outbox_lockable.append(_outbox_lockable_at_once(self.engine))
        return answer


def _outbox_lockable_at_once(engine: Engine) -> bool:
    """PostgreSQL: whether the outbox rows can be locked without waiting (NOWAIT). SQLite has
    no row locks (the clause is dropped): there the revocation, a write, is the probe."""
    query = select(OutboxMessage.id).with_for_update(nowait=True)
    try:
        with engine.connect() as connection:
            connection.execute(query).all()
            connection.rollback()
    except OperationalError:
        return False
    return True


@pytest.fixture
def calling_back_grades(app: Flask, provider: str) -> Iterator[CallingBackApp]:
    """The calling-back Grades app on 127.0.0.1:5001."""
    rp = CallingBackApp(provider, db.engine)
    rp.discover()
    with serve(rp.app, GRADES_PORT):
        yield rp


def test_backchannel_delivery_holds_no_lock_while_the_app_calls_the_provider_back(
    app: Flask, provider: str, calling_back_grades: CallingBackApp, browser: Browser
) -> None:
    rp = calling_back_grades
    _sign_in(browser, f"{rp.base_url}/login")
    home = browser.go(f"{provider}/")
    browser.submit(home, {})  # sign out at the provider: every app of the session is told
    refresh_token = rp.tokens["refresh_token"]  # offline_access: it outlives the sign-out

    started = time.monotonic()
    output = _worker_once(app)
    elapsed = time.monotonic() - started

    (message,) = _backchannel_messages()
    assert browser.path()[0] == ("POST", f"{urlsplit(provider).netloc}/sign-out", 302)
    assert output == "provisioned 0, removed 0, sent 1, retried 0, dead 0"
    # Issue 21: the worker held SQLite's write lock through the POST, so the app's revocation
    # waited 5 s, the POST timed out and the logout was sent again 30 s later.
    assert elapsed < 1
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, None)
    assert len(rp.logout_tokens) == 1
    assert rp.rejected_logout_tokens == []
    assert rp.revocations == [200]
    assert rp.outbox_lockable == [True]
    assert rp.introspect(refresh_token, "refresh_token") == {"active": False}


def test_introspection_reports_a_rotated_refresh_token_inactive(
    provider: str, grades: RelyingParty, browser: Browser
) -> None:
    _sign_in(browser, f"{grades.base_url}/login")
    assert grades.tokens, browser.path()
    rotated = grades.tokens["refresh_token"]
    grades.refresh()

    answer = grades.introspect(rotated, "refresh_token")

    assert answer == {"active": False}
