"""Relying-party registrations: `clients/*.toml` validated and synced into `oidc_client`.

Each file is validated into a frozen `ClientFile` with the same approach as the policy files
(pydantic dataclass, per-field strict types, `rule_broken(...)` for cross-field rules) and the same
`file: key: reason` error lines. The rules that depend on the deployment (environment, known
scopes, the environment variables holding the secrets) reach the validators as the validation
context, so one pass reports every problem of a file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.oidc.errors import ClientConfigError
from idp.oidc.models import OidcClient
from idp.oidc.queries import CLIENT_GENERATION
from idp.policy.loader import _describe
from idp.policy.models import _TABLE, _duplicates, _quoted, rule_broken

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
SigningAlg = Literal["RS256", "ES256"]

# OIDC Core 11: `offline_access` asks for a refresh token; it releases no claims.
OFFLINE_ACCESS = "offline_access"
# Secrets are stored as unsalted SHA-256 (checked on every token request), which is only safe
# for long random secrets: refuse short ones.
MIN_SECRET_LENGTH = 32
_HTTP_ENVIRONMENTS = frozenset({"development", "test"})
# RFC 8252 7.3: native apps receive the code on a loopback redirect over plain http.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


@plain_dataclass(frozen=True)
class ClientRules:
    """What the validation of a client file depends on (passed as the validation context)."""

    env: str
    known_scopes: frozenset[str]
    environ: Mapping[str, str]

    @property
    def is_http_allowed(self) -> bool:
        """Plain-http redirect URIs on any host are accepted in development and tests only."""
        return self.env in _HTTP_ENVIRONMENTS


def _rules(info: ValidationInfo) -> ClientRules:
    if not isinstance(info.context, ClientRules):
        raise TypeError("client files are validated with parse_client_file(data, rules)")
    return info.context


def _check_uri(value: str, info: ValidationInfo) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or any(char.isspace() for char in value):
        raise rule_broken("must be an absolute URI")
    # OAuth 2.0 (RFC 6749 3.1.2) and OIDC Back-Channel Logout 2.2: no fragment component.
    if "#" in value:
        raise rule_broken("must not contain a fragment")
    is_loopback_http = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    is_http_allowed = parts.scheme == "http" and _rules(info).is_http_allowed
    if parts.scheme != "https" and not (is_loopback_http or is_http_allowed):
        raise rule_broken("https required outside development")
    return value


def _check_secret_env(value: str, info: ValidationInfo) -> str:
    # The value is never echoed: someone may have pasted the secret itself here.
    if not _ENV_NAME.fullmatch(value):
        raise rule_broken(
            "must be the NAME of an environment variable (A-Z, 0-9, _), not the secret"
        )
    secret = _rules(info).environ.get(value)
    if secret is None:
        raise rule_broken(f"environment variable {value} is not set")
    if len(secret) < MIN_SECRET_LENGTH:
        raise rule_broken(
            f"environment variable {value} must hold at least {MIN_SECRET_LENGTH} characters"
        )
    return value


def _check_scope(value: str, info: ValidationInfo) -> str:
    known = _rules(info).known_scopes
    if value not in known:
        raise rule_broken(f"unknown scope {value!r} (known: {', '.join(sorted(known))})")
    return value


def _check_unique(values: tuple[str, ...]) -> tuple[str, ...]:
    duplicates = _duplicates(values)
    if duplicates:
        raise rule_broken(f"duplicate {_quoted(duplicates)}")
    return values


ClientId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$"),
]
ClientName = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
EnvName = Annotated[StrictStr, AfterValidator(_check_secret_env)]
Uri = Annotated[StrictStr, Field(max_length=2000), AfterValidator(_check_uri)]
UriList = Annotated[tuple[Uri, ...], AfterValidator(_check_unique)]
Scope = Annotated[StrictStr, AfterValidator(_check_scope)]


@dataclass(frozen=True, kw_only=True, config=_TABLE)
class ClientFile:
    """One `clients/*.toml` file. Fields are validated in this order (later rules read earlier
    fields); a field that failed its own checks is reported already and skipped by the others."""

    client_id: ClientId
    name: ClientName
    first_party: StrictBool = False
    secret_env: EnvName | None = None
    # None: "client_secret_basic" with a secret_env, "none" without (see `auth_method`).
    token_endpoint_auth_method: AuthMethod | None = None
    grant_types: Annotated[tuple[GrantType, ...], Field(min_length=1)] = ("authorization_code",)
    redirect_uris: Annotated[UriList, Field(validate_default=True)] = ()
    post_logout_redirect_uris: UriList = ()
    backchannel_logout_uri: Uri | None = None
    scopes: tuple[Scope, ...]
    id_token_signed_response_alg: SigningAlg | None = None
    access_token_minutes: Annotated[StrictInt, Field(ge=1, le=60)] | None = None

    @field_validator("token_endpoint_auth_method")
    @classmethod
    def _check_method_matches_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or "secret_env" not in info.data:
            return value
        has_secret = info.data["secret_env"] is not None
        if value == "none" and has_secret:
            raise rule_broken("must not be 'none' when {0} is set", "secret_env")
        if value != "none" and not has_secret:
            raise rule_broken(
                f"{value!r} needs {{0}} (the variable holding the secret)", "secret_env"
            )
        return value

    @field_validator("grant_types")
    @classmethod
    def _check_grant_types(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        _check_unique(value)
        # RFC 6749 4.4: only a client that can keep a secret may use client_credentials.
        if "client_credentials" in value and info.data.get("secret_env", "") is None:
            raise rule_broken(
                "client_credentials requires a confidential client (set {0})", "secret_env"
            )
        # RFC 6749 4.4.3: client_credentials gets no refresh token; only the code flow does.
        if "refresh_token" in value and "authorization_code" not in value:
            raise rule_broken("refresh_token requires authorization_code")
        return value

    @field_validator("redirect_uris")
    @classmethod
    def _check_redirect_uris_present(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        if not value and "authorization_code" in info.data.get("grant_types", ()):
            raise rule_broken(
                "must list at least one URI when {0} includes authorization_code", "grant_types"
            )
        return value

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        _check_unique(value)
        # OIDC Core 3.1.2.1: every authentication request carries the openid scope.
        if "openid" not in value and "authorization_code" in info.data.get("grant_types", ()):
            raise rule_broken(
                "must include 'openid' when {0} includes authorization_code", "grant_types"
            )
        return value

    @property
    def auth_method(self) -> AuthMethod:
        """The token endpoint authentication method, with its default filled in."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "client_secret_basic" if self.secret_env is not None else "none"


