"""The sample app's settings, read from the shipped registrations (settings.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.sample_portal.settings import (
    CLIENTS_DIR,
    PortalConfigError,
    PortalSettings,
    from_registration,
)

ENV = {"IDP_CLIENT_SECRET_GRADES": "g" * 32, "IDP_CLIENT_SECRET_ATTENDANCE": "a" * 32}


@pytest.mark.parametrize(
    ("name", "title", "base_url"),
    [
        ("grades", "Grades", "http://127.0.0.1:5001"),
        ("attendance", "Attendance", "http://127.0.0.1:5002"),
    ],
)
def test_each_app_reads_its_registration(name: str, title: str, base_url: str) -> None:
    settings = from_registration(CLIENTS_DIR / f"{name}.toml", ENV, "http://127.0.0.1:5000/", "k")

    assert (settings.title, settings.client_id, settings.content) == (title, name, name)
    assert settings.base_url == base_url
    assert settings.redirect_uri == f"{base_url}/callback"
    assert settings.post_logout_redirect_uri == f"{base_url}/"
    assert settings.metadata_url == "http://127.0.0.1:5000/.well-known/openid-configuration"
    assert settings.scope == "openid profile email students"


def test_a_missing_secret_is_named() -> None:
    with pytest.raises(PortalConfigError, match="IDP_CLIENT_SECRET_GRADES"):
        from_registration(CLIENTS_DIR / "grades.toml", {}, "http://127.0.0.1:5000", "k")


def test_a_redirect_uri_that_is_not_a_callback_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grades.toml"
    text = (CLIENTS_DIR / "grades.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("5001/callback", "5001/back"), encoding="utf-8")

    with pytest.raises(PortalConfigError, match="redirect_uris"):
        from_registration(path, ENV, "http://127.0.0.1:5000", "k")


def test_secrets_stay_out_of_the_repr() -> None:
    settings = PortalSettings("Grades", "grades", "s3cr3t" * 6, "http://i", "http://b", "key" * 11)

    assert "s3cr3t" not in repr(settings)
    assert "keykey" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [("content", "calendar"), ("issuer", "http://i/"), ("base_url", "http://b/")],
)
def test_impossible_settings_are_refused(field: str, value: str) -> None:
    values = {"issuer": "http://i", "base_url": "http://b", "content": "grades", field: value}

    with pytest.raises(PortalConfigError, match=field):
        PortalSettings("Grades", "grades", "s" * 32, secret_key="k" * 32, **values)
