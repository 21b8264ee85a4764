"""The student sign-in page: its fields, the link from the sign-in page, sessions, messages."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import csrf_token, enroll, make_person, make_school

BORN = date(2013, 10, 9)
PAGE = "/sign-in/student"


@pytest.fixture
def student(services: Services) -> Person:
    """S-4001 at Lakeview Elementary (open), born 2013-10-09."""
    person = make_person("student", BORN, sis_person_id="S-4001")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "07")
    db.session.commit()
    return person


def _post(
    client: FlaskClient, student_id: str, birth_date: str, url: str = PAGE
) -> tuple[int, str]:
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(
        url, data={"student_id": student_id, "birth_date": birth_date, "csrf_token": token}
    )
    return response.status_code, response.get_data(as_text=True)


def _alert(page: str) -> str:
    match = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', page, re.S)
    assert match is not None, "no error message on the page"
    return match.group(1).strip()


def _link(page: str, link_id: str) -> str:
    match = re.search(rf'<a id="{link_id}" href="([^"]+)"', page)
    assert match is not None, f"no link {link_id}"
    return html.unescape(match.group(1))


def test_page_asks_for_student_id_and_birth_date_and_no_email(client: FlaskClient) -> None:
    page = client.get(PAGE).get_data(as_text=True)

    assert re.search(r'<label for="student_id">Student ID</label>', page)
    assert re.search(r'<label for="birth_date">Date of birth</label>', page)
    assert re.search(r'<input[^>]*id="birth_date"[^>]*type="date"', page)
    assert "You do not need an email address." in page
    assert not re.search(r'<input[^>]*(type|name)="email"', page)
    assert 'name="password"' not in page
    assert 'name="username"' not in page


def test_sign_in_page_links_to_student_sign_in_keeping_next(client: FlaskClient) -> None:
    page = client.get("/sign-in?next=/authorize%3Fclient_id%3Dgrades").get_data(as_text=True)

    assert "Student? Sign in with your student ID" in page
    assert _link(page, "student-sign-in") == "/sign-in/student?next=/authorize?client_id%3Dgrades"


def test_right_birth_date_starts_a_new_session_and_goes_on_to_next(
    client: FlaskClient, student: Person
) -> None:
    client.get(PAGE)
    before = client.get_cookie("idp_session")

    status, _page = _post(client, "s-4001", "2013-10-09", url=f"{PAGE}?next=/connected-apps")

    after = client.get_cookie("idp_session")
    assert status == 302
    assert before is not None
    assert after is not None
    assert after.value != before.value


def test_signed_in_student_reaches_the_home_page_without_security_questions(
    client: FlaskClient, student: Person
) -> None:
    _post(client, "S-4001", "2013-10-09")

    response = client.get("/")

    assert response.status_code == 200
    assert "You are signed in with your student ID." in response.get_data(as_text=True)


def test_redirects_to_next_only_on_this_site(client: FlaskClient, student: Person) -> None:
    token = csrf_token(client.get(PAGE).get_data(as_text=True))

    response = client.post(
        f"{PAGE}?next=https://evil.example/",
        data={"student_id": "S-4001", "birth_date": "2013-10-09", "csrf_token": token},
    )

    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("student_id", ["S-4001", "S-0000"], ids=["wrong-date", "unknown-id"])
def test_wrong_pair_gets_the_one_generic_message(
    client: FlaskClient, student: Person, student_id: str
) -> None:
    birth_date = "2013-10-10" if student_id == "S-4001" else "2013-10-09"

    status, page = _post(client, student_id, birth_date)

    assert status == 401
    assert _alert(page).startswith("The student ID or date of birth is not correct.")


@pytest.mark.parametrize(
    "birth_date",
    ["09/10/2013", "2013-02-30", "20131009", ""],
    ids=["us-order", "no-such-day", "iso-basic-form", "empty"],
)
def test_a_date_that_is_not_yyyy_mm_dd_is_a_field_error(
    client: FlaskClient, student: Person, birth_date: str
) -> None:
    status, page = _post(client, "S-4001", birth_date)

    assert status == 200
    assert 'id="birth_date-error"' in page
    assert db.session.execute(select(Account)).first() is None


def test_school_not_open_yet_is_said_after_right_credentials(
    client: FlaskClient, services: Services
) -> None:
    person = make_person("student", BORN, sis_person_id="S-4002")
    enroll(person, make_school("DEMO-HS2", "Eastgate High"), "09")
    db.session.commit()

    status, page = _post(client, "S-4002", "2013-10-09")

    assert status == 403
    assert _alert(page) == "Your school does not use the portal yet."


def test_third_failure_locks_and_the_page_says_how_long(
    client: FlaskClient, student: Person
) -> None:
    for _ in range(3):
        _post(client, "S-4001", "2013-10-10")

    status, page = _post(client, "S-4001", "2013-10-09")

    assert status == 429
    assert _alert(page) == "Too many attempts. Try again in 5 minutes."


def test_page_language_becomes_the_new_accounts_language(
    client: FlaskClient, student: Person
) -> None:
    client.get(f"{PAGE}?lang=vi")

    _post(client, "S-4001", "2013-10-09")

    account = db.session.execute(select(Account)).scalar_one()
    assert account.locale == "vi"


def test_arabic_page_is_right_to_left(client: FlaskClient) -> None:
    page = client.get(f"{PAGE}?lang=ar").get_data(as_text=True)

    assert re.search(r'<html lang="ar" dir="rtl">', page)
    assert 'type="date"' in page


def test_student_page_links_back_to_the_username_sign_in_keeping_next(
    client: FlaskClient,
) -> None:
    page = client.get(f"{PAGE}?next=/preferences").get_data(as_text=True)

    assert 'href="/sign-in?next=/preferences"' in page
