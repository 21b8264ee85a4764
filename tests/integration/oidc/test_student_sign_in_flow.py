"""A student signs in during an app's authorization request: the code flow goes on, and the
app receives the `student` claim (scope `students`), never a guardian's `students` list."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import csrf_token, enroll, make_person, make_school
from tests.integration.oidc.conftest import (
    GRADES_REDIRECT,
    authorize_params,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    redirect_query,
    sign_in_form,
)

BORN = date(2012, 4, 30)


@pytest.fixture
def student(services: Services, registered_clients: None) -> Person:
    """Lucia Rivera, S-5001, grade 08 at Riverside Middle (open)."""
    person = make_person(
        "student", BORN, sis_person_id="S-5001", given_name="Lucia", family_name="Rivera"
    )
    enroll(person, make_school("DEMO-MS1", "Riverside Middle"), "08")
    db.session.commit()
    return person


def _student_sign_in_from(client: FlaskClient, page: str) -> Any:
    """Follow the sign-in page's student link and sign in there as S-5001."""
    match = re.search(r'<a id="student-sign-in" href="([^"]+)"', page)
    assert match is not None
    student_page = html.unescape(match.group(1))
    token = csrf_token(client.get(student_page).get_data(as_text=True))
    data = {"student_id": "S-5001", "birth_date": BORN.isoformat(), "csrf_token": token}
    return client.post(student_page, data=data)


def _tokens_after_student_sign_in(client: FlaskClient, scope: str) -> dict[str, Any]:
    pkce = new_pkce()
    start = client.get("/authorize?" + urlencode(authorize_params(pkce, scope=scope)))
    back = _student_sign_in_from(client, sign_in_form(start).page)
    assert back.status_code == 302
    assert back.headers["Location"].startswith(GRADES_REDIRECT)  # straight back to the app
    response = exchange(client, redirect_query(back)["code"], pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _userinfo(client: FlaskClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_code_flow_completes_after_student_sign_in_with_the_student_claim(
    client: FlaskClient, student: Person
) -> None:
    tokens = _tokens_after_student_sign_in(client, "openid profile students")

    claims = _userinfo(client, tokens["access_token"])

    assert claims["student"] == {
        "id": "S-5001",
        "given_name": "Lucia",
        "family_name": "Rivera",
        "birthdate": "2012-04-30",
        "school_id": "DEMO-MS1",
        "school_name": "Riverside Middle",
        "grade": "08",
    }
    assert claims["role"] == "student"
    assert "students" not in claims
    assert "email" not in claims
    assert "preferred_username" not in claims


def test_id_token_says_how_the_student_signed_in(client: FlaskClient, student: Person) -> None:
    tokens = _tokens_after_student_sign_in(client, "openid")

    claims = decode_id_token(client, tokens["id_token"])

    assert claims["amr"] == ["kba"]
    assert claims["acr"] == "urn:portal:acr:student-birthdate"
    assert claims["sub"] != "S-5001"


def test_signed_in_student_gets_the_next_app_without_signing_in_again(
    client: FlaskClient, student: Person
) -> None:
    _tokens_after_student_sign_in(client, "openid")

    code = get_code(client, new_pkce(), scope="openid students")

    assert code
