"""oidc.toml: token, code and SSO-session lifetimes, PKCE and signing rules."""

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from idp.policy.models import _TABLE, StrictPositiveInt, _compared


@dataclass(frozen=True, config=_TABLE)
class TokenPolicy:
    """`[tokens]`: lifetimes of codes, access, ID and refresh tokens."""

    # OIDC/OAuth security BCP: codes live a few seconds; the issue caps them at 60 s.
    authorization_code_seconds: Annotated[StrictInt, Field(ge=5, le=60)]
    access_token_minutes: Annotated[StrictInt, Field(ge=1, le=60)]
    id_token_minutes: Annotated[StrictInt, Field(ge=1, le=60)]
    refresh_idle_days: StrictPositiveInt
    refresh_absolute_days: StrictPositiveInt
    client_credentials_minutes: Annotated[StrictInt, Field(ge=1, le=60)]

    @field_validator("refresh_absolute_days")
    @classmethod
    def _check_absolute_after_idle(cls, value: int, info: ValidationInfo) -> int:
        return _compared(value, info, ">=", "refresh_idle_days")


@dataclass(frozen=True, config=_TABLE)
class SessionPolicy:
    """`[sessions]`: how long one sign-in serves every app."""

    idle_minutes: StrictPositiveInt
    absolute_hours: StrictPositiveInt


@dataclass(frozen=True, config=_TABLE)
class PkcePolicy:
    """`[pkce]`: S256 is always required for public clients; optionally for all."""

    is_required_for_all_clients: StrictBool


@dataclass(frozen=True, config=_TABLE)
class SigningPolicy:
    """`[signing]`: the ID token algorithm used unless a client asks for another."""

    default_alg: Literal["RS256", "ES256"]


@dataclass(frozen=True, config=_TABLE)
class ClientAuthenticationPolicy:
    """`[client_authentication]`: failed client authentications allowed per client id and
    address before that pair is refused for the rest of the window, right secret or not."""

    max_failures_per_minute: StrictPositiveInt
    max_failures_per_hour: StrictPositiveInt

    @property
    def limit(self) -> str:
        """The limit in Flask-Limiter's notation."""
        return f"{self.max_failures_per_minute}/minute;{self.max_failures_per_hour}/hour"


@dataclass(frozen=True, config=_TABLE)
class IntrospectionPolicy:
    """`[introspection]`: which clients may introspect tokens (RFC 7662), and whose."""

    # introspecting client id -> the client ids whose tokens it serves (besides its own)
    resource_servers: dict[str, tuple[str, ...]]

    def may_introspect(self, introspecting_client_id: str, token_client_id: str) -> bool:
        """True if the token's audience includes the introspecting client (listed here)."""
        served = self.resource_servers.get(introspecting_client_id)
        if served is None:
            return False
        return token_client_id == introspecting_client_id or token_client_id in served

    def audience(self, token_client_id: str) -> list[str]:
        """Who a token of this client is for: the client, then the resource servers that
        accept its tokens (the introspection answer's `aud`)."""
        servers = sorted(
            server
            for server, served in self.resource_servers.items()
            if token_client_id in served and server != token_client_id
        )
        return [token_client_id, *servers]


@dataclass(frozen=True, config=_TABLE)
class OidcPolicy:
    """oidc.toml."""

    tokens: TokenPolicy
    sessions: SessionPolicy
    pkce: PkcePolicy
    signing: SigningPolicy
    client_authentication: ClientAuthenticationPolicy
    introspection: IntrospectionPolicy
