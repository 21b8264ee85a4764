"""OIDC endpoints without pages: discovery, JWKS, token, userinfo, revocation, introspection."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from idp.extensions import db, without_transaction
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


def _committed(response: Any) -> Any:
    # Replays and reuse revoke tokens even when the answer is an error: always commit.
    db.session.commit()
    return _not_cached(response)


def _not_cached(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/token", methods=["POST"])
def token() -> Any:
    """Token endpoint (authorization_code, refresh_token, client_credentials)."""
    if request.form.get("grant_type") == "client_credentials":
        without_transaction()  # its one write is the new token's INSERT
    return _committed(oidc().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Any:
    """UserInfo endpoint (bearer access token with scope openid)."""
    without_transaction()
    return _not_cached(oidc().create_endpoint_response("userinfo"))  # reads only


@bp.route("/revoke", methods=["POST"])
def revoke() -> Any:
    """Token revocation (RFC 7009)."""
    return _committed(oidc().create_endpoint_response("revocation"))


@bp.route("/introspect", methods=["POST"])
def introspect() -> Any:
    """Token introspection (RFC 7662)."""
    without_transaction()
    return _not_cached(oidc().create_endpoint_response("introspection"))  # reads only