def parse_client_file(data: Mapping[str, Any], rules: ClientRules) -> ClientFile:
    """Validate one client file's TOML data; raise pydantic's ValidationError if it is wrong."""
    return TypeAdapter(ClientFile).validate_python(dict(data), context=rules)


def hash_client_secret(secret: str) -> str:
    """The SHA-256 hex digest stored for a client secret (never the secret itself)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@plain_dataclass(frozen=True)
class SyncReport:
    """What one `ClientRegistry.sync` did, as sorted client ids."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def is_changed(self) -> bool:
        """True if the sync wrote anything."""
        return bool(self.added or self.updated or self.disabled)

    def as_text(self) -> str:
        """A summary line, then one line per non-empty group."""
        groups = {
            "added": self.added,
            "updated": self.updated,
            "disabled": self.disabled,
            "unchanged": self.unchanged,
        }
        lines = [", ".join(f"{len(ids)} {group}" for group, ids in groups.items())]
        lines += [f"{group}: {', '.join(ids)}" for group, ids in groups.items() if ids]
        return "\n".join(lines)


@plain_dataclass(frozen=True)
class _Registration:
    """A valid client file with its resolved secret digest."""

    file_name: str
    client: ClientFile
    secret_digest: str | None

    def columns(self) -> dict[str, Any]:
        client = self.client
        return {
            "client_id": client.client_id,
            "name": client.name,
            "secret_digest": self.secret_digest,
            "token_endpoint_auth_method": client.auth_method,
            "redirect_uris": list(client.redirect_uris),
            "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
            "backchannel_logout_uri": client.backchannel_logout_uri,
            "grant_types": list(client.grant_types),
            "scopes": list(client.scopes),
            "is_first_party": client.first_party,
            "is_enabled": True,
            "id_token_signed_response_alg": client.id_token_signed_response_alg,
            "access_token_minutes": client.access_token_minutes,
            "source_file": self.file_name,
        }


