"""Signing in and out of the sample apps through the real provider: code flow with PKCE,
single sign-on across the two apps, RP-initiated logout, language and error pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from idp.extensions import db
from tests.builders import DEFAULT_PASSWORD
from tests.integration.oidc.live import Browser
from tests.integration.sample_portal.conftest import sign_in
from tests.integration.sample_portal.support import (
    Apps,
    Family,
    child_tabs,
    portal_settings,
    serve_portal,
)
from tests.ports import free_port


def _where(url: str) -> str:
    return urlsplit(url).netloc


def test_home_page_offers_to_sign_in_with_the_district_portal(apps: Apps) -> None:
    page = requests.get(f"{apps.grades}/", timeout=10)

    assert page.status_code == 200
    assert '<a class="button" href="/sign-in">Sign in with the district portal</a>' in page.text
    assert "<h1>Grades</h1>" in page.text


def test_sign_in_asks_for_a_code_with_pkce_and_the_portal_scopes(
    apps: Apps, provider: str, browser: Browser
) -> None:
    browser.go(f"{apps.grades}/sign-in", stop_at=provider)

    location = urlsplit(str(browser.hops[-1].location))
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider}/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == "grades"
    assert query["redirect_uri"] == f"{apps.grades}/callback"
    assert query["scope"] == "openid profile email students"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(query["state"]) >= 20
    assert len(query["nonce"]) >= 20


def test_the_second_app_signs_in_without_a_password(
    apps: Apps, provider: str, family: Family, browser: Browser
) -> None:
    sign_in(browser, apps.grades)

    page = browser.go(f"{apps.attendance}/sign-in").text

    assert [where for _, where, _ in browser.path()] == [
        f"{_where(apps.attendance)}/sign-in",
        f"{_where(provider)}/authorize",
        f"{_where(apps.attendance)}/callback",
        f"{_where(apps.attendance)}/my-kids",
    ]
    assert child_tabs(page) == [("Maya", True), ("Leo", False), ("Ava", False)]


def test_signing_in_again_while_signed_in_goes_straight_to_my_kids(
    apps: Apps, family: Family, browser: Browser
) -> None:
    sign_in(browser, apps.grades)

    browser.go(f"{apps.grades}/sign-in")

    assert browser.path() == [
        ("GET", f"{_where(apps.grades)}/sign-in", 302),
        ("GET", f"{_where(apps.grades)}/my-kids", 200),
    ]


def test_sign_out_ends_the_apps_session_then_the_providers(
    apps: Apps, provider: str, family: Family, browser: Browser
) -> None:
    sign_in(browser, apps.grades)

    page = browser.go(f"{apps.grades}/sign-out").text
    hops = browser.path()
    end_session = browser.hops[1].query
    after = browser.go(f"{apps.grades}/my-kids")
    attendance = browser.go(f"{apps.attendance}/sign-in")

    assert hops == [
        ("GET", f"{_where(apps.grades)}/sign-out", 302),
        ("GET", f"{_where(provider)}/end-session", 302),
        ("GET", f"{_where(apps.grades)}/", 200),
    ]
    assert end_session["id_token_hint"].count(".") == 2
    assert end_session["post_logout_redirect_uri"] == f"{apps.grades}/"
    assert end_session["state"]
    assert "You have signed out." in page
    assert "Sign in with the district portal" in page
    assert "You are signed in" not in after.text  # sent home: the app's session is gone
    assert "Password" in attendance.text  # the provider's session is gone too


def test_a_returning_state_the_app_did_not_send_is_not_a_sign_out(apps: Apps) -> None:
    page = requests.get(f"{apps.grades}/?state=made-up", timeout=10)

    assert page.status_code == 200
    assert "You have signed out." not in page.text


@pytest.mark.parametrize(
    "query",
    ["code=abc&state=not-ours", "error=access_denied&state=not-ours", ""],
    ids=["unknown-state", "error-response", "nothing"],
)
def test_a_callback_that_does_not_check_out_shows_an_error_page(
    apps: Apps, provider: str, query: str
) -> None:
    page = requests.get(f"{apps.grades}/callback?{query}&iss={provider}", timeout=10)

    assert page.status_code == 400
    assert "Signing in did not finish. Start again from the sign-in button." in page.text
    assert "Traceback" not in page.text


def test_a_callback_naming_another_issuer_is_refused(
    apps: Apps, provider: str, family: Family, browser: Browser
) -> None:
    page = browser.go(f"{apps.grades}/sign-in")
    form = {"username": "parentuser1", "password": DEFAULT_PASSWORD}
    browser.submit(page, form, stop_at=apps.grades)
    callback = str(browser.hops[-1].location)
    genuine = f"iss={quote(provider, safe='')}"
    assert genuine in callback

    answer = browser.go(callback.replace(genuine, "iss=https%3A%2F%2Fidp.example"))

    assert answer.status_code == 400  # RFC 9207: a mix-up with another provider
    assert "Signing in did not finish." in answer.text


def test_a_provider_that_does_not_answer_gives_an_error_page_not_a_trace(
    registrations: Path,
) -> None:
    settings = portal_settings(registrations, "grades", f"http://127.0.0.1:{free_port()}")

    with serve_portal(settings) as url:
        page = requests.get(f"{url}/sign-in", timeout=10)

    assert page.status_code == 502
    assert "The district portal is not answering right now." in page.text
    assert "Traceback" not in page.text


def test_an_unknown_page_is_a_plain_not_found_page(apps: Apps) -> None:
    page = requests.get(f"{apps.grades}/no-such-page", timeout=10)

    assert page.status_code == 404
    assert "This page does not exist." in page.text


@pytest.mark.parametrize(
    ("accept_language", "lang", "direction"),
    [("es-MX,es;q=0.9", "es", "ltr"), ("ar", "ar", "rtl"), ("de", "en", "ltr")],
)
def test_signed_out_pages_follow_the_browsers_language(
    apps: Apps, accept_language: str, lang: str, direction: str
) -> None:
    page = requests.get(f"{apps.grades}/", headers={"Accept-Language": accept_language}, timeout=10)

    assert f'<html lang="{lang}" dir="{direction}">' in page.text


def test_signed_in_pages_follow_the_accounts_language(
    apps: Apps, family: Family, browser: Browser
) -> None:
    family.account.locale = "ar"
    db.session.commit()
    browser.http.headers["Accept-Language"] = "en"

    page = sign_in(browser, apps.grades)

    assert '<html lang="ar" dir="rtl">' in page


def test_pages_are_not_cached_and_leak_no_referrer(apps: Apps) -> None:
    page = requests.get(f"{apps.grades}/", timeout=10)

    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
