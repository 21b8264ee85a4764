"""The `notification_preferences` claim (scope `notifications`) at UserInfo, through HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account, AccountKind
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.services import Services
from tests.builders import make_account, make_person
from tests.conftest import committed
from tests.integration.oidc.conftest import SECRETS, exchange, get_code, new_pkce, sign_in

GRADES_SCOPES = 'scopes = ["openid", "profile", "email", "offline_access", "students"]'


@pytest.fixture
def notifications_client(
    registered_clients: None, services: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    """The shipped registrations, with the grades app also allowed the `notifications` scope."""
    directory = Path(shutil.copytree(PROJECT_ROOT / "clients", tmp_path / "clients"))
    grades = directory / "grades.toml"
    text = grades.read_text(encoding="utf-8")
    assert text.count(GRADES_SCOPES) == 1, "clients/grades.toml changed its scopes line"
    grades.write_text(
        text.replace(GRADES_SCOPES, GRADES_SCOPES[:-1] + ', "notifications"]'), encoding="utf-8"
    )
    known = frozenset(services.claims.supported_scopes())
    with committed():
        ClientRegistry(db.session, clock, known, env="test").sync(directory, SECRETS)


@pytest.fixture
def guardian_with_phone(services: Services, notifications_client: None) -> Account:
    """A guardian (parentuser1) whose school has a phone number on file."""
    account = make_account(services)
    person = make_person("guardian")
    person.phone = "555-0142"
    account.person_id = person.id
    db.session.commit()
    return account


def _userinfo(client: FlaskClient, scope: str) -> dict[str, Any]:
    pkce = new_pkce()
    tokens = exchange(client, get_code(client, pkce, scope=scope), pkce).get_json()
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_claim_reflects_the_preferences_saved_through_the_service(
    client: FlaskClient, services: Services, guardian_with_phone: Account
) -> None:
    services.accounts.update_preferences(guardian_with_phone, "both", ["tests", "grades"], "vi")
    sign_in(client)

    claims = _userinfo(client, "openid notifications")

    assert claims["notification_preferences"] == {
        "channel": "both",
        "topics": ["grades", "tests"],
        "locale": "vi",
    }


def test_new_guardian_has_the_default_preferences(
    client: FlaskClient, guardian_with_phone: Account
) -> None:
    sign_in(client)

    claims = _userinfo(client, "openid notifications")

    assert claims["notification_preferences"] == {
        "channel": "email",
        "topics": ["grades", "attendance", "announcements"],
        "locale": "en",
    }


def test_claim_is_absent_without_the_notifications_scope(
    client: FlaskClient, guardian_with_phone: Account
) -> None:
    sign_in(client)

    claims = _userinfo(client, "openid profile email")

    assert "notification_preferences" not in claims


def test_student_gets_no_notification_preferences(
    client: FlaskClient, services: Services, notifications_client: None
) -> None:
    make_account(services, username="student0001", email=None, kind=AccountKind.STUDENT)
    sign_in(client, "student0001")

    claims = _userinfo(client, "openid notifications")

    assert "notification_preferences" not in claims
    assert "sub" in claims


def test_discovery_lists_the_claim(client: FlaskClient) -> None:
    metadata = client.get("/.well-known/openid-configuration").get_json()

    assert "notification_preferences" in metadata["claims_supported"]
    assert "notifications" in metadata["scopes_supported"]
