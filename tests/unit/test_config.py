"""Settings from IDP_* variables."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from idp.config import ConfigError, load_settings

PRODUCTION_OK = {
    "IDP_ENV": "production",
    "IDP_SECRET_KEY": "k" * 48,
    "IDP_ISSUER": "https://id.district.example",
    "IDP_DATABASE_URL": "postgresql+psycopg://idp@db/idp",
    "IDP_KEY_ENCRYPTION_KEY": "x9Qy0U2nJm7zcY3bXb6pG3tqE1C7v8r5H4kLw2sNfZo=",
    "IDP_SMTP_HOST": "smtp.district.example",
}


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("IDP_SECRET_KEY", "IDP_ENV=production needs IDP_SECRET_KEY to be set"),
        ("IDP_ISSUER", "IDP_ENV=production needs IDP_ISSUER to be set"),
        ("IDP_DATABASE_URL", "IDP_ENV=production needs IDP_DATABASE_URL to be set"),
        (
            "IDP_KEY_ENCRYPTION_KEY",
            "IDP_ENV=production needs IDP_KEY_ENCRYPTION_KEY to be set",
        ),
        ("IDP_SMTP_HOST", "IDP_ENV=production needs IDP_SMTP_HOST to be set"),
    ],
)
def test_production_names_the_missing_setting(missing: str, message: str) -> None:
    environ = {key: value for key, value in PRODUCTION_OK.items() if key != missing}

    with pytest.raises(ConfigError) as caught:
        load_settings(environ)

    assert str(caught.value) == message


def test_production_lists_every_missing_setting_on_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"IDP_ENV": "production"})

    assert str(caught.value) == (
        "IDP_ENV=production needs IDP_SECRET_KEY, IDP_ISSUER, IDP_DATABASE_URL,"
        " IDP_KEY_ENCRYPTION_KEY, IDP_SMTP_HOST to be set"
    )


def test_production_refuses_a_plain_http_issuer() -> None:
    with pytest.raises(ConfigError, match="IDP_ISSUER: must be an https:// URL in production"):
        load_settings({**PRODUCTION_OK, "IDP_ISSUER": "http://id.district.example"})


def test_production_with_everything_set_uses_secure_cookies() -> None:
    settings = load_settings(PRODUCTION_OK)

    assert settings.is_production
    assert settings.secure_cookies
    assert settings.database_url == PRODUCTION_OK["IDP_DATABASE_URL"]


def test_development_generates_a_secret_key_once_in_the_instance_folder(tmp_path: Path) -> None:
    environ = {"IDP_INSTANCE_PATH": str(tmp_path)}

    first = load_settings(environ)
    second = load_settings(environ)

    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    assert not first.secure_cookies


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDP_ENV", "staging", "IDP_ENV: must be one of development, test, production"),
        ("IDP_PROXY_HOPS", "two", "IDP_PROXY_HOPS: expected a whole number, got 'two'"),
        ("IDP_SMTP_SECURITY", "tls", "IDP_SMTP_SECURITY: must be one of starttls, ssl, plain"),
        ("IDP_SECRET_KEY", "short", "IDP_SECRET_KEY: must be at least 32 characters"),
        ("IDP_KEY_ENCRYPTION_KEY", "nope", "IDP_KEY_ENCRYPTION_KEY: must be a Fernet key"),
    ],
)
def test_refuses_bad_values_with_one_line(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"IDP_INSTANCE_PATH": str(tmp_path), name: value})

    assert str(caught.value).startswith(message)


def test_rate_limit_storage_defaults_to_redis_when_given(tmp_path: Path) -> None:
    settings = load_settings(
        {"IDP_INSTANCE_PATH": str(tmp_path), "IDP_REDIS_URL": "redis://127.0.0.1:6379/0"}
    )

    assert settings.ratelimit_storage_uri == "redis://127.0.0.1:6379/0"


def test_smtp_port_follows_the_security_mode(tmp_path: Path) -> None:
    settings = load_settings({"IDP_INSTANCE_PATH": str(tmp_path), "IDP_SMTP_SECURITY": "ssl"})

    assert settings.smtp.port == 465


def test_settings_repr_hides_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        {"IDP_INSTANCE_PATH": str(tmp_path), "IDP_SMTP_PASSWORD": "smtp-pass-123"}
    )

    assert settings.secret_key not in repr(settings)
    assert "smtp-pass-123" not in repr(settings)
