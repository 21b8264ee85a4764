"""A relying party districts already run: Apache httpd with Debian's mod_auth_openidc.

Apache serves a protected page with the provider as its OpenID Provider, configured by the very
files docs/connect-an-app.md gives district IT (docs/connect-an-app/apache/portal-app.conf and
docs/connect-an-app/clients/apache-app*.toml), once for an RS256 client and once for an ES256
client. Debian's chromium signs in as a demo guardian, reads the claims the page is given (the
flat `student_ids` included), forces a refresh, signs out from the app (RP-initiated logout),
signs in again and is signed out of the app by the back-channel logout a restriction sends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from idp.clock import FrozenClock
from idp.demo import DemoSummary
from idp.demo.data import DEMO_PASSWORD
from idp.extensions import db
from idp.oidc.models import OAuthToken
from idp.services import Services
from tests.browser.relying_parties.support import (
    GUARDIAN,
    GUIDE,
    account,
    backchannel_to,
    missing,
    register,
    registered_name,
    registration,
    restrict,
    wait_until_listening,
    worker_once,
)
from tests.ports import free_port

HTTPD_CONF = Path(__file__).parent / "apache" / "httpd.conf"
APACHE = os.environ.get("IDP_TEST_APACHE", "/usr/sbin/apache2")
MOD_AUTH_OPENIDC = Path("/usr/lib/apache2/modules/mod_auth_openidc.so")
# The port each of the guide's registrations names (next to `make run`); moved to a free one.
GUIDE_PORTS = {"apache-app": 8081, "apache-app-es256": 8082}
SIGNED_IN = "Signed in through Portal IdP"


@dataclass(frozen=True)
class ApacheApp:
    """One Apache httpd protecting /protected/ for one registered client."""

    url: str
    client_id: str
    name: str  # the registration's `name`, shown on the provider's sign-in page
    error_log: Path

    def log(self) -> str:
        """Apache's error log, for a failure message."""
        if not self.error_log.exists():
            return ""
        return self.error_log.read_text(encoding="utf-8", errors="replace")


def _require_apache() -> None:
    if shutil.which(APACHE) is None or not MOD_AUTH_OPENIDC.exists():
        packages = "apache2 libapache2-mod-auth-openidc"
        missing(f"{APACHE} or {MOD_AUTH_OPENIDC} missing: apt-get install {packages}")


def _document_root() -> Path:
    """A copy of the guide's pages that Apache's workers (www-data) can read: pytest's
    tmp_path is private to root."""
    folder = Path(tempfile.mkdtemp(prefix="apache-rp-"))
    shutil.copytree(GUIDE / "apache" / "htdocs", folder / "htdocs")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


@pytest.fixture(params=["apache-app", "apache-app-es256"], ids=["RS256", "ES256"])
def apache(
    request: pytest.FixtureRequest, server: str, services: Services, clock: FrozenClock
) -> Iterator[ApacheApp]:
    """Apache httpd + mod_auth_openidc on a free port, configured by the guide's files."""
    _require_apache()
    client_id = str(request.param)
    port = free_port()
    text = registration(client_id).replace(
        f"127.0.0.1:{GUIDE_PORTS[client_id]}", f"127.0.0.1:{port}"
    )
    secret_env = "IDP_CLIENT_SECRET_" + client_id.upper().replace("-", "_")
    secret = register(client_id, text, secret_env, services, clock)
    folder = _document_root()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "APACHE_TEST_DIR": str(folder),
        "PORTAL_APP_SITE": str(GUIDE / "apache" / "portal-app.conf"),
        "PORTAL_APP_PORT": str(port),
        "PORTAL_APP_HOST": "127.0.0.1",
        "PORTAL_APP_URL": url,
        "PORTAL_APP_ROOT": str(folder / "htdocs"),
        "PORTAL_IDP_ISSUER": server,
        "PORTAL_APP_CLIENT_ID": client_id,
        "PORTAL_APP_CLIENT_SECRET": secret,
        "PORTAL_APP_ID_TOKEN_ALG": "ES256" if client_id.endswith("es256") else "RS256",
        "PORTAL_APP_CRYPTO_PASSPHRASE": "test-only-apache-crypto-passphrase-0123456789",
    }
    app = ApacheApp(url, client_id, registered_name(client_id), folder / "error.log")
    process = subprocess.Popen([APACHE, "-f", str(HTTPD_CONF), "-DFOREGROUND"], env=environment)
    try:
        wait_until_listening(process, port, app.log)
        yield app
    finally:
        process.terminate()
        process.wait(timeout=20)
        print(f"Apache error log:\n{app.log()}")
        shutil.rmtree(folder, ignore_errors=True)


