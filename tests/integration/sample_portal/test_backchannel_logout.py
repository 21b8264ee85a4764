"""Back-channel logout at the sample apps (OIDC Back-Channel Logout 1.0, 2.6): a logout token
signed by the provider ends that browser's session at the app; anything else gets 400 and
changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from joserfc import jwt
from joserfc.jwk import Key, RSAKey
from sqlalchemy import select

from idp.cli import main
from idp.clock import FrozenClock
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.keys import JWKS_CACHE_SECONDS
from idp.oidc.logout import BACKCHANNEL_EVENT
from idp.oidc.models import SsoSession
from idp.services import Services
from tests.integration.oidc.live import Browser
from tests.integration.sample_portal.conftest import sign_in
from tests.integration.sample_portal.support import Apps, Family, RpClock, shown_child

Change = Callable[[dict[str, Any], dict[str, Any]], Key | None]
Craft = Callable[[dict[str, str], Change], str]
ProviderToken = Callable[[str, str | None], str]


def _post(app_url: str, token: str | None) -> requests.Response:
    data = {} if token is None else {"logout_token": token}
    return requests.post(f"{app_url}/backchannel-logout", data=data, timeout=10)


def _is_signed_in(browser: Browser, app_url: str) -> bool:
    return shown_child(browser.go(f"{app_url}/my-kids").text) == "Maya Nguyen"


@pytest.fixture
def identity(apps: Apps, family: Family, browser: Browser) -> dict[str, str]:
    """Sign the browser in at Grades; the iss, sub and sid a logout token would name."""
    sign_in(browser, apps.grades)
    db.session.expire_all()
    query = select(SsoSession.sid).where(SsoSession.account_id == family.account.id)
    sid = str(db.session.execute(query).scalar_one())
    return {"iss": apps.provider, "sub": family.account.sub, "sid": sid}


@pytest.fixture
def provider_token(app: Flask) -> ProviderToken:
    """The provider's own logout token for Grades (what `idp worker` sends)."""
    return lambda sub, sid: str(app.extensions["idp.logout"].logout_token("grades", sub, sid))


@pytest.fixture
def craft(services: Services, clock: FrozenClock) -> Craft:
    """A logout token as the provider makes one, signed with its key, then `change`d."""

    def crafted(identity: dict[str, str], change: Change) -> str:
        now = int(clock.now().timestamp())
        claims: dict[str, Any] = {
            **identity,
            "aud": "grades",
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "events": {BACKCHANNEL_EVENT: {}},
        }
        header = {"alg": "RS256", "kid": services.keys.active_kid("RS256"), "typ": "logout+jwt"}
        key = change(claims, header) or services.keys.signing_key("RS256")
        return jwt.encode(header, claims, key, algorithms=["RS256"])

    return crafted


def _unchanged(claims: dict[str, Any], header: dict[str, Any]) -> None:
    return None


def _forged_key(claims: dict[str, Any], header: dict[str, Any]) -> Key:
    return RSAKey.generate_key(2048, parameters={"kid": header["kid"]})


def _set(**values: Any) -> Change:
    def change(claims: dict[str, Any], header: dict[str, Any]) -> None:
        claims.update(values)

    return change


def _drop(*names: str) -> Change:
    def change(claims: dict[str, Any], header: dict[str, Any]) -> None:
        for name in names:
            claims.pop(name)

    return change


def _typ(claims: dict[str, Any], header: dict[str, Any]) -> None:
    header["typ"] = "JWT"


def _expired(claims: dict[str, Any], header: dict[str, Any]) -> None:
    claims["iat"] -= 600
    claims["exp"] = claims["iat"] + 120


INVALID: dict[str, Change] = {
    "forged-signature": _forged_key,
    "expired": _expired,
    "carries-a-nonce": _set(nonce="n-123"),
    "for-another-app": _set(aud="attendance"),
    "from-another-issuer": _set(iss="https://idp.example"),
    "no-events": _drop("events"),
    "another-event": _set(events={"http://schemas.example/other": {}}),
    "no-sid-nor-sub": _drop("sid", "sub"),
    "no-iat": _drop("iat"),
    "no-exp": _drop("exp"),
    "no-jti": _drop("jti"),
    "typed-as-another-jwt": _typ,
}


