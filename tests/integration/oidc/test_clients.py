"""Relying-party registrations: clients/*.toml synced into oidc_client, Authlib's client checks."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from pydantic import TypeAdapter
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from idp.cli import main
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientFile, ClientRegistry, SyncReport, hash_client_secret
from idp.oidc.errors import ClientConfigError
from idp.oidc.models import OidcClient
from tests.conftest import START, committed

SHIPPED = PROJECT_ROOT / "clients"
SHIPPED_IDS = ("attendance", "district-reports", "grades", "library", "mykids-mobile")
SECRETS = {
    "IDP_CLIENT_SECRET_GRADES": "grades-secret-0123456789abcdefghijklmnop",
    "IDP_CLIENT_SECRET_ATTENDANCE": "attendance-secret-0123456789abcdefghijkl",
    "IDP_CLIENT_SECRET_DISTRICT_REPORTS": "reports-secret-0123456789abcdefghijklmno",
    "IDP_CLIENT_SECRET_LIBRARY": "library-secret-0123456789abcdefghijklmnop",
}
KNOWN = "email, notifications, offline_access, openid, profile, students"
NEW_CLIENT = """
client_id = "lunch"
name = "Lunch Money"
redirect_uris = ["https://lunch.district.example/callback"]
scopes = ["openid", "profile"]
"""


def _table() -> list[dict[str, Any]]:
    """Every oidc_client row as stored, read around the ORM."""
    rows = db.session.execute(text("SELECT * FROM oidc_client ORDER BY client_id")).mappings()
    return [dict(row) for row in rows]


def _client(client_id: str) -> OidcClient:
    query = select(OidcClient).where(OidcClient.client_id == client_id)
    return db.session.execute(query).scalar_one()


def _edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new), encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped clients/ folder that a test may change."""
    copy = tmp_path / "clients"
    copy.mkdir()
    for path in SHIPPED.glob("*.toml"):
        shutil.copy(path, copy / path.name)
    return copy


@pytest.fixture
def registry_in(app: Flask, clock: FrozenClock) -> Callable[[str], ClientRegistry]:
    """Builds the registry as the app would in the environment (IDP_ENV) given."""
    scopes = frozenset(app.extensions["idp.policies"].claims.scopes)
    return lambda env: ClientRegistry(cast(Session, db.session), clock, scopes, env)


@pytest.fixture
def registry(registry_in: Callable[[str], ClientRegistry]) -> ClientRegistry:
    """The registry of the test environment."""
    return registry_in("test")


@pytest.fixture
def synced(registry: ClientRegistry, folder: Path) -> SyncReport:
    """The shipped clients, synced once."""
    with committed():
        return registry.sync(folder, SECRETS)


# Sync


def test_shipped_folder_adds_every_client(synced: SyncReport) -> None:
    rows = _table()

    assert synced == SyncReport(added=SHIPPED_IDS)
    assert [row["client_id"] for row in rows] == list(SHIPPED_IDS)
    assert all(row["is_enabled"] for row in rows)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("client_id", "method", "is_first_party", "grant_types"),
    [
        ("grades", "client_secret_basic", True, ["authorization_code", "refresh_token"]),
        ("attendance", "client_secret_basic", True, ["authorization_code", "refresh_token"]),
        ("mykids-mobile", "none", True, ["authorization_code", "refresh_token"]),
        ("district-reports", "client_secret_basic", True, ["client_credentials"]),
        ("library", "client_secret_post", False, ["authorization_code"]),
    ],
)
def test_shipped_client_is_registered_as_its_file_says(
    client_id: str, method: str, is_first_party: bool, grant_types: list[str]
) -> None:
    client = _client(client_id)

    assert (client.token_endpoint_auth_method, client.is_first_party) == (method, is_first_party)
    assert client.grant_types == grant_types
    assert client.source_file == f"{client_id}.toml"