def _sign_in(page: Page, app: ApacheApp) -> None:
    """Open the protected page, sign in at the provider as the demo guardian."""
    page.goto(f"{app.url}/protected/")
    expect(page.get_by_text(f"Sign in to continue to {app.name}")).to_be_visible()
    page.get_by_label("Username").fill(GUARDIAN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=SIGNED_IN)).to_be_visible()


def _refresh_tokens(client_id: str) -> list[OAuthToken]:
    db.session.expire_all()
    query = select(OAuthToken).where(
        OAuthToken.client_id == client_id, OAuthToken.refresh_token_digest.is_not(None)
    )
    return list(db.session.execute(query).scalars())


def test_apache_signs_in_refreshes_and_is_signed_out_by_the_provider(
    page: Page, app: Flask, apache: ApacheApp, services: Services, demo: DemoSummary
) -> None:
    claims = services.claims.user_info(account(), "openid students")
    ids = [student["id"] for student in claims["students"]]
    assert len(ids) == 3, ids

    # Sign-in: code + PKCE; mod_auth_openidc checks signature, iss, aud, nonce, at_hash.
    _sign_in(page, apache)
    expect(page.locator("#user")).to_have_text(GUARDIAN)
    expect(page.locator("#sub")).to_have_text(account().sub)
    expect(page.locator("#student-ids")).to_have_text(",".join(ids))

    # A forced refresh: the refresh token rotates and the page gets a new access token.
    token = page.locator("#access-token").text_content() or ""
    assert token
    back = quote(f"{apache.url}/protected/", safe="")
    page.goto(f"{apache.url}/protected/redirect_uri?refresh={back}&access_token={token}")
    expect(page.get_by_role("heading", name=SIGNED_IN)).to_be_visible()
    assert page.locator("#access-token").text_content() not in ("", token)
    refresh_tokens = _refresh_tokens(apache.client_id)
    assert len(refresh_tokens) == 2
    assert sum(row.rotated_at is not None for row in refresh_tokens) == 1

    # RP-initiated logout: the app's link, through the provider's end-session endpoint.
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert page.url == f"{apache.url}/signed-out.html"  # the app's page, after the provider's
    # The app ended its own session: it is not told again over the back channel.
    assert backchannel_to(apache.client_id) == []
    page.goto(f"{apache.url}/protected/")
    expect(page.get_by_label("Username")).to_be_visible()  # signed out at the provider too

    # Back-channel logout: a restriction ends the guardian's access to one child everywhere.
    _sign_in(page, apache)
    restricted = ids[0]
    restrict(services, restricted)
    report = worker_once(app)
    [message] = backchannel_to(apache.client_id)
    assert message.status == "sent", (report, message.last_error, apache.log())
    assert message.attempts == 1  # delivered the first time: Apache is not kept waiting
    page.goto(f"{apache.url}/protected/")
    expect(page.get_by_label("Username")).to_be_visible()

    # Signed in again, the restricted child's id is gone from what the page is given.
    _sign_in(page, apache)
    remaining = [student_id for student_id in ids if student_id != restricted]
    expect(page.locator("#student-ids")).to_have_text(",".join(remaining))
