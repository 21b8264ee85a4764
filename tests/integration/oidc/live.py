"""Live end-to-end wiring: real WSGI servers on loopback ports, a relying party, a "browser".

- `serve(app, port)` runs a WSGI app with werkzeug's threaded server until the block ends.
- `RelyingParty` is a confidential OIDC client written as an app would write it: Authlib's
  `OAuth2Session` (requests) for the protocol and joserfc/Authlib claims for the tokens. It
  remembers what happened (ID token claims, tokens, logout tokens) for the test to assert.
- `Browser` is a `requests.Session` that follows redirects by hand, across both servers, and
  records every hop.
"""

from __future__ import annotations

import errno
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from flask import Flask, Response, jsonify, redirect, request, session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.serving import make_server

from tests.builders import csrf_token, form_action

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTTP_TIMEOUT = 10
# Clock skew the RP tolerates between its wall clock and the provider's (frozen) clock.
LEEWAY_SECONDS = 60


def is_listening(port: int) -> bool:
    """True if something accepts connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _require_free(port: int) -> None:
    # werkzeug's make_server calls sys.exit(1) on a busy port; fail with the reason instead.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            reason = "in use" if error.errno == errno.EADDRINUSE else str(error)
            pytest.fail(
                f"127.0.0.1:{port} is {reason}: the registered client URIs need this port;"
                " stop whatever listens there (another run of this test?) and retry"
            )


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1:port in a thread; yield its base URL; shut it down."""
    _require_free(port)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Hop:
    """One request the browser made and where it was sent next."""

    method: str
    url: str
    status: int
    location: str | None

    @property
    def where(self) -> str:
        """`host:port/path` of the request (no query)."""
        parts = urlsplit(self.url)
        return f"{parts.netloc}{parts.path}"

    @property
    def query(self) -> dict[str, str]:
        """The request's query parameters."""
        return {key: values[0] for key, values in parse_qs(urlsplit(self.url).query).items()}