@pytest.mark.usefixtures("synced")
def test_grades_keeps_every_uri_and_scope_of_its_file() -> None:
    grades = _client("grades")

    assert grades.redirect_uris == ["http://127.0.0.1:5001/callback"]
    assert grades.post_logout_redirect_uris == ["http://127.0.0.1:5001/"]
    assert grades.backchannel_logout_uri == "http://127.0.0.1:5001/backchannel-logout"
    assert grades.scopes == ["openid", "profile", "email", "offline_access", "students"]
    assert grades.synced_at == START


@pytest.mark.usefixtures("synced")
def test_second_sync_without_change_writes_nothing(
    registry: ClientRegistry, folder: Path, clock: FrozenClock
) -> None:
    before = _table()
    clock.advance(hours=1)

    with committed():
        report = registry.sync(folder, SECRETS)

    assert report == SyncReport(unchanged=SHIPPED_IDS)
    assert not report.is_changed
    assert _table() == before


@pytest.mark.usefixtures("synced")
def test_adding_a_file_adds_its_client(
    registry: ClientRegistry, folder: Path, clock: FrozenClock
) -> None:
    (folder / "lunch.toml").write_text(NEW_CLIENT, encoding="utf-8")
    clock.advance(hours=1)

    with committed():
        report = registry.sync(folder, SECRETS)

    assert report == SyncReport(added=("lunch",), unchanged=SHIPPED_IDS)
    lunch = _client("lunch")
    assert (lunch.is_public, lunch.token_endpoint_auth_method) == (True, "none")
    assert lunch.synced_at == clock.now()


@pytest.mark.usefixtures("synced")
def test_removing_a_file_disables_its_client_without_deleting_it(
    registry: ClientRegistry, folder: Path, clock: FrozenClock
) -> None:
    (folder / "library.toml").unlink()
    clock.advance(hours=1)

    with committed():
        report = registry.sync(folder, SECRETS)

    assert report.disabled == ("library",)
    assert report.unchanged == tuple(i for i in SHIPPED_IDS if i != "library")
    library = _client("library")
    assert (library.is_enabled, library.synced_at) == (False, clock.now())


@pytest.mark.usefixtures("synced")
def test_restoring_a_file_enables_its_client_again(
    registry: ClientRegistry, folder: Path, tmp_path: Path
) -> None:
    (folder / "library.toml").rename(tmp_path / "library.toml")
    with committed():
        registry.sync(folder, SECRETS)
    (tmp_path / "library.toml").rename(folder / "library.toml")

    with committed():
        report = registry.sync(folder, SECRETS)

    assert report.updated == ("library",)
    assert _client("library").is_enabled


@pytest.mark.usefixtures("synced")
def test_changed_file_or_secret_updates_only_that_client(
    registry: ClientRegistry, folder: Path, clock: FrozenClock
) -> None:
    _edit(folder / "grades.toml", 'name = "Grades"', 'name = "Gradebook"')
    new_secret = "library-rotated-0123456789abcdefghijklmn"
    clock.advance(hours=1)

    with committed():
        report = registry.sync(folder, {**SECRETS, "IDP_CLIENT_SECRET_LIBRARY": new_secret})

    assert report.updated == ("grades", "library")
    assert (_client("grades").name, _client("grades").synced_at) == ("Gradebook", clock.now())
    assert _client("library").secret_digest == hash_client_secret(new_secret)
    assert _client("attendance").synced_at == START


def test_report_text_lists_each_group() -> None:
    report = SyncReport(added=("a", "b"), disabled=("c",))

    assert report.as_text() == (
        "2 added, 0 updated, 1 disabled, 0 unchanged\nadded: a, b\ndisabled: c"
    )


@pytest.mark.usefixtures("synced")
def test_secret_is_stored_only_as_its_sha256_digest() -> None:
    rows = _table()
    stored = " ".join(str(value) for row in rows for value in row.values())

    assert not any(secret in stored for secret in SECRETS.values())
    grades = next(row for row in rows if row["client_id"] == "grades")
    expected = hashlib.sha256(SECRETS["IDP_CLIENT_SECRET_GRADES"].encode()).hexdigest()
    assert grades["secret_digest"] == expected