def test_a_logout_token_from_the_provider_signs_that_browser_out(
    provider_token: ProviderToken, apps: Apps, identity: dict[str, str], browser: Browser
) -> None:
    answer = _post(apps.grades, provider_token(identity["sub"], identity["sid"]))
    page = browser.go(f"{apps.grades}/my-kids").text

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert "You were signed out. Sign in again to continue." in page


def test_a_token_naming_only_the_account_signs_out_all_its_browsers(
    provider_token: ProviderToken, apps: Apps, identity: dict[str, str], browser: Browser
) -> None:
    other = Browser()
    sign_in(other, apps.grades)

    answer = _post(apps.grades, provider_token(identity["sub"], None))

    assert answer.status_code == 200
    assert not _is_signed_in(browser, apps.grades)
    assert not _is_signed_in(other, apps.grades)
    other.close()


def test_the_crafted_token_unchanged_is_accepted(
    craft: Craft, apps: Apps, identity: dict[str, str], browser: Browser
) -> None:
    answer = _post(apps.grades, craft(identity, _unchanged))

    assert answer.status_code == 200
    assert not _is_signed_in(browser, apps.grades)


@pytest.mark.parametrize("change", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_logout_token_is_refused_and_changes_nothing(
    craft: Craft, apps: Apps, identity: dict[str, str], browser: Browser, change: Change
) -> None:
    answer = _post(apps.grades, craft(identity, change))

    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_request"}
    assert _is_signed_in(browser, apps.grades)


@pytest.mark.parametrize("token", [None, "", "not.a.jwt"], ids=["missing", "empty", "garbage"])
def test_a_request_without_a_readable_token_is_refused(
    apps: Apps, identity: dict[str, str], browser: Browser, token: str | None
) -> None:
    answer = _post(apps.grades, token)

    assert answer.status_code == 400
    assert _is_signed_in(browser, apps.grades)


def test_a_replayed_logout_token_is_refused(
    provider_token: ProviderToken, apps: Apps, identity: dict[str, str]
) -> None:
    token = provider_token(identity["sub"], identity["sid"])
    first = _post(apps.grades, token)

    again = _post(apps.grades, token)

    assert (first.status_code, again.status_code) == (200, 400)


@pytest.fixture
def rotated_keys(services: Services, clock: FrozenClock, rp_clock: RpClock) -> None:
    """A new RS256 key, signing from JWKS_CACHE_SECONDS later; both clocks moved there."""
    services.keys.rotate("RS256")
    db.session.commit()
    clock.advance(seconds=JWKS_CACHE_SECONDS + 1)
    rp_clock.offset_seconds = JWKS_CACHE_SECONDS + 1


def test_a_token_signed_with_a_new_key_is_checked_with_the_refetched_keys(
    provider_token: ProviderToken,
    apps: Apps,
    identity: dict[str, str],
    rotated_keys: None,
    browser: Browser,
) -> None:
    # The app fetched the provider's keys at sign-in (`identity`), before the rotation.
    answer = _post(apps.grades, provider_token(identity["sub"], identity["sid"]))

    assert answer.status_code == 200
    assert not _is_signed_in(browser, apps.grades)


def test_signing_out_of_one_app_signs_the_other_out_through_the_provider(
    app: Flask, apps: Apps, identity: dict[str, str], browser: Browser
) -> None:
    browser.go(f"{apps.attendance}/sign-in")  # single sign-on: no password
    browser.go(f"{apps.attendance}/sign-out")

    result = app.test_cli_runner().invoke(main, ["worker", "--once"])

    db.session.expire_all()
    told = db.session.execute(select(OutboxMessage)).scalars().all()
    assert result.exit_code == 0, result.output
    assert "sent 1," in result.stdout
    # Attendance asked for the logout and ended its own session: only Grades is told.
    assert [(m.context["client_id"], m.context["sid"], m.status) for m in told] == [
        ("grades", identity["sid"], "sent")
    ]
    assert not _is_signed_in(browser, apps.grades)
    assert not _is_signed_in(browser, apps.attendance)
