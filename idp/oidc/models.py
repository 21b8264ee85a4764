"""OpenID Connect tables: clients, signing keys, codes, tokens, consents, SSO sessions."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import BigId, JsonDocument, UtcDateTime


class OidcClient(db.Model):  # type: ignore[name-defined,misc]
    """A relying party registered from clients/*.toml; the secret is stored as a digest."""

    __tablename__ = "oidc_client"
    __table_args__ = (
        CheckConstraint(
            "token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post',"
            " 'none', 'private_key_jwt')",
            name="auth_method",
        ),
        CheckConstraint(
            "(token_endpoint_auth_method = 'none') = (secret_digest IS NULL)",
            name="public_clients_have_no_secret",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_digest: Mapped[str | None] = mapped_column(String(64))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    grant_types: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    scopes: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    is_first_party: Mapped[bool] = mapped_column(default=False)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    access_token_minutes: Mapped[int | None] = mapped_column()
    source_file: Mapped[str] = mapped_column(String(255))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Authlib ClientMixin (authlib.oauth2.rfc6749.models), implemented by duck typing.

    @property
    def is_public(self) -> bool:
        """True for a client without a secret (a native or browser app)."""
        # The CHECK constraint ties a missing secret to token_endpoint_auth_method "none".
        return self.secret_digest is None

    @property
    def is_confidential(self) -> bool:
        """True for a client that authenticates with a secret."""
        return not self.is_public

    def get_client_id(self) -> str:
        """The client's registered client_id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """None: OIDC Core 3.1.2.1 requires redirect_uri in every authentication request."""
        return None

    def get_allowed_scope(self, scope: str) -> str:
        """The requested scopes this client may have, in request order, space-joined."""
        allowed = set(self.scopes)
        requested = dict.fromkeys((scope or "").split())
        return " ".join(name for name in requested if name in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """RFC 6749 3.1.2.3 / OIDC Core 3.1.2.1: exact string match with a registered URI."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare SHA-256 digests in constant time; public clients never match."""
        # Imported here: idp.oidc.clients imports this module.
        from idp.oidc.clients import hash_client_secret

        if self.secret_digest is None:
            return False
        digest = hash_client_secret(client_secret)
        return hmac.compare_digest(digest.encode("ascii"), self.secret_digest.encode("ascii"))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Token and revocation endpoints: the registered method (RFC 7009 5: public clients
        revoke with client_id only). Introspection: confidential clients only. Else: no."""
        if endpoint in ("token", "revocation"):
            return method == self.token_endpoint_auth_method
        if endpoint == "introspection":
            return self.is_confidential and method == self.token_endpoint_auth_method
        return False

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization-code flow (no implicit or hybrid response types)."""
        return response_type == "code" and "authorization_code" in self.grant_types

    @property
    def client_metadata(self) -> dict[str, Any]:
        """Registration metadata in OIDC Dynamic Registration names (Authlib reads these)."""
        return {
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "backchannel_logout_uri": self.backchannel_logout_uri,
            "backchannel_logout_session_required": True,
        }

    def check_grant_type(self, grant_type: str) -> bool:
        """True if the client file lists `grant_type`."""
        return grant_type in self.grant_types


class ClientGeneration(db.Model):  # type: ignore[name-defined,misc]
    """One row: a number that every change to `oidc_client` raises, in the changing transaction.

    Database triggers raise it (migration 0010), so no code path can forget to: `idp clients
    sync`, or any other INSERT, UPDATE or DELETE. Each process tags its cached clients with the
    generation they were read at and reads them again when it has moved (oidc/server.py)."""

    __tablename__ = "oidc_client_generation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column()


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    """An asymmetric signing key; the private part is encrypted with the key-encryption key."""

    __tablename__ = "oidc_signing_key"
    __table_args__ = (CheckConstraint("alg IN ('RS256', 'ES256')", name="alg"),)

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Signs new tokens from activated_at until retired_at; published until unpublish_after.
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    unpublish_after: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SsoSession(db.Model):  # type: ignore[name-defined,misc]
    """One sign-in that serves every app; `sid` is what ID and logout tokens carry."""

    __tablename__ = "oidc_sso_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    amr: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SsoSessionClient(db.Model):  # type: ignore[name-defined,misc]
    """A client an SSO session signed into (for back-channel logout)."""

    __tablename__ = "oidc_sso_session_client"
    __table_args__ = (UniqueConstraint("sso_session_id", "client_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sso_session_id: Mapped[int] = mapped_column(
        ForeignKey("oidc_sso_session.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuthorizationCode(db.Model):  # type: ignore[name-defined,misc]
    """A single-use code, stored as a digest, bound to everything the request said."""

    __tablename__ = "oidc_authorization_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    sso_session_id: Mapped[int | None] = mapped_column(ForeignKey("oidc_sso_session.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    claims_request: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    acr: Mapped[str | None] = mapped_column(String(64))
    amr: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OAuthToken(db.Model):  # type: ignore[name-defined,misc]
    """An access token and its refresh token (if any), both stored only as SHA-256 digests.

    Refresh rotation: each use marks this row `rotated_at` and issues a new row in the same
    `family_id`; presenting a rotated refresh token again revokes the whole family.
    """

    __tablename__ = "oidc_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    access_token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    authorization_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_authorization_code.id"), index=True
    )
    sso_session_id: Mapped[int | None] = mapped_column(ForeignKey("oidc_sso_session.id"))
    scope: Mapped[str] = mapped_column(Text)
    grant_type: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amr: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    access_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refresh_idle_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    family_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # Authlib's TokenMixin. Expiry and revocation are checked against the clock by the
    # TokenStore before a row is handed to Authlib, so these report the stored state.
    def check_client(self, client: OidcClient) -> bool:
        """True if the token belongs to this client."""
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        """The token's scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Access token lifetime in seconds."""
        return int((self.access_expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        """Expiry is enforced by the store's clock-aware queries."""
        return False

    def is_revoked(self) -> bool:
        """True once revoked."""
        return self.revoked_at is not None

    def get_user(self) -> Any:
        """The account the token was issued to (None for client_credentials)."""
        from idp.accounts.models import Account

        return db.session.get(Account, self.account_id) if self.account_id else None

    def get_client(self) -> OidcClient | None:
        """The client the token was issued to."""
        return db.session.execute(
            db.select(OidcClient).where(OidcClient.client_id == self.client_id)
        ).scalar_one_or_none()


class Consent(db.Model):  # type: ignore[name-defined,misc]
    """What an account allowed a (third-party) client to receive, per scope set."""

    __tablename__ = "oidc_consent"
    __table_args__ = (UniqueConstraint("account_id", "client_id", "scope_set"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    scope_set: Mapped[str] = mapped_column(String(1000))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