# Bad files: the exact message, and nothing changed


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"profile", "email"]',
            '"profile", "email", "grades"]',
            f"library.toml: scopes.3: unknown scope 'grades' (known: {KNOWN})",
        ),
        (
            'token_endpoint_auth_method = "client_secret_basic"',
            'token_endpoint_auth_method = "none"',
            "grades.toml: token_endpoint_auth_method: must not be 'none' when secret_env is set",
        ),
        (
            'client_id = "library"',
            'client_id = "grades"',
            "library.toml: client_id: 'grades' is already used by grades.toml",
        ),
        (
            'token_endpoint_auth_method = "none"',
            'token_endpoint_auth_method = "client_secret_post"',
            "mykids-mobile.toml: token_endpoint_auth_method: 'client_secret_post' needs"
            " secret_env (the variable holding the secret)",
        ),
        (
            'grant_types = ["authorization_code", "refresh_token"]',
            'grant_types = ["client_credentials"]',
            "mykids-mobile.toml: grant_types: client_credentials requires a confidential"
            " client (set secret_env)",
        ),
        (
            'grant_types = ["client_credentials"]',
            'grant_types = ["client_credentials", "refresh_token"]',
            "district-reports.toml: grant_types: refresh_token requires authorization_code",
        ),
        (
            'redirect_uris = ["http://127.0.0.1:5001/callback"]',
            'redirect_uris = ["http://127.0.0.1:5001/callback", "http://127.0.0.1:5001/callback"]',
            "grades.toml: redirect_uris: duplicate 'http://127.0.0.1:5001/callback'",
        ),
        (
            "access_token_minutes = 5",
            "access_token_minutes = 90",
            "district-reports.toml: access_token_minutes: Input should be less than or equal to 60",
        ),
        (
            'redirect_uris = ["http://127.0.0.1:5004/callback"]',
            "",
            "library.toml: redirect_uris: must list at least one URI when grant_types"
            " includes authorization_code",
        ),
        (
            'scopes = ["openid", "profile", "email"]',
            'scopes = ["profile", "email"]',
            "library.toml: scopes: must include 'openid' when grant_types includes"
            " authorization_code",
        ),
        (
            '"http://127.0.0.1:5001/"]',
            '"http://127.0.0.1:5001/#top"]',
            "grades.toml: post_logout_redirect_uris.0: must not contain a fragment",
        ),
        (
            "first_party = true",
            "first_party = true\nlogo = 'grades.png'",
            "grades.toml: logo: unknown key",
        ),
        (
            'secret_env = "IDP_CLIENT_SECRET_GRADES"',
            'secret_env = "s3cr3t-pasted-here"',
            "grades.toml: secret_env: must be the NAME of an environment variable"
            " (A-Z, 0-9, _), not the secret",
        ),
        (
            'name = "Grades"',
            "name = Grades",
            "grades.toml: not valid TOML: Invalid value (at line 10, column 8)",
        ),
    ],
)
def test_bad_file_is_refused_with_its_message_and_nothing_changes(
    registry: ClientRegistry, folder: Path, old: str, new: str, message: str
) -> None:
    before = _table()
    file_name = message.split(":")[0]  # each message starts with the file it is about
    _edit(folder / file_name, old, new)

    with pytest.raises(ClientConfigError) as error, committed():
        registry.sync(folder, SECRETS)

    assert str(error.value) == message
    assert _table() == before


@pytest.mark.usefixtures("synced")
def test_http_redirect_to_a_real_host_is_refused_in_production(
    registry_in: Callable[[str], ClientRegistry], folder: Path
) -> None:
    before = _table()
    _edit(folder / "grades.toml", "http://127.0.0.1:5001/callback", "http://grades.example/cb")

    with pytest.raises(ClientConfigError) as error, committed():
        registry_in("production").sync(folder, SECRETS)

    assert str(error.value) == "grades.toml: redirect_uris.0: https required outside development"
    assert _table() == before


