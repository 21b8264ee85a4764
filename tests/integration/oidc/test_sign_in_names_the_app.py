"""The sign-in pages say which app the person signs in to (clients/*.toml `name`) while an app's
authorization request waits for the sign-in, and say nothing of the kind otherwise (issue 21.4,
found with Apache mod_auth_openidc as the relying party)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from idp.clock import FrozenClock
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.oidc.clients import ClientRegistry
from idp.roster.models import Person
from idp.services import Services
from tests.builders import csrf_token, enroll, make_person, make_school, relate
from tests.conftest import committed
from tests.integration.bridge.conftest import make_legacy
from tests.integration.oidc.conftest import SECRETS, authorize_params, new_pkce, sign_in_form
from tests.legacy import IC_PASSWORD

LINE = "Sign in to continue to Grades"
MARKUP_NAME = '<b onclick="x()">Grades</b> & Co'
LIBRARY_REDIRECT = "http://127.0.0.1:5004/callback"


def _authorize_url(**extra: str) -> str:
    return "/authorize?" + urlencode(authorize_params(new_pkce(), **extra))


def _continue_to(page: str) -> str | None:
    """The text of the page's "continue to" line, entities decoded; None without one."""
    match = re.search(r'<p class="continue-to" id="continue-to">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def _rename(
    services: Services, clock: FrozenClock, tmp_path: Path, file_name: str, name: str
) -> None:
    """Sync a copy of the shipped clients/ in which `file_name` registers the app as `name`."""
    folder = Path(shutil.copytree(PROJECT_ROOT / "clients", tmp_path / "clients"))
    path = folder / file_name
    text = path.read_text(encoding="utf-8")
    assert len(re.findall(r'(?m)^name = ".*"$', text)) == 1, file_name
    renamed = re.sub(r'(?m)^name = ".*"$', f"name = {_toml_string(name)}", text)
    path.write_text(renamed, encoding="utf-8")
    known = frozenset(services.claims.supported_scopes())
    with committed():
        ClientRegistry(db.session, clock, known, env="test").sync(folder, SECRETS)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.usefixtures("registered_clients")
def test_sign_in_page_from_authorize_names_the_app(client: FlaskClient) -> None:
    response = client.get(_authorize_url())

    assert _continue_to(sign_in_form(response).page) == LINE


@pytest.mark.usefixtures("registered_clients")
def test_plain_sign_in_page_names_no_app(client: FlaskClient) -> None:
    response = client.get("/sign-in")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="continue-to"' not in page
    assert "continue to" not in page


@pytest.mark.parametrize(
    "next_url",
    [
        "/preferences",
        "/authorize?client_id=nobody&response_type=code",
        "/authorize?client_id=grades&client_id=library",
        "https://elsewhere.example/authorize?client_id=grades",
        "//elsewhere.example/authorize?client_id=grades",
        "/authorize?client_id=" + "g" * 101,
    ],
)
@pytest.mark.usefixtures("registered_clients")
def test_sign_in_page_names_no_app_for_a_next_that_is_no_app_request(
    client: FlaskClient, next_url: str
) -> None:
    response = client.get("/sign-in?" + urlencode({"next": next_url}))

    assert response.status_code == 200
    assert _continue_to(response.get_data(as_text=True)) is None


@pytest.mark.usefixtures("guardian")
def test_sign_in_page_still_names_the_app_after_a_wrong_password(client: FlaskClient) -> None:
    action = sign_in_form(client.get(_authorize_url())).action
    token = csrf_token(client.get(action).get_data(as_text=True))

    response = client.post(
        action, data={"username": "parentuser1", "password": "wrong", "csrf_token": token}
    )

    assert response.status_code == 401
    assert _continue_to(response.get_data(as_text=True)) == LINE


@pytest.mark.usefixtures("registered_clients")
def test_student_sign_in_page_names_the_app(client: FlaskClient) -> None:
    page = sign_in_form(client.get(_authorize_url())).page
    link = re.search(r'<a id="student-sign-in" href="([^"]+)"', page)
    assert link is not None

    response = client.get(html.unescape(link.group(1)))

    assert response.status_code == 200
    assert _continue_to(response.get_data(as_text=True)) == LINE


@pytest.mark.usefixtures("registered_clients")
def test_student_sign_in_page_without_an_app_request_names_no_app(client: FlaskClient) -> None:
    response = client.get("/sign-in/student")

    assert response.status_code == 200
    assert _continue_to(response.get_data(as_text=True)) is None


@pytest.fixture
def ic_parent(registered_clients: None) -> Person:
    """A parent with an imported Infinite Campus credential (ChenFamily7) and no account."""
    student = make_person("student", given_name="Emily", family_name="Chen")
    enroll(student, make_school("DEMO-ES1", "Lakeview Elementary"))
    parent = make_person("guardian", sis_person_id="G-3001", given_name="Wei", family_name="Chen")
    relate(parent, student)
    db.session.commit()
    make_legacy(parent, "ChenFamily7")
    return parent


@pytest.mark.usefixtures("ic_parent")
def test_first_ic_sign_in_from_an_app_names_the_app(client: FlaskClient) -> None:
    action = sign_in_form(client.get(_authorize_url())).action
    token = csrf_token(client.get(action).get_data(as_text=True))
    credentials = {"username": "ChenFamily7", "password": IC_PASSWORD, "csrf_token": token}
    assert client.post(action, data=credentials).headers["Location"] == "/upgrade"

    response = client.get("/upgrade")

    assert response.status_code == 200
    assert _continue_to(response.get_data(as_text=True)) == LINE


@pytest.mark.parametrize(("language", "direction"), [("es", "ltr"), ("ar", "rtl")])
@pytest.mark.usefixtures("registered_clients")
def test_translated_sign_in_page_names_the_app(
    client: FlaskClient, language: str, direction: str
) -> None:
    response = client.get(_authorize_url(), headers={"Accept-Language": language})

    page = sign_in_form(response).page
    assert f'<html lang="{language}" dir="{direction}">' in page
    line = _continue_to(page)
    assert line is not None
    assert "Grades" in line


def test_an_app_name_with_markup_is_escaped_on_the_sign_in_page(
    client: FlaskClient,
    services: Services,
    clock: FrozenClock,
    tmp_path: Path,
    registered_clients: None,
) -> None:
    _rename(services, clock, tmp_path, "grades.toml", MARKUP_NAME)

    page = sign_in_form(client.get(_authorize_url())).page

    assert "Sign in to continue to &lt;b onclick=&#34;x()&#34;&gt;Grades&lt;/b&gt; &amp; Co" in page
    assert "<b onclick" not in page


def test_an_app_name_with_markup_is_escaped_on_the_consent_page(
    signed_in: FlaskClient, services: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    _rename(services, clock, tmp_path, "library.toml", MARKUP_NAME)
    params = authorize_params(
        new_pkce(), client_id="library", redirect_uri=LIBRARY_REDIRECT, scope="openid"
    )

    response = signed_in.get("/authorize?" + urlencode(params))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "&lt;b onclick=&#34;x()&#34;&gt;Grades&lt;/b&gt; &amp; Co wants to use your portal account"
    ) in page
    assert "<b onclick" not in page
