"""What one sample portal app needs, and how the command line reads it from clients/*.toml."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS_DIR = Path(__file__).resolve().parent.parent
TRANSLATIONS_DIR = CLIENTS_DIR.parent / "translations"
# The scopes the portal apps ask for (clients/grades.toml and attendance.toml allow them).
DEFAULT_SCOPE = "openid profile email students"
CALLBACK_PATH = "/callback"
# What the app's own content panel shows next to the child (sample data only).
CONTENT_KINDS = ("grades", "attendance")


class PortalConfigError(Exception):
    """A registration file or a setting the app cannot start with."""


def wall_clock() -> float:
    """Seconds since the epoch. An app of its own, the sample reads the wall clock to know when
    its access token expires and to check logout tokens; tests pass their own `now`."""
    return time.time()  # noqa: TID251 - the relying party's clock, not the provider's


@dataclass(frozen=True)
class PortalSettings:
    """One sample portal app: who it is at the provider and where it runs."""

    title: str
    client_id: str
    client_secret: str = field(repr=False)
    issuer: str
    base_url: str
    secret_key: str = field(repr=False)
    content: str = "grades"
    scope: str = DEFAULT_SCOPE
    now: Callable[[], float] = wall_clock
    translations_dir: Path = TRANSLATIONS_DIR

    def __post_init__(self) -> None:
        if self.content not in CONTENT_KINDS:
            raise PortalConfigError(f"content: {self.content!r} is not one of {CONTENT_KINDS}")
        for name in ("issuer", "base_url"):
            if getattr(self, name).endswith("/"):
                raise PortalConfigError(f"{name}: give it without a trailing slash")

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back after sign-in."""
        return f"{self.base_url}{CALLBACK_PATH}"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where the provider sends the browser after sign-out."""
        return f"{self.base_url}/"

    @property
    def metadata_url(self) -> str:
        """OpenID Connect Discovery 1.0, section 4."""
        return f"{self.issuer}/.well-known/openid-configuration"


def from_registration(
    path: Path, environ: Mapping[str, str], issuer: str, secret_key: str
) -> PortalSettings:
    """Settings from an app's registration file (clients/<app>.toml), so the app asks for
    exactly what the provider was told: client id, name, secret variable, redirect URI."""
    try:
        registration = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PortalConfigError(f"{path.name}: {error}") from None
    secret_env = str(registration.get("secret_env", ""))
    secret = environ.get(secret_env, "") if secret_env else ""
    if not secret:
        raise PortalConfigError(f"{path.name}: set the environment variable {secret_env or '?'}")
    redirect = str((registration.get("redirect_uris") or [""])[0])
    if not redirect.endswith(CALLBACK_PATH):
        raise PortalConfigError(f"{path.name}: redirect_uris.0 must end with {CALLBACK_PATH}")
    return PortalSettings(
        title=str(registration["name"]),
        client_id=str(registration["client_id"]),
        client_secret=secret,
        issuer=issuer.rstrip("/"),
        base_url=redirect.removesuffix(CALLBACK_PATH),
        secret_key=secret_key,
        content=path.stem,
    )
