"""A relying party written the way docs/connect-an-app.md shows: Node.js with openid-client.

The guide's app (docs/connect-an-app/node/app.mjs, its dependencies installed with `npm ci`
from the committed lock file) runs with the guide's registration
(docs/connect-an-app/clients/node-app.toml), once for RS256 and once for ES256 ID tokens.
Debian's chromium signs in as a demo guardian and reads the claims the app shows (`student_ids`
included), signs out through the app (RP-initiated logout), signs in again and is signed out of
the app by the back-channel logout a restriction sends, then signs in without the restricted child.
The app's back-channel endpoint also answers 400 to each kind of logout token it must refuse.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from joserfc import jwt
from playwright.sync_api import Page, expect

from idp.clock import FrozenClock
from idp.demo import DemoSummary
from idp.demo.data import DEMO_PASSWORD
from idp.extensions import db
from idp.oidc.logout import BACKCHANNEL_EVENT
from idp.services import Services
from tests.browser.relying_parties.support import (
    GUARDIAN,
    GUIDE,
    account,
    backchannel_to,
    guardian,
    missing,
    register,
    registered_name,
    registration,
    restrict,
    wait_until_listening,
    worker_once,
)
from tests.ports import free_port

CLIENT_ID = "node-app"
# The port the guide's registration names (next to `make run`); the test moves it to a free one.
GUIDE_PORT = 8083
NODE_MAJOR = 20  # openid-client 6 needs Node.js 20 or newer
NPM_SECONDS = 300
SIGNED_IN = "Signed in through Portal IdP"
SIGNED_OUT = "You are signed out."
# Written into the guardian's name: the app must show it as text, not as markup.
MARKUP = "O'Brien <b>&amp;</b>"


@dataclass(frozen=True)
class NodeApp:
    """The guide's app, running for one registration of `node-app`."""

    url: str
    output: Path

    def log(self) -> str:
        """What the app printed, for a failure message."""
        return self.output.read_text(encoding="utf-8", errors="replace")


def _require_node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing(f"node or npm missing: install Node.js {NODE_MAJOR} or newer")
    version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < NODE_MAJOR:
        missing(f"node {version} is too old: openid-client needs Node.js {NODE_MAJOR} or newer")


@pytest.fixture(scope="session")
def node_app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of docs/connect-an-app/node with the locked dependencies installed (`npm ci`)."""
    _require_node()
    folder = tmp_path_factory.mktemp("node-app") / "node"
    shutil.copytree(GUIDE / "node", folder, ignore=shutil.ignore_patterns("node_modules"))
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=NPM_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
    return folder


def _register(port: int, alg: str, services: Services, clock: FrozenClock) -> str:
    """Register the guide's client file, moved to `port` and `alg`; return the client secret."""
    text = registration(CLIENT_ID).replace(f"127.0.0.1:{GUIDE_PORT}", f"127.0.0.1:{port}")
    text = text.replace(
        'id_token_signed_response_alg = "RS256"', f'id_token_signed_response_alg = "{alg}"'
    )
    return register(CLIENT_ID, text, "IDP_CLIENT_SECRET_NODE_APP", services, clock)


@pytest.fixture(params=["RS256", "ES256"])
def node_app(
    request: pytest.FixtureRequest,
    node_app_folder: Path,
    server: str,
    services: Services,
    clock: FrozenClock,
) -> Iterator[NodeApp]:
    """`node app.mjs` on a free port, registered with the guide's file."""
    alg = str(request.param)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "PORTAL_IDP_ISSUER": server,
        "PORTAL_APP_URL": url,
        "PORTAL_APP_CLIENT_ID": CLIENT_ID,
        "PORTAL_APP_CLIENT_SECRET": _register(port, alg, services, clock),
        "PORTAL_APP_ID_TOKEN_ALG": alg,
    }
    output = Path(tempfile.mkdtemp(prefix="node-app-log-")) / "output.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            ["node", "app.mjs"],
            cwd=node_app_folder,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    app = NodeApp(url, output)
    try:
        wait_until_listening(process, port, app.log)
        yield app
    finally:
        process.terminate()
        process.wait(timeout=20)
        print(f"node app.mjs output:\n{app.log()}")  # shown by pytest when the test failed
        shutil.rmtree(output.parent, ignore_errors=True)


