"""OIDC endpoints without pages: discovery, JWKS, token, userinfo, revocation, introspection."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from idp.extensions import limiter, without_transaction
from idp.web.deps import oidc, services

bp = Blueprint("oidc_endpoints", __name__)
# Discovery and JWKS change rarely: let clients and proxies cache them (not the token APIs).
_CACHEABLE = "public, max-age=300"


def _json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Cache-Control"] = _CACHEABLE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/openid-configuration")
def discovery() -> Response:
    """OpenID Provider metadata (built once at start-up)."""
    return _json(current_app.extensions["idp.discovery"])


@bp.route("/jwks.json")
def jwks() -> Response:
    """Published public keys (cached by the key service)."""
    return _json(services().keys.jwks())


def _not_cached(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _presented_client_id() -> str:
    """The client id a request authenticates as (HTTP Basic, else the form); "" if none."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return request.form.get("client_id", "")


def _client_and_address() -> str:
    return f"{_presented_client_id()}@{get_remote_address()}"


def _failure_limit() -> str:
    return services().policies.oidc.client_authentication.limit


def _client_authentication_failed(response: Response) -> bool:
    return bool(g.get("client_authentication_failed"))


# oidc.toml [client_authentication]: failed client authentications, per client id and address.
# Only failures count; once over the limit, the pair is refused (429) for the rest of the window.
_limit_failed_client_authentication = limiter.limit(
    _failure_limit,
    key_func=_client_and_address,
    deduct_when=_client_authentication_failed,
    scope="client-authentication",
)


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> Any:
    """A JSON answer (these are APIs), with Retry-After from Flask-Limiter's headers."""
    response = jsonify(
        error="invalid_client",
        error_description="Too many failed client authentications. Try again later.",
    )
    response.status_code = 429
    return _not_cached(response)


@bp.route("/token", methods=["POST"])
@_limit_failed_client_authentication
def token() -> Any:
    """Token endpoint (authorization_code, refresh_token, client_credentials)."""
    if request.form.get("grant_type") == "client_credentials":
        without_transaction()  # its one write is the new token's INSERT
    # Replays and reuse revoke tokens even when the answer is an error: an OAuth error is a
    # response, not an exception, so the request's unit of work commits whatever the answer.
    return _not_cached(oidc().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Any:
    """UserInfo endpoint (bearer access token with scope openid)."""
    without_transaction()
    # Reads, and one INSERT when the answer discloses students (idp/oidc/disclosures.py).
    return _not_cached(oidc().create_endpoint_response("userinfo"))


@bp.route("/revoke", methods=["POST"])
@_limit_failed_client_authentication
def revoke() -> Any:
    """Token revocation (RFC 7009)."""
    return _not_cached(oidc().create_endpoint_response("revocation"))


@bp.route("/introspect", methods=["POST"])
@_limit_failed_client_authentication
def introspect() -> Any:
    """Token introspection (RFC 7662)."""
    without_transaction()
    return _not_cached(oidc().create_endpoint_response("introspection"))  # reads only
