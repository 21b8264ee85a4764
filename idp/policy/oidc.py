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
class OidcPolicy:
    """oidc.toml."""

    tokens: TokenPolicy
    sessions: SessionPolicy
    pkce: PkcePolicy
    signing: SigningPolicy
