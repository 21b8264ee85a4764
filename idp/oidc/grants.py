"""Authlib grants and extensions, specialised: S256-only PKCE, single-use codes bound to the
SSO session, refresh rotation with reuse detection, ID tokens signed with our keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from sqlalchemy.orm import Session

from idp.accounts.rules import can_receive_tokens
from idp.clock import Clock
from idp.oidc.claims import ClaimsAccount, ClaimsService
from idp.oidc.disclosures import ID_TOKEN, DisclosureLog, claims_of_jwt
from idp.oidc.keys import SigningKeyService
from idp.oidc.models import OidcClient
from idp.oidc.tokens import AccountView, ClaimedRefresh, RedeemedCode, TokenStore, new_secret
from idp.policy import OidcPolicy

# "Activity" (lifecycle) is written at most this often by token refreshes: not one UPDATE each.
ACTIVITY_TOUCH_INTERVAL = timedelta(hours=1)
CONFIDENTIAL_AND_PUBLIC = ["client_secret_basic", "client_secret_post", "none"]


@dataclass(frozen=True)
class OidcDeps:
    """What the grants and endpoints work with."""

    session: Session
    clock: Clock
    policy: OidcPolicy
    issuer: str
    tokens: TokenStore
    keys: SigningKeyService
    claims: ClaimsService
    disclosures: DisclosureLog


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only (RFC 7636 + OAuth 2.0 Security BCP): `plain` and a challenge
    without a method are refused; public clients (or all, per policy) must send one."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}  # noqa: RUF012

    def __init__(self, is_required_for_all: bool) -> None:
        super().__init__(required=True)
        self._is_required_for_all = is_required_for_all

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse a missing, plain or method-less challenge where PKCE applies."""
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        client: OidcClient = grant.request.client
        if challenge and method != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        if not challenge and (client.is_public or self._is_required_for_all):
            raise InvalidRequestError("PKCE is required: send code_challenge with S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _PortalIdToken(OpenIDToken):  # type: ignore[misc]
    """ID token details shared by the code and refresh grants (our keys, clock, claims)."""

    deps: OidcDeps

    def get_client_algorithm(self, client: OidcClient) -> str:
        """The client's registered algorithm, else the policy default."""
        return client.id_token_signed_response_alg or self.deps.policy.signing.default_alg

    def resolve_client_private_key(self, client: OidcClient) -> Any:
        """The active private key for the client's algorithm."""
        return self.deps.keys.signing_key(self.get_client_algorithm(client))

    def get_encode_header(self, client: OidcClient) -> dict[str, str]:
        """Every token carries the kid of the key that signed it."""
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": self.deps.keys.active_kid(alg), "typ": "JWT"}

    def get_client_claims(self, client: OidcClient) -> dict[str, Any]:
        """iss, aud, iat, exp from the injected clock, not from Authlib's wall-clock default."""
        now = int(self.deps.clock.now().timestamp())
        minutes = self.deps.policy.tokens.id_token_minutes
        return {
            "iss": self.deps.issuer,
            "aud": [client.get_client_id()],
            "azp": client.get_client_id(),
            "iat": now,
            "exp": now + minutes * 60,
        }

    def generate_user_info(self, user: ClaimsAccount, scope: str) -> dict[str, Any]:
        """Claims released by the token's scopes."""
        return self.deps.claims.user_info(user, scope)

    def process_token(self, grant: Any, response: Any) -> Any:
        """Authlib adds the ID token; the students it carries are then recorded as disclosed
        to the client (34 CFR 99.32), in the token request's transaction."""
        token = super().process_token(grant, response)
        if "id_token" in token:
            self.deps.disclosures.record(
                claims_of_jwt(token["id_token"]),
                client_id=grant.request.client.get_client_id(),
                account_id=grant.request.user.id,
                answer=ID_TOKEN,
            )
        return token


class PortalOpenIDCode(_PortalIdToken, OpenIDCode):  # type: ignore[misc]
    """OpenIDCode with our keys, clock and claims."""

    def __init__(self, deps: OidcDeps) -> None:
        super().__init__(require_nonce=False)
        self.deps = deps

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """Nonce replay is the relying party's check (OIDC Core 3.1.3.7, step 11): the nonce
        comes back in the ID token. Our codes are single use and bound to the client, the
        redirect_uri and PKCE, so no lookup here (it would scan every code ever issued)."""
        return False

    def get_authorization_code_claims(self, authorization_code: RedeemedCode) -> Any:
        """nonce, auth_time, acr, amr (Authlib) plus sid. The ID token's other claims are those
        of the granted scopes (generate_user_info): a `claims` request never adds one."""
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.sid is not None:  # read by PortalCodeGrant.authenticate_user
            claims["sid"] = authorization_code.sid
        return claims


class RefreshIdToken(_PortalIdToken, OpenIDToken):  # type: ignore[misc]
    """An ID token on refresh, with the same sub, auth_time and sid (OIDC Core 12.2)."""

    def __init__(self, deps: OidcDeps) -> None:
        self.deps = deps

    def get_compatible_claims(self, request: Any) -> Any:
        """auth_time, amr, acr and sid of the original sign-in."""
        claims = super().get_compatible_claims(request)
        old: ClaimedRefresh = request.refresh_token
        if old.auth_time is not None:
            claims["auth_time"] = int(old.auth_time.timestamp())
        if old.amr:
            claims["amr"] = old.amr
        if old.acr:
            claims["acr"] = old.acr
        sid = getattr(request, "sso_sid", None)  # RotatingRefreshGrant.authenticate_user
        if sid is not None:
            claims["sid"] = sid
        return claims


class PortalCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """Codes: 256-bit random, stored as digests, single use (atomic), bound to the request."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AND_PUBLIC

    @property
    def deps(self) -> OidcDeps:
        """The server's dependencies (Authlib builds one grant object per request)."""
        return self.server.deps  # type: ignore[no-any-return]

    def generate_authorization_code(self) -> str:
        """A fresh random code (256 bits)."""
        return new_secret()

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Bind the code to client, redirect_uri, nonce, PKCE, SSO session and auth_time."""
        context = request.sign_in_context
        data = request.payload.data
        self.deps.tokens.save_code(
            code,
            client_id=request.client.get_client_id(),
            account_id=request.user.id,
            sso_session_id=context.sso_session_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            claims_request=context.claims_request,
            auth_time=context.auth_time,
            acr=context.acr,
            amr=list(context.amr),
        )

    def query_authorization_code(self, code: str, client: OidcClient) -> Any:
        """Redeem (single use, atomically); a replay revokes what the code gave."""
        return self.deps.tokens.redeem_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: RedeemedCode) -> None:
        """Nothing to do: redemption already marked the code used."""

    def authenticate_user(self, authorization_code: RedeemedCode) -> AccountView | None:
        """The code's account, if it may still sign in to apps, with its person and the `sid`
        of the code's SSO session, read in the same statement, for the ID token."""
        code = authorization_code
        owner = self.deps.tokens.owner(code.account_id, code.sso_session_id)
        if owner is None or not can_receive_tokens(owner.account.state):
            return None
        code.sid = owner.sid
        return owner.account


class RotatingRefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Refresh tokens rotate on every use; reuse revokes the family (RFC 9700 4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AND_PUBLIC
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def deps(self) -> OidcDeps:
        """The server's dependencies."""
        return self.server.deps  # type: ignore[no-any-return]

    def authenticate_refresh_token(self, refresh_token: str) -> ClaimedRefresh | None:
        """Claim the token (exactly one concurrent request wins).

        The requested scope is checked first: claiming rotates the token, and a request
        refused after that would use it up (and a retry would look like reuse)."""
        client_id = self.request.client.get_client_id()
        requested = scope_to_list(self.request.payload.scope)
        if requested:  # most refreshes send no scope: no extra query for them
            granted = self.deps.tokens.live_refresh_scope(refresh_token, client_id)
            if granted is not None and not set(requested) <= set(granted.split()):
                raise InvalidScopeError()
        return self.deps.tokens.claim_refresh(refresh_token, client_id)

    def authenticate_user(self, refresh_token: ClaimedRefresh) -> AccountView | None:
        """The token's account if still active; a refresh counts as activity. The SSO
        session's `sid` is read in the same statement, for the new ID token."""
        tokens = self.deps.tokens
        owner = None
        if refresh_token.account_id is not None:
            owner = tokens.owner(refresh_token.account_id, refresh_token.sso_session_id)
        if owner is None or not can_receive_tokens(owner.account.state):
            raise InvalidGrantError("The account can no longer sign in.")
        now = self.deps.clock.now()
        last = owner.last_activity_at
        if last is None or now - last >= ACTIVITY_TOUCH_INTERVAL:
            tokens.touch_activity(owner.account.id, now)  # at most once per interval
        self.request.sso_sid = owner.sid
        return owner.account

    def revoke_old_credential(self, refresh_token: ClaimedRefresh) -> None:
        """Nothing to do: claiming already rotated it."""


class PortalClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """District back-ends: confidential clients only, and only their registered scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def validate_token_request(self) -> None:
        """Authlib checks the server's scopes only; a back-end gets no scope it lacks."""
        super().validate_token_request()
        requested = set((self.request.payload.scope or "").split())
        if not requested <= set(self.request.client.scopes):
            raise InvalidScopeError()