class ClientRegistry:
    """Syncs `clients/*.toml` into the `oidc_client` table, all files or nothing."""

    def __init__(
        self, session: Session, clock: Clock, known_scopes: frozenset[str], env: str
    ) -> None:
        self._session = session
        self._clock = clock
        self._known_scopes = known_scopes | {OFFLINE_ACCESS}
        self._env = env

    def sync(self, directory: Path, environ: Mapping[str, str]) -> SyncReport:
        """Validate every file, then upsert them and disable clients whose file is gone.

        Raise ClientConfigError (one `file: key: reason` line per problem) and change nothing
        if any file is wrong.
        """
        if not directory.is_dir():
            raise ClientConfigError(f"{directory}: directory not found")
        rules = ClientRules(self._env, self._known_scopes, environ)
        registrations: list[_Registration] = []
        errors: list[str] = []
        for path in sorted(p for p in directory.glob("*.toml") if p.is_file()):
            registration = _load(path, rules, errors)
            if registration is not None:
                registrations.append(registration)
        errors += _duplicate_client_ids(registrations)
        if errors:
            raise ClientConfigError("\n".join(errors))
        return self._apply(registrations)

    def list_clients(self) -> list[OidcClient]:
        """Every registered client (enabled or not), by client_id."""
        query = select(OidcClient).order_by(OidcClient.client_id)
        return list(self._session.execute(query).scalars())

    def _apply(self, registrations: Sequence[_Registration]) -> SyncReport:
        existing = {client.client_id: client for client in self.list_clients()}
        now = self._clock.now()
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        for registration in registrations:
            columns = registration.columns()
            row = existing.get(registration.client.client_id)
            if row is None:
                self._session.add(OidcClient(**columns, synced_at=now))
                added.append(registration.client.client_id)
            elif _assign(row, columns):
                row.synced_at = now
                updated.append(row.client_id)
            else:
                unchanged.append(row.client_id)
        kept = {registration.client.client_id for registration in registrations}
        disabled = [row for key, row in existing.items() if key not in kept and row.is_enabled]
        for row in disabled:
            # Never deleted: codes, tokens and consents reference the client.
            row.is_enabled = False
            row.synced_at = now
        return SyncReport(
            added=_sorted(added),
            updated=_sorted(updated),
            disabled=_sorted(row.client_id for row in disabled),
            unchanged=_sorted(unchanged),
        )


def _load(path: Path, rules: ClientRules, errors: list[str]) -> _Registration | None:
    """Validate one file; append its problems to `errors` and return None if it is wrong."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        errors.append(f"{path.name}: not valid TOML: {error}")
        return None
    except OSError as error:
        errors.append(f"{path.name}: cannot be read: {error.strerror}")
        return None
    try:
        client = parse_client_file(data, rules)
    except ValidationError as error:
        errors += [f"{path.name}: {_describe(detail)}" for detail in error.errors()]
        return None
    secret = None if client.secret_env is None else rules.environ[client.secret_env]
    digest = None if secret is None else hash_client_secret(secret)
    return _Registration(path.name, client, digest)


def _duplicate_client_ids(registrations: Iterable[_Registration]) -> list[str]:
    first_file: dict[str, str] = {}
    errors: list[str] = []
    for registration in registrations:
        client_id = registration.client.client_id
        if client_id in first_file:
            errors.append(
                f"{registration.file_name}: client_id: {client_id!r} is already used by"
                f" {first_file[client_id]}"
            )
        else:
            first_file[client_id] = registration.file_name
    return errors


def _assign(row: OidcClient, columns: Mapping[str, Any]) -> bool:
    """Set the columns that differ; True if any did."""
    changed = False
    for key, value in columns.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _sorted(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(ids))


def client_generation(session: Session) -> int:
    """The number that every change to the registered clients raises (by database trigger, in
    the changing transaction); 0 before the first change."""
    return session.execute(CLIENT_GENERATION).scalar_one_or_none() or 0


def registered_origins(session: Session) -> list[str]:
    """The origins (scheme://host:port) of every enabled client's redirect and post-logout
    URIs: where the provider's pages may send a browser after a form (CSP form-action)."""
    rows = session.execute(
        select(OidcClient.redirect_uris, OidcClient.post_logout_redirect_uris).where(
            OidcClient.is_enabled.is_(True)
        )
    ).all()
    origins = set()
    for row in rows:
        for uri in [*row.redirect_uris, *row.post_logout_redirect_uris]:
            parts = urlsplit(uri)
            if parts.scheme in ("http", "https") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
