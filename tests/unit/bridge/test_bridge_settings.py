"""IDP_BRIDGE_* settings: the mode, the verification URL (https outside development), timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.config import BridgeSettings, ConfigError, load_settings

PRODUCTION_OK = {
    "IDP_ENV": "production",
    "IDP_SECRET_KEY": "k" * 48,
    "IDP_ISSUER": "https://id.district.example",
    "IDP_DATABASE_URL": "postgresql+psycopg://idp@db/idp",
    "IDP_KEY_ENCRYPTION_KEY": "x9Qy0U2nJm7zcY3bXb6pG3tqE1C7v8r5H4kLw2sNfZo=",
    "IDP_SMTP_HOST": "smtp.district.example",
}


def _test_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "IDP_ENV": "test",
        "IDP_SECRET_KEY": "k" * 48,
        "IDP_INSTANCE_PATH": str(tmp_path),
        "IDP_KEY_ENCRYPTION_KEY": PRODUCTION_OK["IDP_KEY_ENCRYPTION_KEY"],
        **values,
    }


def test_imported_hashes_are_the_default(tmp_path: Path) -> None:
    assert load_settings(_test_env(tmp_path)).bridge == BridgeSettings("imported", "", 5.0)


def test_production_takes_an_https_verification_url() -> None:
    environ = {**PRODUCTION_OK, "IDP_BRIDGE_MODE": "http"}
    environ |= {"IDP_BRIDGE_URL": "https://ic.district.example/verify"}
    environ |= {"IDP_BRIDGE_TIMEOUT_SECONDS": "2.5"}

    bridge = load_settings(environ).bridge

    assert bridge == BridgeSettings("http", "https://ic.district.example/verify", 2.5)


def test_production_refuses_a_plain_http_verification_url() -> None:
    environ = {**PRODUCTION_OK, "IDP_BRIDGE_MODE": "http"}
    environ |= {"IDP_BRIDGE_URL": "http://ic.district.example/verify"}

    with pytest.raises(ConfigError) as caught:
        load_settings(environ)

    assert str(caught.value) == "IDP_BRIDGE_URL: must be an https:// URL outside development"


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_may_use_a_local_http_verification_url(tmp_path: Path, env: str) -> None:
    environ = _test_env(tmp_path, IDP_ENV=env, IDP_BRIDGE_MODE="http")
    environ |= {"IDP_BRIDGE_URL": "http://127.0.0.1:8099/verify"}

    assert load_settings(environ).bridge.url == "http://127.0.0.1:8099/verify"


@pytest.mark.parametrize("url", ["", "ftp://ic.example/verify", "https://", "/verify"])
def test_http_mode_needs_a_verification_url(tmp_path: Path, url: str) -> None:
    environ = _test_env(tmp_path, IDP_BRIDGE_MODE="http", IDP_BRIDGE_URL=url)

    with pytest.raises(ConfigError, match="IDP_BRIDGE_URL: IDP_BRIDGE_MODE=http needs"):
        load_settings(environ)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "IDP_BRIDGE_TIMEOUT_SECONDS: expected seconds, got 'soon'"),
        ("0", "IDP_BRIDGE_TIMEOUT_SECONDS: must be more than 0 and at most 60"),
        ("61", "IDP_BRIDGE_TIMEOUT_SECONDS: must be more than 0 and at most 60"),
    ],
)
def test_timeout_must_be_a_sensible_number_of_seconds(
    tmp_path: Path, value: str, message: str
) -> None:
    environ = _test_env(tmp_path, IDP_BRIDGE_TIMEOUT_SECONDS=value)

    with pytest.raises(ConfigError) as caught:
        load_settings(environ)

    assert str(caught.value) == message


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IDP_BRIDGE_MODE: must be one of imported, http"):
        load_settings(_test_env(tmp_path, IDP_BRIDGE_MODE="ldap"))
