"""Settings: a frozen dataclass read from IDP_* environment variables and validated."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "test", "production")
SMTP_SECURITY = ("starttls", "ssl", "plain")
BRIDGE_MODES = ("imported", "http")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line naming the variable."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing mail goes; `host` empty means the development mailbox."""

    host: str = ""
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    security: str = "starttls"
    sender: str = "Portal <no-reply@portal.invalid>"
    timeout_seconds: int = 10


@dataclass(frozen=True)
class BridgeSettings:
    """How legacy Infinite Campus passwords are checked (README "Infinite Campus bridge")."""

    mode: str = "imported"  # `imported`: hashes loaded by `idp bridge import`; `http`: a URL
    url: str = ""  # the district's verification URL (mode `http`); https outside development
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment."""

    env: str = "development"
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    # Fernet key (cryptography) that encrypts signing keys' private parts in the database.
    key_encryption_key: str = field(default="", repr=False)
    issuer: str = "http://127.0.0.1:5000"
    redis_url: str = ""
    ratelimit_storage_uri: str = "memory://"
    proxy_hops: int = 0
    instance_path: Path = PROJECT_ROOT / "instance"
    policy_dir: Path = PROJECT_ROOT / "policies"
    clients_dir: Path = PROJECT_ROOT / "clients"
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    bridge: BridgeSettings = field(default_factory=BridgeSettings)

    @property
    def is_development(self) -> bool:
        """True for the embedded developer setup (dev mailbox, insecure cookies on http)."""
        return self.env == "development"

    @property
    def is_production(self) -> bool:
        """True when running for real users."""
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry `Secure` everywhere but local development and tests over http."""
        return self.env == "production" or self.issuer.startswith("https://")


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}")
    return value


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _smtp_from_env(environ: Mapping[str, str]) -> SmtpSettings:
    security = _choice(environ, "IDP_SMTP_SECURITY", "starttls", SMTP_SECURITY)
    default_port = {"starttls": 587, "ssl": 465, "plain": 25}[security]
    return SmtpSettings(
        host=environ.get("IDP_SMTP_HOST", "").strip(),
        port=_int(environ, "IDP_SMTP_PORT", default_port, minimum=1),
        username=environ.get("IDP_SMTP_USERNAME", ""),
        password=environ.get("IDP_SMTP_PASSWORD", ""),
        security=security,
        sender=environ.get("IDP_SMTP_FROM", "").strip() or SmtpSettings.sender,
        timeout_seconds=_int(environ, "IDP_SMTP_TIMEOUT_SECONDS", 10, minimum=1),
    )


def _bridge_from_env(environ: Mapping[str, str], env: str) -> BridgeSettings:
    mode = _choice(environ, "IDP_BRIDGE_MODE", "imported", BRIDGE_MODES)
    url = environ.get("IDP_BRIDGE_URL", "").strip()
    raw_timeout = environ.get("IDP_BRIDGE_TIMEOUT_SECONDS", "").strip() or "5"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise ConfigError(
            f"IDP_BRIDGE_TIMEOUT_SECONDS: expected seconds, got {raw_timeout!r}"
        ) from None
    if not 0 < timeout <= 60:
        raise ConfigError("IDP_BRIDGE_TIMEOUT_SECONDS: must be more than 0 and at most 60")
    if mode == "http":
        _check_bridge_url(url, env)
    return BridgeSettings(mode=mode, url=url, timeout_seconds=timeout)


def _check_bridge_url(url: str, env: str) -> None:
    """The IC password travels to this URL: TLS everywhere but a developer's own machine."""
    parts = urlsplit(url)
    if not url or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("IDP_BRIDGE_URL: IDP_BRIDGE_MODE=http needs the verification URL")
    if parts.scheme != "https" and env not in ("development", "test"):
        raise ConfigError("IDP_BRIDGE_URL: must be an https:// URL outside development")


def _development_secret(instance_path: Path, name: str, make: Callable[[], str]) -> str:
    """Generate a development secret once and keep it in instance/ (mode 600)."""
    path = instance_path / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _check_fernet_key(value: str) -> None:
    try:
        Fernet(value.encode())
    except ValueError:
        raise ConfigError(
            "IDP_KEY_ENCRYPTION_KEY: must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def _require_production(environ: Mapping[str, str]) -> None:
    # Without an SMTP host mail would go to the development mailbox folder: never in production.
    required = (
        "IDP_SECRET_KEY",
        "IDP_ISSUER",
        "IDP_DATABASE_URL",
        "IDP_KEY_ENCRYPTION_KEY",
        "IDP_SMTP_HOST",
    )
    missing = [name for name in required if not environ.get(name, "").strip()]
    if missing:
        raise ConfigError(f"IDP_ENV=production needs {', '.join(missing)} to be set")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate IDP_* variables; raise ConfigError with a one-line message."""
    environ = os.environ if environ is None else environ
    env = _choice(environ, "IDP_ENV", "development", ENVIRONMENTS)
    if env == "production":
        _require_production(environ)
    instance_path = Path(environ.get("IDP_INSTANCE_PATH", "") or Settings.instance_path)
    database_url = environ.get("IDP_DATABASE_URL", "").strip()
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'idp.sqlite3'}"
    secret_key = environ.get("IDP_SECRET_KEY", "").strip()
    if not secret_key:
        secret_key = _development_secret(
            instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
        )
    key_encryption_key = environ.get("IDP_KEY_ENCRYPTION_KEY", "").strip()
    if not key_encryption_key:
        key_encryption_key = _development_secret(
            instance_path, "key_encryption_key", lambda: Fernet.generate_key().decode()
        )
    _check_fernet_key(key_encryption_key)
    if len(secret_key) < 32:
        raise ConfigError("IDP_SECRET_KEY: must be at least 32 characters")
    issuer = (environ.get("IDP_ISSUER", "").strip() or Settings.issuer).rstrip("/")
    if env == "production" and not issuer.startswith("https://"):
        raise ConfigError("IDP_ISSUER: must be an https:// URL in production")
    redis_url = environ.get("IDP_REDIS_URL", "").strip()
    ratelimit = environ.get("IDP_RATELIMIT_STORAGE_URI", "").strip() or redis_url or "memory://"
    return Settings(
        env=env,
        database_url=database_url,
        secret_key=secret_key,
        key_encryption_key=key_encryption_key,
        issuer=issuer,
        redis_url=redis_url,
        ratelimit_storage_uri=ratelimit,
        proxy_hops=_int(environ, "IDP_PROXY_HOPS", 0),
        instance_path=instance_path,
        policy_dir=Path(environ.get("IDP_POLICY_DIR", "") or Settings.policy_dir),
        clients_dir=Path(environ.get("IDP_CLIENTS_DIR", "") or Settings.clients_dir),
        session_idle_minutes=_int(environ, "IDP_SESSION_IDLE_MINUTES", 60, minimum=1),
        session_max_hours=_int(environ, "IDP_SESSION_MAX_HOURS", 12, minimum=1),
        smtp=_smtp_from_env(environ),
        bridge=_bridge_from_env(environ, env),
    )
