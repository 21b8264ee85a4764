"""The Authlib authorization server, wired to our stores (the one oidc module using Flask)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Response, g, has_request_context
from sqlalchemy import Row, select

from idp.accounts.models import Account
from idp.accounts.rules import can_receive_tokens
from idp.oidc.clients import client_generation, registered_origins
from idp.oidc.disclosures import USERINFO, claims_of_jwt
from idp.oidc.grants import (
    CONFIDENTIAL_AND_PUBLIC,
    OidcDeps,
    PortalClientCredentialsGrant,
    PortalCodeGrant,
    PortalOpenIDCode,
    RefreshIdToken,
    RotatingRefreshGrant,
    S256CodeChallenge,
)
from idp.oidc.models import OAuthToken, OidcClient
from idp.oidc.tokens import (
    AccessGrant,
    AccountView,
    ClaimedRefresh,
    NewToken,
    digest,
    new_secret,
)

log = logging.getLogger("idp.oidc")

_CLIENT_CACHE_LIMIT = 1000


@dataclass(frozen=True)
class SignInContext:
    """What the authorize view knows about the sign-in behind a code."""

    sso_session_id: int | None
    auth_time: Any
    amr: tuple[str, ...]
    acr: str | None = None
    claims_request: dict[str, Any] | None = None


class _IssuerParameter(IssuerParameter):  # type: ignore[misc]
    """RFC 9207 2: every authorization response, errors included, names its issuer."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class PortalAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's server with our clients, token storage and RFC 9207's `iss` on its redirects."""

    def __init__(self, deps: OidcDeps) -> None:
        super().__init__()
        self.deps = deps
        self.register_token_generator("default", self._generate_token)
        # RFC 9207: Authlib's extension adds `iss` to every response of
        # create_authorization_response (a code or an error), and authorization_error_response.
        self._issuer_parameter = _IssuerParameter(deps.issuer)
        self.register_extension(self._issuer_parameter)
        # Per-process caches, each tagged with the client generation it was read at.
        self._clients: dict[str, tuple[int, OidcClient | None]] = {}
        self._origins: tuple[int, list[str]] | None = None

    def query_client(self, client_id: str) -> OidcClient | None:
        """An enabled client by id, as a detached, read-only snapshot cached per process.

        The cache serves while the stored client generation is the one it was read at, so a
        change (`idp clients sync`) reaches every process at its next request."""
        generation = self._client_generation()
        cached = self._clients.get(client_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        query = select(OidcClient).where(
            OidcClient.client_id == client_id, OidcClient.is_enabled.is_(True)
        )
        client = self.deps.session.execute(query).scalar_one_or_none()
        if client is not None:
            self.deps.session.expunge(client)
        if len(self._clients) > _CLIENT_CACHE_LIMIT:
            self._clients.clear()  # unknown ids must not grow the cache without bound
        self._clients[client_id] = (generation, client)
        return client

    def _client_generation(self) -> int:
        """The stored client generation, read once per request (one row, by primary key).

        Read before any client it tags, so a cached client is never older than its tag: a
        request that overlaps a change at worst caches newer rows under the older number,
        which the next request reads again."""
        if not has_request_context():
            # A command or worker job holds one app context (one `g`) for its whole life.
            return client_generation(self.deps.session)
        generation = g.get("oidc_client_generation")
        if generation is None:
            generation = client_generation(self.deps.session)
            g.oidc_client_generation = generation
        return cast(int, generation)

    def authenticate_client(self, request: Any, methods: Any, endpoint: str = "token") -> Any:
        """Authlib's client authentication; a failure is marked for the per-client-and-address
        limit of failed authentications (web/oidc_endpoints.py, oidc.toml)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError:
            g.client_authentication_failed = True
            _log_failed_client_authentication(request, endpoint)
            raise
        except ValueError:
            # Authlib splits the Authorization header on whitespace without checking that
            # anything follows the scheme ("Basic ", "Bearer <no-break space>"): a 500 found
            # by schemathesis. Unreadable credentials authenticate no client.
            g.client_authentication_failed = True
            _log_failed_client_authentication(request, endpoint)
            raise InvalidClientError(status_code=401) from None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """The browser's request, as Authlib reads it; or one we built ourselves: an
        authorization request finished right after its sign-in (web.authorize)."""
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def client_origins(self) -> list[str]:
        """The enabled clients' origins (`registered_origins`), cached like the clients: every
        page's Content-Security-Policy names them."""
        generation = self._client_generation()
        if self._origins is None or self._origins[0] != generation:
            self._origins = (generation, registered_origins(self.deps.session))
        return self._origins[1]

    def _generate_token(
        self,
        grant_type: str,
        client: OidcClient,
        user: Account | AccountView | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        tokens = self.deps.policy.tokens
        default = (
            tokens.client_credentials_minutes
            if grant_type == "client_credentials"
            else tokens.access_token_minutes
        )
        minutes = client.access_token_minutes or default  # a client file may shorten it
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": new_secret(),
            "expires_in": minutes * 60,
            "scope": scope or "",
        }
        if include_refresh_token and user is not None and _wants_refresh(client, scope):
            token["refresh_token"] = new_secret()
        return token

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store digests of the new tokens, bound to the code or refresh family they came from."""
        self.deps.tokens.save(token, _binding(request, token))

    def authorization_error_response(self, error: Any) -> Response:
        """An authorization error redirect (its redirect_uri was validated), with `iss` added
        as on create_authorization_response (RFC 9207)."""
        response: Response = self.handle_error_response(None, error)
        self._issuer_parameter.add_issuer_parameter(self, response)
        return response


def _log_failed_client_authentication(request: Any, endpoint: str) -> None:
    """ASVS 7.2.1: failed client authentication is logged (the client id presented, at most
    64 characters; never the secret)."""
    try:
        presented, _ = extract_basic_authorization(request.headers)
    except ValueError:
        presented = None
    if not presented and request.payload is not None:
        presented = request.payload.client_id
    log.warning(
        "oidc:client:authentication_failed endpoint=%s client_id=%r request_id=%s",
        endpoint,
        (presented or "")[:64],
        g.get("request_id"),
    )


def _wants_refresh(client: OidcClient, scope: str | None) -> bool:
    """Refresh tokens for offline_access, or always for first-party apps allowed to refresh."""
    scopes = (scope or "").split()
    return client.check_grant_type("refresh_token") and (
        "offline_access" in scopes or client.is_first_party
    )


def _binding(request: Any, token: dict[str, Any]) -> NewToken:
    client: OidcClient = request.client
    user: Account | AccountView | None = request.user  # AccountView on refresh
    code = getattr(request, "authorization_code", None)
    old: ClaimedRefresh | None = getattr(request, "refresh_token", None)
    base = {
        "client_id": client.get_client_id(),
        "account_id": user.id if user else None,
        "scope": token.get("scope", ""),
        "grant_type": request.payload.grant_type,
    }
    if code is not None:
        return NewToken(
            **base,
            authorization_code_id=code.id,
            sso_session_id=code.sso_session_id,
            auth_time=code.auth_time,
            amr=tuple(code.amr),
            acr=code.acr,
        )
    if old is not None:
        return NewToken(
            **base,
            authorization_code_id=old.authorization_code_id,
            sso_session_id=old.sso_session_id,
            auth_time=old.auth_time,
            amr=tuple(old.amr),
            acr=old.acr,
            family_id=old.family_id,
            family_expires_at=old.family_expires_at,
        )
    return NewToken(**base)


class _InsufficientScopeChallengeError(InsufficientScopeError):  # type: ignore[misc]
    """RFC 6750 3: a token that does not enable access gets a WWW-Authenticate challenge,
    also with 403 insufficient_scope (Authlib's error sends none)."""

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = super().get_headers()
        headers.append(("WWW-Authenticate", f'Bearer error="{self.error}", scope="openid"'))
        return headers


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, deps: OidcDeps, server: PortalAuthorizationServer) -> None:
        super().__init__()
        self._deps = deps
        self._server = server

    def authenticate_token(self, token_string: str) -> AccessGrant | None:
        token = self._deps.tokens.find_access(token_string)
        if token is None or token.owner is None or not can_receive_tokens(token.owner.state):
            return None  # no account (client_credentials) or access ended
        token.client = self._server.query_client(token.client_id)
        if token.client is None:
            return None  # the client was disabled (`idp clients sync`): its tokens end with it
        return token

    def validate_token(self, token: AccessGrant | None, scopes: Any, request: Any) -> None:
        try:
            super().validate_token(token, scopes, request)
        except InsufficientScopeError:
            raise _InsufficientScopeChallengeError() from None


class _UserInfo(UserInfoEndpoint):  # type: ignore[misc]
    def __init__(self, deps: OidcDeps, protector: ResourceProtector) -> None:
        super().__init__(resource_protector=protector)
        self._deps = deps

    def __call__(self, request: Any) -> tuple[int, Any, Any]:
        """Authlib's answer; the students it carries are recorded as disclosed to the token's
        client (34 CFR 99.32) before it leaves, in one INSERT (the request's only write). The
        answer is JSON; were a client registered for signed userinfo, it would be a JWT."""
        status, body, headers = super().__call__(request)
        # The AccessGrant super() acquired; the bearer validator refuses a token with no account.
        token = current_token
        self._deps.disclosures.record(
            body if isinstance(body, dict) else claims_of_jwt(body),
            client_id=token.client_id,
            account_id=token.owner.id,
            answer=USERINFO,
        )
        return status, body, headers

    def generate_user_info(self, user: AccountView, scope: str) -> dict[str, Any]:
        # Only the token's granted scopes decide (a `claims` request never widens them).
        return self._deps.claims.user_info(user, scope)

    def get_issuer(self) -> str:
        return self._deps.issuer

    def resolve_private_key(self) -> Any:
        return self._deps.keys.signing_key(self._deps.policy.signing.default_alg)


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AND_PUBLIC

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return self.server.deps.tokens.find_any(token_string)

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        self.server.deps.tokens.revoke(token)


_BEARER = "Bearer"  # token_type of an introspected access token


@dataclass(frozen=True)
class _Introspected:
    """A live token as introspection sees it: its columns (TokenStore.find_for_introspection),
    and which of its values was sent."""

    row: Row[Any]
    is_refresh: bool

    @property
    def client_id(self) -> str:
        """The client the token was issued to."""
        return str(self.row.client_id)

    @property
    def sub(self) -> str | None:
        """The `sub` of the token's account (None for client_credentials)."""
        return cast("str | None", self.row.account_sub)

    def is_expired(self) -> bool:
        """False: `_Introspection.query_token` returns unexpired tokens only."""
        return False

    def is_revoked(self) -> bool:
        """True once revoked."""
        return self.row.revoked_at is not None

    def expires_at(self) -> datetime:
        """When the presented value stops working."""
        row = self.row
        if self.is_refresh and row.refresh_idle_expires_at and row.family_expires_at:
            return cast(datetime, min(row.refresh_idle_expires_at, row.family_expires_at))
        return cast(datetime, row.access_expires_at)


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        # RFC 7662 2.2: only a token that would be accepted now is active. The row's
        # is_expired() leaves expiry to the store, and find_any() checks nothing: check here
        # expiry, refresh rotation, revocation and the account (as the bearer validator does).
        deps: OidcDeps = self.server.deps
        row = deps.tokens.find_for_introspection(token_string)
        if row is None or row.revoked_at is not None:
            return None
        if row.account_id is not None and not can_receive_tokens(row.account_state):
            return None
        if not row.client_is_enabled:
            return None  # a disabled client's tokens are inactive everywhere
        token = _Introspected(row, is_refresh=row.refresh_token_digest == digest(token_string))
        if token.is_refresh and row.rotated_at is not None:
            return None
        return token if token.expires_at() > deps.clock.now() else None

    def check_permission(self, token: _Introspected, client: OidcClient, request: Any) -> bool:
        # oidc.toml [introspection]: only listed clients, and only tokens meant for them.
        policy = self.server.deps.policy.introspection
        return bool(policy.may_introspect(client.client_id, token.client_id))

    def introspect_token(self, token: _Introspected) -> dict[str, Any]:
        deps: OidcDeps = self.server.deps
        row = token.row
        payload: dict[str, Any] = {
            "active": True,
            "client_id": row.client_id,
            "scope": row.scope,
            "iss": deps.issuer,
            "aud": deps.policy.introspection.audience(row.client_id),
            "iat": int(row.issued_at.timestamp()),
            "exp": int(token.expires_at().timestamp()),
        }
        if not token.is_refresh:  # RFC 6749 7.1 types describe access tokens only
            payload["token_type"] = _BEARER
        if token.sub is not None:
            payload["sub"] = token.sub
        return payload


class _EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout; the view ends the session (it owns the browser session)."""

    def __init__(self, deps: OidcDeps) -> None:
        super().__init__()
        self._deps = deps

    def get_server_jwks(self) -> Any:
        return self._deps.keys.public_key_set()

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        # Authlib gives up when aud is a list; ours carry one audience and azp.
        aud = id_token_claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else list(aud or [])
        client_id = id_token_claims.get("azp") or (audiences[0] if len(audiences) == 1 else None)
        return self.server.query_client(client_id) if client_id else None

    def end_session(self, end_session_request: Any) -> None:
        """Nothing here: the view has already ended the SSO session."""


def build_server(deps: OidcDeps) -> PortalAuthorizationServer:
    """The configured authorization server and its endpoints."""
    server = PortalAuthorizationServer(deps)
    server.register_grant(
        PortalCodeGrant,
        [S256CodeChallenge(deps.policy.pkce.is_required_for_all_clients), PortalOpenIDCode(deps)],
    )
    server.register_grant(RotatingRefreshGrant, [RefreshIdToken(deps)])
    server.register_grant(PortalClientCredentialsGrant)
    protector = ResourceProtector()
    protector.register_token_validator(_BearerValidator(deps, server))
    server.register_endpoint(_UserInfo(deps, protector))
    server.register_endpoint(_Revocation)
    server.register_endpoint(_Introspection)
    server.register_endpoint(_EndSession(deps))
    server.protector = protector
    return server
