"""A client disabled by `idp clients sync` (its file removed): its tokens stop working
everywhere (issue 14: userinfo answered 500, introspection said active)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.services import Services
from tests.conftest import committed
from tests.integration.oidc.conftest import SECRETS, basic_auth, exchange, get_code, new_pkce


def _grades_tokens(client: FlaskClient) -> dict[str, Any]:
    pkce = new_pkce()
    return exchange(client, get_code(client, pkce), pkce).get_json()  # type: ignore[no-any-return]


@pytest.fixture
def disable_grades(services: Services, clock: FrozenClock, tmp_path: Path) -> Any:
    """Sync a copy of clients/ without grades.toml, as district IT would (the app's cached
    client is read again at its next request: test_client_changes_reach_every_process.py)."""

    def disable() -> None:
        folder = tmp_path / "clients"
        shutil.copytree(PROJECT_ROOT / "clients", folder)
        (folder / "grades.toml").unlink()
        known = frozenset(services.claims.supported_scopes())
        with committed():
            ClientRegistry(db.session, clock, known, env="test").sync(folder, SECRETS)
        db.session.commit()

    return disable


def test_userinfo_refuses_a_token_of_a_disabled_client(
    signed_in: FlaskClient, disable_grades: Any
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    disable_grades()

    response = signed_in.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_introspection_says_a_disabled_clients_token_is_inactive(
    signed_in: FlaskClient, disable_grades: Any
) -> None:
    access_token = _grades_tokens(signed_in)["access_token"]
    disable_grades()

    response = signed_in.post(
        "/introspect", data={"token": access_token}, headers=basic_auth("district-reports")
    )

    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_a_disabled_client_cannot_refresh(signed_in: FlaskClient, disable_grades: Any) -> None:
    refresh_token = _grades_tokens(signed_in)["refresh_token"]
    disable_grades()

    response = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