def _sign_in(page: Page, app: NodeApp) -> None:
    """From the provider's sign-in form, sign in as the demo guardian; land on the app."""
    expect(page.get_by_text(f"Sign in to continue to {registered_name(CLIENT_ID)}")).to_be_visible()
    page.get_by_label("Username").fill(GUARDIAN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#status")).to_have_text(SIGNED_IN)
    assert page.url == f"{app.url}/"


def _restrict_and_deliver(app: Flask, services: Services, student_id: str, node: NodeApp) -> None:
    """Restrict the guardian's relationship with one child, run the outbox worker once; the
    back-channel logout token it sends reaches the app and is accepted (200)."""
    before = {message.id for message in backchannel_to(CLIENT_ID)}
    restrict(services, student_id)
    report = worker_once(app)
    messages = backchannel_to(CLIENT_ID)
    [message] = [message for message in messages if message.id not in before]
    assert message.status == "sent", (report, message.last_error, node.log())
    # An earlier sign-out's token (for a session the app already ended) is accepted too.
    assert {other.status for other in messages} == {"sent"}, (report, node.log())


def test_node_app_signs_in_and_is_signed_out_by_the_app_and_by_the_provider(
    page: Page, app: Flask, server: str, node_app: NodeApp, services: Services, demo: DemoSummary
) -> None:
    guardian().family_name = MARKUP
    db.session.commit()
    claims = services.claims.user_info(account(GUARDIAN), "openid profile students")
    assert MARKUP in claims["name"]
    ids = [student["id"] for student in claims["students"]]
    assert len(ids) == 3, ids

    # Sign-in: code + PKCE; openid-client checks the ID token, the app its at_hash.
    page.goto(f"{node_app.url}/")
    expect(page.locator("#status")).to_have_text(SIGNED_OUT)
    page.get_by_role("link", name="Sign in").click()
    assert page.url.startswith(f"{server}/"), page.url
    _sign_in(page, node_app)
    expect(page.locator("#user")).to_have_text(GUARDIAN)
    expect(page.locator("#name")).to_have_text(claims["name"])  # escaped: MARKUP as text
    expect(page.locator("#sub")).to_have_text(account(GUARDIAN).sub)
    expect(page.locator("#student-ids li")).to_have_text(ids)
    expect(page.locator("#student-ids-note")).to_have_count(0)  # the flat claim, no fallback

    # RP-initiated logout: the app's link, through the provider's end-session endpoint, back to
    # the app signed out; the provider asks for a password again.
    page.get_by_role("link", name="Sign out").click()
    expect(page.locator("#status")).to_have_text(SIGNED_OUT)
    assert page.url == f"{node_app.url}/"
    page.goto(f"{node_app.url}/login")
    assert page.url.startswith(f"{server}/"), page.url
    _sign_in(page, node_app)

    # Back-channel logout: a restriction ends the guardian's access to one child everywhere.
    restricted = ids[0]
    _restrict_and_deliver(app, services, restricted, node_app)
    page.goto(f"{node_app.url}/")
    expect(page.locator("#status")).to_have_text(SIGNED_OUT)

    # Signed in again, the restricted child's id is gone from what the app shows.
    page.get_by_role("link", name="Sign in").click()
    _sign_in(page, node_app)
    remaining = [student_id for student_id in ids if student_id != restricted]
    expect(page.locator("#student-ids li")).to_have_text(remaining)


Claims = dict[str, Any]


def _logout_token(services: Services, alg: str, claims: Claims) -> str:
    """A logout token signed with the provider's active `alg` key."""
    key, kid = services.keys.signing_key_with_kid(alg)
    return jwt.encode({"alg": alg, "kid": kid, "typ": "logout+jwt"}, claims, key, algorithms=[alg])


def _post_logout_token(app: NodeApp, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - the test's own app on 127.0.0.1
        f"{app.url}/backchannel-logout",
        data=urlencode({"logout_token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _without(claims: Claims, *names: str) -> Claims:
    return {name: value for name, value in claims.items() if name not in names}


# Back-Channel Logout 1.0, 2.6: a valid logout token for this app, then each change that must
# make the app refuse it. "none" sends a string that is not a JWT.
LOGOUT_TOKENS = [
    pytest.param("RS256", lambda claims: claims, 200, id="valid"),
    pytest.param("RS256", lambda claims: {**claims, "aud": "grades"}, 400, id="other-audience"),
    pytest.param(
        "RS256", lambda claims: {**claims, "iss": "http://127.0.0.1:9"}, 400, id="other-issuer"
    ),
    pytest.param(
        "RS256",
        lambda claims: {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 3000},
        400,
        id="expired",
    ),
    pytest.param("RS256", lambda claims: {**claims, "nonce": "n-0S6_WzA2Mj"}, 400, id="nonce"),
    pytest.param("RS256", lambda claims: _without(claims, "events"), 400, id="no-events"),
    pytest.param(
        "RS256",
        lambda claims: {**claims, "events": {"http://schemas.openid.net/event/other": {}}},
        400,
        id="other-event",
    ),
    pytest.param("RS256", lambda claims: _without(claims, "sid", "sub"), 400, id="no-sid-or-sub"),
    pytest.param("ES256", lambda claims: claims, 400, id="other-alg"),
    pytest.param("none", lambda claims: claims, 400, id="not-a-jwt"),
]


@pytest.mark.parametrize("node_app", ["RS256"], indirect=True)
@pytest.mark.parametrize(("alg", "change", "expected"), LOGOUT_TOKENS)
def test_node_app_accepts_a_logout_token_and_refuses_each_broken_one(
    node_app: NodeApp,
    server: str,
    services: Services,
    clock: FrozenClock,
    alg: str,
    change: Callable[[Claims], Claims],
    expected: int,
) -> None:
    now = int(clock.now().timestamp())
    claims: Claims = {
        "iss": server,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": "some-sub",
        "sid": "some-sid",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    token = "not-a-jwt" if alg == "none" else _logout_token(services, alg, change(claims))

    status = _post_logout_token(node_app, token)

    assert status == expected, node_app.log()