class Browser:
    """A cookie-keeping HTTP user agent that follows redirects itself, hop by hop."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.hops: list[Hop] = []

    def go(
        self, url: str, data: dict[str, str] | None = None, stop_at: str | None = None
    ) -> requests.Response:
        """Request `url` (POST if data) and follow redirects until a page, or until the next
        URL starts with `stop_at` (not requested). Return the last response."""
        self.hops.clear()
        method = "GET" if data is None else "POST"
        for _ in range(12):
            response = self.http.request(
                method, url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
            location = response.headers.get("Location")
            target = urljoin(url, location) if location else None
            self.hops.append(Hop(method, url, response.status_code, target))
            if response.status_code not in REDIRECT_STATUSES or target is None:
                return response
            if stop_at is not None and target.startswith(stop_at):
                return response
            url, method, data = target, "GET", None
        raise AssertionError(f"redirect loop: {[hop.url for hop in self.hops]}")

    def submit(
        self, page: requests.Response, fields: dict[str, str], stop_at: str | None = None
    ) -> requests.Response:
        """Send the page's form as a browser does: to its action (resolved against the page's
        URL; no action means the page itself), with its CSRF token and `fields`; then `go`."""
        action = form_action(page.text)
        action = urljoin(page.url, action) if action is not None else page.url
        data = {**fields, "csrf_token": csrf_token(page.text)}
        return self.go(action, data=data, stop_at=stop_at)

    def path(self) -> list[tuple[str, str, int]]:
        """The last `go`: (method, host:port/path, status) per hop."""
        return [(hop.method, hop.where, hop.status) for hop in self.hops]

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def new_login() -> dict[str, str]:
    """Fresh state, nonce and PKCE verifier for one sign-in."""
    return {
        "state": generate_token(24),
        "nonce": generate_token(24),
        "verifier": generate_token(64),
    }


class RelyingParty:
    """A confidential OIDC relying party (a portal app), as a Flask app."""

    def __init__(
        self, issuer: str, client_id: str, client_secret: str, base_url: str, scope: str
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.base_url = base_url
        self.scope = scope
        self.metadata: dict[str, Any] = {}
        self.keys = KeySet([])
        self.tokens: dict[str, Any] = {}
        self.id_claims: dict[str, Any] = {}
        self.sign_in_errors: list[str] = []
        self.logout_tokens: list[dict[str, Any]] = []
        self.rejected_logout_tokens: list[str] = []
        self.signed_out_states: list[str | None] = []
        self.app = self._build_app()

    # -- discovery and keys ------------------------------------------------------------------

    def discover(self) -> None:
        """Read the provider's metadata (validated by Authlib) and its JWKS."""
        url = get_well_known_url(self.issuer, external=True)
        metadata = OpenIDProviderMetadata(requests.get(url, timeout=HTTP_TIMEOUT).json())
        metadata.validate()
        if metadata["issuer"] != self.issuer:
            raise ValueError(f"discovery issuer {metadata['issuer']!r} != {self.issuer!r}")
        self.metadata = dict(metadata)
        jwks = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
        self.keys = KeySet.import_key_set(jwks)

    def oauth(self, token: dict[str, Any] | None = None) -> OAuth2Session:
        """The library's client for this app (close it after use)."""
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            redirect_uri=f"{self.base_url}/callback",
            code_challenge_method="S256",
            token=token,
        )

    # -- token validation ---------------------------------------------------------------------

    def validate_id_token(
        self, id_token: str, nonce: str | None = None, access_token: str | None = None
    ) -> dict[str, Any]:
        """Signature against the JWKS, then iss, aud, exp, iat, nonce, azp, at_hash."""
        algorithms = self.metadata["id_token_signing_alg_values_supported"]
        decoded = jwt.decode(id_token, self.keys, algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
            params={"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
        )
        claims.validate(leeway=LEEWAY_SECONDS)
        return dict(claims)

    def validate_logout_token(self, logout_token: str) -> dict[str, Any]:
        """OIDC Back-Channel Logout 1.0, 2.6: signature, iss, aud, iat, jti, events, no nonce."""
        algorithms = self.metadata["id_token_signing_alg_values_supported"]
        decoded = jwt.decode(logout_token, self.keys, algorithms=algorithms)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            iat={"essential": True},
            jti={"essential": True},
            events={"essential": True},
            sid={"essential": True},
        )
        registry.validate(decoded.claims)
        claims = dict(decoded.claims)
        if not isinstance(claims["events"].get(BACKCHANNEL_EVENT), dict):
            raise ValueError("events: no back-channel logout event")
        if "nonce" in claims:
            raise ValueError("nonce: a logout token must not carry one")
        if decoded.header.get("typ") != "logout+jwt":
            raise ValueError(f"typ: {decoded.header.get('typ')!r}")
        return claims

    # -- the app's back end calling the provider (the library) ------------------------------

    def userinfo(self, token: dict[str, Any]) -> requests.Response:
        """GET userinfo with the access token."""
        with self.oauth(token=token) as client:
            return client.get(self.metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)

    def refresh(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Refresh; validate the new ID token; keep the new tokens. Return (token, claims)."""
        with self.oauth(token=self.tokens) as client:
            token = dict(
                client.refresh_token(
                    self.metadata["token_endpoint"], refresh_token=self.tokens["refresh_token"]
                )
            )
        claims = self.validate_id_token(token["id_token"], access_token=token["access_token"])
        self.tokens = token
        return token, claims

    def revoke(self, token: str, hint: str) -> requests.Response:
        """RFC 7009 revocation."""
        with self.oauth() as client:
            return client.revoke_token(
                self.metadata["revocation_endpoint"], token=token, token_type_hint=hint
            )

    def introspect(self, token: str, hint: str) -> dict[str, Any]:
        """RFC 7662 introspection; the JSON answer."""
        with self.oauth() as client:
            response = client.introspect_token(
                self.metadata["introspection_endpoint"], token=token, token_type_hint=hint
            )
        response.raise_for_status()
        return dict(response.json())

    def authorization_url(self, pending: dict[str, str], **extra: str) -> str:
        """The authentication request: code flow, PKCE S256, state and nonce."""
        with self.oauth() as client:
            url, _ = client.create_authorization_url(
                self.metadata["authorization_endpoint"],
                state=pending["state"],
                code_verifier=pending["verifier"],
                nonce=pending["nonce"],
                **extra,
            )
        return str(url)

    def finish_sign_in(self, callback_url: str, pending: dict[str, str]) -> dict[str, Any]:
        """Redeem the code (with the PKCE verifier), validate the ID token, keep both."""
        with self.oauth() as client:
            token = dict(
                client.fetch_token(
                    self.metadata["token_endpoint"],
                    authorization_response=callback_url,
                    state=pending["state"],
                    code_verifier=pending["verifier"],
                )
            )
        claims = self.validate_id_token(
            token["id_token"], nonce=pending["nonce"], access_token=token["access_token"]
        )
        self.tokens, self.id_claims = token, claims
        return claims

    def end_session_url(self, state: str) -> str:
        """RP-initiated logout request (the browser is sent there)."""
        query = urlencode(
            {
                "id_token_hint": self.tokens["id_token"],
                "post_logout_redirect_uri": f"{self.base_url}/",
                "state": state,
            }
        )
        return f"{self.metadata['end_session_endpoint']}?{query}"

    # -- the web app --------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_NAME="rp_session")
        app.add_url_rule("/login", "login", self._login)
        app.add_url_rule("/callback", "callback", self._callback)
        app.add_url_rule("/backchannel-logout", "backchannel", self._backchannel, methods=["POST"])
        app.add_url_rule("/", "home", self._home)
        return app

    def _login(self) -> Any:
        pending = new_login()
        session["pending"] = pending
        extra = {"prompt": request.args["prompt"]} if "prompt" in request.args else {}
        return redirect(self.authorization_url(pending, **extra))

    def _callback(self) -> Any:
        pending = session.pop("pending", None)
        if pending is None or request.args.get("state") != pending["state"]:
            return "state does not match", 400
        if request.args.get("iss") != self.issuer:  # RFC 9207: mix-up defence
            return "iss does not match", 400
        if "error" in request.args:
            self.sign_in_errors.append(request.args["error"])
            return f"sign-in failed: {request.args['error']}", 401
        claims = self.finish_sign_in(request.url, pending)
        session["sub"] = claims["sub"]
        return f"Signed in as {claims['sub']}"

    def _backchannel(self) -> Any:
        try:
            claims = self.validate_logout_token(request.form.get("logout_token", ""))
        except (JoseError, ValueError, KeyError, AttributeError) as error:
            self.rejected_logout_tokens.append(repr(error))
            return jsonify(error="invalid_request"), 400
        self.logout_tokens.append(claims)
        return Response(status=200, headers={"Cache-Control": "no-store"})

    def _home(self) -> Any:
        self.signed_out_states.append(request.args.get("state"))
        return "Signed out of the app"
