"""A client change (`idp clients sync`) reaches every running process at its next request, not
after a per-process cache time (issue 21.4, found with Apache mod_auth_openidc as the relying
party). Two apps from the factory on one database stand for two processes: the first has
served the app and cached its client; the `idp clients sync` command runs in the second."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text, update

from idp import create_app
from idp.cli import main
from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT, Settings
from idp.extensions import db
from idp.oidc.models import OidcClient
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    SECRETS,
    authorize_params,
    basic_auth,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in_form,
)

NEW_REDIRECT = "http://127.0.0.1:5011/callback"
NEW_APP = """
client_id = "newapp"
name = "New App"
redirect_uris = ["https://newapp.example/callback"]
scopes = ["openid"]
"""


@pytest.fixture
def other_process(app: Flask, settings: Settings, clock: FrozenClock) -> Iterator[Flask]:
    """A second app from the factory on the same database: another worker process."""
    other = create_app(settings, clock)
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def clients_folder(tmp_path: Path) -> Path:
    """A copy of the shipped clients/ for a test to edit, as district IT would."""
    return Path(shutil.copytree(PROJECT_ROOT / "clients", tmp_path / "clients"))


def _sync(process: Flask, folder: Path) -> None:
    """`idp clients sync --dir folder`, run in `process`."""
    result = process.test_cli_runner().invoke(
        main, ["clients", "sync", "--dir", str(folder)], env=SECRETS
    )
    assert result.exit_code == 0, result.output


def _edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert content.count(old) == 1, (path.name, old)
    path.write_text(content.replace(old, new), encoding="utf-8")


def _tokens(client: FlaskClient) -> dict[str, Any]:
    pkce = new_pkce()
    return exchange(client, get_code(client, pkce), pkce).get_json()  # type: ignore[no-any-return]


def test_a_client_disabled_in_another_process_cannot_refresh_at_the_next_request(
    signed_in: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    refresh_token = _tokens(signed_in)["refresh_token"]
    (clients_folder / "grades.toml").unlink()
    _sync(other_process, clients_folder)

    response = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_a_client_disabled_in_another_process_gets_no_code_at_the_next_request(
    signed_in: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    get_code(signed_in)
    (clients_folder / "grades.toml").unlink()
    _sync(other_process, clients_folder)

    response = signed_in.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    assert response.status_code == 400
    assert "invalid_client" in response.get_data(as_text=True)


def _move_grades_redirect(signed_in: FlaskClient, other_process: Flask, folder: Path) -> None:
    """The first process serves the grades app; then its redirect URI moves in the second."""
    get_code(signed_in)
    _edit(folder / "grades.toml", f'["{GRADES_REDIRECT}"]', f'["{NEW_REDIRECT}"]')
    _sync(other_process, folder)


def test_a_redirect_uri_removed_in_another_process_is_refused_at_the_next_request(
    signed_in: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    _move_grades_redirect(signed_in, other_process, clients_folder)

    response = signed_in.get("/authorize?" + urlencode(authorize_params(new_pkce())))

    assert response.status_code == 400  # shown, never redirected (unregistered URI)
    assert "Location" not in response.headers


def test_a_redirect_uri_added_in_another_process_gets_a_code_at_the_next_request(
    signed_in: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    _move_grades_redirect(signed_in, other_process, clients_folder)
    params = authorize_params(new_pkce(), redirect_uri=NEW_REDIRECT)

    response = signed_in.get("/authorize?" + urlencode(params))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(NEW_REDIRECT + "?")
    assert "code" in redirect_query(response)


@pytest.mark.usefixtures("registered_clients")
def test_a_name_changed_in_another_process_shows_on_the_next_sign_in_page(
    client: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    url = "/authorize?" + urlencode(authorize_params(new_pkce()))
    assert "Sign in to continue to Grades<" in sign_in_form(client.get(url)).page
    _edit(clients_folder / "grades.toml", 'name = "Grades"', 'name = "Grade Book"')
    _sync(other_process, clients_folder)

    page = sign_in_form(client.get(url)).page

    assert "Sign in to continue to Grade Book<" in page


@pytest.mark.usefixtures("registered_clients")
def test_a_client_added_in_another_process_is_in_the_next_pages_form_action(
    client: FlaskClient, other_process: Flask, clients_folder: Path
) -> None:
    assert "https://newapp.example" not in client.get("/sign-in").headers["Content-Security-Policy"]
    (clients_folder / "newapp.toml").write_text(NEW_APP, encoding="utf-8")
    _sync(other_process, clients_folder)

    response = client.get("/sign-in")

    assert "https://newapp.example" in response.headers["Content-Security-Policy"]


@pytest.mark.usefixtures("registered_clients")
def test_a_job_outside_any_request_sees_a_change_made_in_another_process(
    app: Flask, other_process: Flask, clients_folder: Path
) -> None:
    server = app.extensions["idp.oidc"]  # a worker holds one app context for its whole life
    assert server.query_client("grades").name == "Grades"
    _edit(clients_folder / "grades.toml", 'name = "Grades"', 'name = "Grade Book"')
    _sync(other_process, clients_folder)

    client = server.query_client("grades")

    assert client.name == "Grade Book"


# --- the generation ---------------------------------------------------------------------------


def _generation() -> int:
    row = db.session.execute(text("SELECT generation FROM oidc_client_generation WHERE id = 1"))
    return int(row.scalar_one_or_none() or 0)


@pytest.mark.usefixtures("registered_clients")
def test_a_sync_that_changes_nothing_keeps_the_generation(
    other_process: Flask, clients_folder: Path
) -> None:
    before = _generation()

    _sync(other_process, clients_folder)

    assert _generation() == before


@pytest.mark.usefixtures("registered_clients")
def test_a_client_changed_outside_the_sync_raises_the_generation() -> None:
    before = _generation()

    db.session.execute(update(OidcClient).where(OidcClient.client_id == "library").values(name="X"))
    db.session.commit()

    assert _generation() > before


# --- the hot path -----------------------------------------------------------------------------


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements this app runs while the test runs, whitespace collapsed."""
    found: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        found.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    yield found
    event.remove(db.engine, "before_cursor_execute", record)


def test_a_token_request_reads_the_generation_once_and_no_client_row(
    signed_in: FlaskClient, statements: list[str]
) -> None:
    _tokens(signed_in)  # the client is cached
    pkce = new_pkce()
    code = get_code(signed_in, pkce)
    statements.clear()

    response = exchange(signed_in, code, pkce)

    assert response.status_code == 200
    assert len([s for s in statements if "oidc_client_generation" in s]) == 1
    assert [s for s in statements if re.search(r"\bFROM oidc_client\b", s)] == []