@pytest.mark.parametrize(
    ("env", "uri", "is_accepted"),
    [
        ("production", "https://grades.example/cb", True),
        ("production", "http://127.0.0.1:5001/cb", True),
        ("production", "http://[::1]:5001/cb", True),
        ("production", "http://localhost:5001/cb", True),
        ("production", "http://grades.example/cb", False),
        ("production", "com.district.mykids:/cb", False),
        ("development", "http://grades.example/cb", True),
        ("test", "http://grades.example/cb", True),
    ],
)
def test_redirect_uri_scheme_depends_on_environment_and_host(
    registry_in: Callable[[str], ClientRegistry],
    folder: Path,
    env: str,
    uri: str,
    is_accepted: bool,
) -> None:
    _edit(folder / "grades.toml", "http://127.0.0.1:5001/callback", uri)

    try:
        with committed():
            registry_in(env).sync(folder, SECRETS)
    except ClientConfigError:
        accepted = False
    else:
        accepted = _client("grades").redirect_uris == [uri]

    assert accepted is is_accepted


def test_every_problem_of_every_file_is_reported_and_nothing_is_written(
    registry: ClientRegistry, folder: Path
) -> None:
    _edit(folder / "grades.toml", "offline_access", "offline")
    environ = {k: v for k, v in SECRETS.items() if k != "IDP_CLIENT_SECRET_GRADES"}

    with pytest.raises(ClientConfigError) as error, committed():
        registry.sync(folder, {**environ, "IDP_CLIENT_SECRET_LIBRARY": "short"})

    assert str(error.value).split("\n") == [
        "grades.toml: secret_env: environment variable IDP_CLIENT_SECRET_GRADES is not set",
        f"grades.toml: scopes.3: unknown scope 'offline' (known: {KNOWN})",
        "library.toml: secret_env: environment variable IDP_CLIENT_SECRET_LIBRARY must hold"
        " at least 32 characters",
    ]
    assert _table() == []


def test_client_file_cannot_be_validated_without_the_rules() -> None:
    data = {"client_id": "x", "name": "X", "scopes": ["openid"], "redirect_uris": ["https://x/"]}

    with pytest.raises(TypeError):
        TypeAdapter(ClientFile).validate_python(data)


def test_missing_folder_is_refused(registry: ClientRegistry, tmp_path: Path) -> None:
    with pytest.raises(ClientConfigError) as error, committed():
        registry.sync(tmp_path / "nowhere", SECRETS)

    assert str(error.value) == f"{tmp_path / 'nowhere'}: directory not found"


# Authlib ClientMixin


