"""Smoke-test a running provider with a standard OIDC client library (Authlib's requests client).

    make run            # in one terminal (serves http://127.0.0.1:5000 with the demo district)
    .venv/bin/python bench/oidc_smoke.py

Plays browser and relying party ("grades", whose development secret `make run` exports):
discovery -> authorization code + PKCE -> sign-in as a demo guardian -> ID token validation ->
userinfo -> refresh -> introspection -> revocation -> RP-initiated logout. Exits 1 on the
first failure. The redirect to the grades app is read from the Location header, so the app
itself does not need to run.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import sys
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

REDIRECT = "http://127.0.0.1:5001/callback"


def _check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        sys.exit(1)


def _follow_to_callback(browser: requests.Session, url: str, username: str, password: str) -> str:
    """Follow redirects like a browser, signing in when asked; return the callback URL."""
    for _ in range(10):
        if url.startswith(REDIRECT):
            return url
        response = browser.get(url, allow_redirects=False)
        if response.status_code == 200 and 'name="csrf_token"' in response.text:
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.text)
            if token is None:
                raise SystemExit("sign-in page without a CSRF token")
            # To the form's action, as a browser does (/authorize shows the form itself).
            action = re.search(r'<form\b[^>]*\baction="([^"]*)"', response.text)
            url = urljoin(url, html.unescape(action.group(1))) if action else url
            response = browser.post(
                url,
                data={"csrf_token": token.group(1), "username": username, "password": password},
                allow_redirects=False,
            )
        url = urljoin(url, response.headers["Location"])
    raise SystemExit("too many redirects")


def main() -> None:
    """Run the whole journey against --issuer."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--issuer", default="http://127.0.0.1:5000")
    parser.add_argument("--username", default="DemoParent1")
    parser.add_argument("--password", default="Demo-Portal-2026!")
    args = parser.parse_args()
    secret = os.environ.get("IDP_CLIENT_SECRET_GRADES", "dev-only-grades-secret-0123456789abcdef")
    meta: dict[str, Any] = requests.get(
        f"{args.issuer}/.well-known/openid-configuration", timeout=10
    ).json()
    _check(meta["issuer"] == args.issuer, "discovery: issuer matches")
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    rp = OAuth2Session(
        "grades",
        secret,
        scope="openid profile email offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = _follow_to_callback(requests.Session(), url, args.username, args.password)
    query = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    _check(query.get("state") == state and query.get("iss") == args.issuer, "code: state and iss")
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    decoded = jwt.decode(token["id_token"], keys)
    options = {"iss": {"value": args.issuer}, "aud": {"value": "grades"}}
    CodeIDToken(decoded.claims, decoded.header, options, {"nonce": nonce}).validate()
    _check(True, "ID token: signature, iss, aud, nonce, exp")
    info = rp.get(meta["userinfo_endpoint"]).json()
    _check(info["sub"] == decoded.claims["sub"], "userinfo: same sub")
    refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    _check(refreshed["refresh_token"] != token["refresh_token"], "refresh: rotated")
    auth = ("grades", secret)
    active = requests.post(
        meta["introspection_endpoint"],
        data={"token": refreshed["access_token"]},
        auth=auth,
        timeout=10,
    ).json()
    _check(active.get("active") is True, "introspection: active")
    requests.post(
        meta["revocation_endpoint"],
        data={"token": refreshed["refresh_token"]},
        auth=auth,
        timeout=10,
    ).raise_for_status()
    gone = requests.post(
        meta["introspection_endpoint"],
        data={"token": refreshed["access_token"]},
        auth=auth,
        timeout=10,
    ).json()
    _check(gone == {"active": False}, "revocation: token inactive")
    logout = requests.get(
        meta["end_session_endpoint"],
        params={
            "id_token_hint": refreshed["id_token"],
            "state": "bye",
            "post_logout_redirect_uri": "http://127.0.0.1:5001/",
        },
        allow_redirects=False,
        timeout=10,
    )
    _check(logout.headers.get("Location") == "http://127.0.0.1:5001/?state=bye", "logout")


if __name__ == "__main__":
    main()
