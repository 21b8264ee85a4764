"""Logout token validation: OpenID Connect Back-Channel Logout 1.0, section 2.6."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - a JWT media type, not a secret
# Clock difference tolerated between this app and the provider.
LEEWAY_SECONDS = 60


class LogoutTokenError(Exception):
    """The logout token is not valid; the app answers 400 and changes nothing."""


@dataclass(frozen=True)
class LogoutNotice:
    """Who the provider signed out: a session (sid), an account (sub), or both."""

    jti: str
    sid: str | None
    sub: str | None


@dataclass(frozen=True)
class Expected:
    """What a logout token for this app must say."""

    issuer: str
    client_id: str
    algorithms: list[str]
    now: Callable[[], float]


def validate_logout_token(
    token: str, keys: Callable[[bool], KeySet], expected: Expected
) -> LogoutNotice:
    """Check a logout token; `keys(force)` gives the provider's JWKS (refetched on an unknown
    kid, after a key rotation). Raise LogoutTokenError when it is not valid."""
    try:
        claims, header = _decode(token, keys, expected.algorithms)
        _registry(expected).validate(claims)
    except (JoseError, ValueError) as error:
        raise LogoutTokenError(type(error).__name__) from None
    # 2.4: explicit typing is recommended; a token that types itself otherwise is not ours.
    if header.get("typ") not in (None, LOGOUT_TOKEN_TYPE):
        raise LogoutTokenError("typ")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise LogoutTokenError("events")
    if "nonce" in claims:  # 2.4: prohibited, so an ID token cannot pass as a logout token
        raise LogoutTokenError("nonce")
    sid, sub = claims.get("sid"), claims.get("sub")
    if not isinstance(sid, str) and not isinstance(sub, str):
        raise LogoutTokenError("sid_or_sub")
    return LogoutNotice(
        jti=str(claims["jti"]),
        sid=sid if isinstance(sid, str) else None,
        sub=sub if isinstance(sub, str) else None,
    )


def _decode(
    token: str, keys: Callable[[bool], KeySet], algorithms: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        decoded = jwt.decode(token, keys(False), algorithms=algorithms)
    except InvalidKeyIdError:
        decoded = jwt.decode(token, keys(True), algorithms=algorithms)
    return dict(decoded.claims), dict(decoded.header)


def _registry(expected: Expected) -> jwt.JWTClaimsRegistry:
    return jwt.JWTClaimsRegistry(
        now=lambda: int(expected.now()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": expected.issuer},
        aud={"essential": True, "value": expected.client_id},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
        events={"essential": True},
    )