@pytest.mark.usefixtures("synced")
def test_client_identity_and_kind() -> None:
    grades, mykids = _client("grades"), _client("mykids-mobile")

    assert (grades.get_client_id(), grades.get_default_redirect_uri()) == ("grades", None)
    assert (grades.is_confidential, grades.is_public) == (True, False)
    assert (mykids.is_confidential, mykids.is_public) == (False, True)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("http://127.0.0.1:5001/callback", True),
        ("http://127.0.0.1:5001/callback/", False),
        ("http://127.0.0.1:5001/callback?next=/", False),
        ("http://127.0.0.1:5001/Callback", False),
        ("http://localhost:5001/callback", False),
        ("http://127.0.0.1:5001/", False),
    ],
)
def test_redirect_uri_must_match_exactly(uri: str, expected: bool) -> None:
    assert _client("grades").check_redirect_uri(uri) is expected


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("requested", "allowed"),
    [
        ("openid profile email", "openid profile email"),
        ("email students openid offline_access", "email openid"),
        ("email openid email", "email openid"),
        ("students", ""),
        ("", ""),
    ],
)
def test_allowed_scope_is_the_intersection_in_request_order(requested: str, allowed: str) -> None:
    assert _client("library").get_allowed_scope(requested) == allowed


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("client_id", "secret", "expected"),
    [
        ("grades", SECRETS["IDP_CLIENT_SECRET_GRADES"], True),
        ("grades", SECRETS["IDP_CLIENT_SECRET_ATTENDANCE"], False),
        ("grades", "", False),
        ("mykids-mobile", "", False),
        ("mykids-mobile", SECRETS["IDP_CLIENT_SECRET_GRADES"], False),
    ],
)
def test_client_secret_check(client_id: str, secret: str, expected: bool) -> None:
    assert _client(client_id).check_client_secret(secret) is expected


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("client_id", "method", "endpoint", "expected"),
    [
        ("grades", "client_secret_basic", "token", True),
        ("grades", "client_secret_post", "token", False),
        ("grades", "none", "token", False),
        ("library", "client_secret_post", "token", True),
        ("library", "client_secret_basic", "token", False),
        ("mykids-mobile", "none", "token", True),
        ("mykids-mobile", "client_secret_basic", "token", False),
        ("grades", "client_secret_basic", "revocation", True),
        ("grades", "client_secret_basic", "introspection", True),
        ("library", "client_secret_basic", "introspection", False),
        ("mykids-mobile", "none", "revocation", True),
        ("mykids-mobile", "none", "introspection", False),
        ("grades", "client_secret_basic", "device_authorization", False),
    ],
)
def test_endpoint_auth_method(client_id: str, method: str, endpoint: str, expected: bool) -> None:
    assert _client(client_id).check_endpoint_auth_method(method, endpoint) is expected


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("client_id", "response_type", "expected"),
    [
        ("grades", "code", True),
        ("grades", "token", False),
        ("grades", "code id_token", False),
        ("district-reports", "code", False),
    ],
)
def test_only_the_code_response_type(client_id: str, response_type: str, expected: bool) -> None:
    assert _client(client_id).check_response_type(response_type) is expected


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("client_id", "grant_type", "expected"),
    [
        ("grades", "authorization_code", True),
        ("grades", "refresh_token", True),
        ("grades", "client_credentials", False),
        ("library", "refresh_token", False),
        ("district-reports", "client_credentials", True),
        ("district-reports", "authorization_code", False),
        ("grades", "password", False),
    ],
)
def test_grant_type_is_one_the_file_lists(client_id: str, grant_type: str, expected: bool) -> None:
    assert _client(client_id).check_grant_type(grant_type) is expected


# CLI


def test_cli_sync_prints_the_report(app: Flask, folder: Path) -> None:
    result = app.test_cli_runner().invoke(
        main, ["clients", "sync", "--dir", str(folder)], env=SECRETS
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "5 added, 0 updated, 0 disabled, 0 unchanged",
        "added: " + ", ".join(SHIPPED_IDS),
    ]
    assert [row["client_id"] for row in _table()] == list(SHIPPED_IDS)


def test_cli_sync_prints_errors_and_exits_1_without_changes(app: Flask, folder: Path) -> None:
    env: dict[str, str | None] = {**SECRETS, "IDP_CLIENT_SECRET_ATTENDANCE": None}

    result = app.test_cli_runner().invoke(main, ["clients", "sync", "--dir", str(folder)], env=env)

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "attendance.toml: secret_env: environment variable IDP_CLIENT_SECRET_ATTENDANCE is not set"
    )
    assert _table() == []


@pytest.mark.usefixtures("synced")
def test_cli_list_shows_every_client(app: Flask, folder: Path) -> None:
    (folder / "library.toml").unlink()
    app.test_cli_runner().invoke(main, ["clients", "sync", "--dir", str(folder)], env=SECRETS)

    result = app.test_cli_runner().invoke(main, ["clients", "list"])

    lines = result.stdout.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[2] == (
        "grades\tGrades\tconfidential\tfirst-party\tenabled\thttp://127.0.0.1:5001/callback"
    )
    assert lines[3].split("\t") == [
        "library",
        "School Library",
        "confidential",
        "third-party",
        "disabled",
        "http://127.0.0.1:5004/callback",
    ]
    assert lines[1].split("\t")[-1] == "-"
    assert lines[4].split("\t")[2:4] == ["public", "first-party"]
