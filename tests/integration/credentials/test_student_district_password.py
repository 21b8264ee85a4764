"""students.login = "district_password": the district sets each student's password (CLI or
import); students sign in with their student ID and that password, never a date of birth."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.config import Settings
from idp.credentials.errors import (
    InvalidStudentPasswordError,
    PasswordContainsUsernameError,
    PasswordTooShortError,
    SignInLockedError,
    StudentNotFoundError,
    StudentSchoolNotOpenError,
)
from idp.credentials.students import StudentCredentials
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import csrf_token, edited_policies, enroll, make_person, make_school

BORN = date(2011, 2, 3)
PASSWORD = "river stone lantern"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped policies, with students signing in with a district password."""
    old, new = 'login = "student_id_birthdate"', 'login = "district_password"'
    return replace(settings, policy_dir=edited_policies(tmp_path, "accounts.toml", old, new))


@pytest.fixture
def student(services: Services) -> Person:
    """S-3001 at Lakeview Elementary (open)."""
    person = make_person("student", BORN, sis_person_id="S-3001")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "05")
    db.session.commit()
    return person


def _sign_in(
    services: Services,
    student_id: str = "S-3001",
    password: str | None = None,
    birth_date: date | None = None,
) -> Account:
    credentials = StudentCredentials(student_id, birth_date=birth_date, password=password)
    return services.student_sign_in.sign_in(credentials)


def test_policy_of_this_module_is_district_password(services: Services) -> None:
    assert services.student_sign_in.login == "district_password"


def test_set_password_creates_the_account_the_student_signs_in_with(
    services: Services, student: Person
) -> None:
    created = services.student_sign_in.set_password("s-3001", PASSWORD)

    account = _sign_in(services, password=PASSWORD)

    assert account.id == created.id
    assert (account.kind, account.state, account.person_id) == (
        AccountKind.STUDENT,
        AccountState.ACTIVE,
        student.id,
    )
    assert (account.username, account.email) == (None, None)
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")


def test_set_password_again_replaces_the_old_one(services: Services, student: Person) -> None:
    services.student_sign_in.set_password("S-3001", "an older pass phrase")
    services.student_sign_in.set_password("S-3001", PASSWORD)

    with pytest.raises(InvalidStudentPasswordError):
        _sign_in(services, password="an older pass phrase")
    assert _sign_in(services, password=PASSWORD).person_id == student.id


def test_wrong_password_and_unknown_student_get_the_same_answer(
    services: Services, student: Person
) -> None:
    services.student_sign_in.set_password("S-3001", PASSWORD)

    with pytest.raises(InvalidStudentPasswordError) as wrong:
        _sign_in(services, password="not the password at all")
    with pytest.raises(InvalidStudentPasswordError) as unknown:
        _sign_in(services, "S-9999", password=PASSWORD)

    assert (wrong.value.code, unknown.value.code) == ("invalid_student_password",) * 2


def test_student_without_a_district_password_cannot_sign_in(
    services: Services, student: Person
) -> None:
    with pytest.raises(InvalidStudentPasswordError):
        _sign_in(services, password=PASSWORD)


def test_birth_date_is_not_accepted(services: Services, student: Person) -> None:
    services.student_sign_in.set_password("S-3001", PASSWORD)

    with pytest.raises(InvalidStudentPasswordError):
        _sign_in(services, birth_date=BORN)


def test_district_password_sign_in_has_the_same_student_lockout(
    services: Services, student: Person
) -> None:
    services.student_sign_in.set_password("S-3001", PASSWORD)
    for _ in range(3):
        with pytest.raises(InvalidStudentPasswordError):
            _sign_in(services, password="wrong password, again")

    with pytest.raises(SignInLockedError):
        _sign_in(services, password=PASSWORD)


def test_school_not_open_yet_is_refused_after_the_right_password(services: Services) -> None:
    person = make_person("student", BORN, sis_person_id="S-3002")
    enroll(person, make_school("DEMO-HS2", "Eastgate High"), "09")
    db.session.commit()
    services.student_sign_in.set_password("S-3002", PASSWORD)

    with pytest.raises(StudentSchoolNotOpenError):
        _sign_in(services, "S-3002", password=PASSWORD)


def test_weaker_hash_is_upgraded_at_sign_in(services: Services, student: Person) -> None:
    account = services.student_sign_in.set_password("S-3001", PASSWORD)
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.session.commit()

    signed_in = _sign_in(services, password=PASSWORD)

    assert signed_in.password_hash is not None
    assert "m=19456,t=2" in signed_in.password_hash


@pytest.mark.parametrize(
    ("password", "error"),
    [("short", PasswordTooShortError), ("my id is s-3001 ok", PasswordContainsUsernameError)],
    ids=["too-short", "contains-student-id"],
)
def test_set_password_follows_the_password_rules(
    services: Services, student: Person, password: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        services.student_sign_in.set_password("S-3001", password)

    assert db.session.execute(select(Account)).first() is None


def test_set_password_of_an_unknown_student_says_so(services: Services, student: Person) -> None:
    with pytest.raises(StudentNotFoundError):
        services.student_sign_in.set_password("S-9999", PASSWORD)


def test_set_password_is_audited_without_the_password(services: Services, student: Person) -> None:
    account = services.student_sign_in.set_password("S-3001", PASSWORD)

    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "credentials:student_password:set")
    ).scalars()
    assert [(event.subject_account_id, event.data) for event in events] == [(account.id, {})]


def test_cli_set_password_asks_twice_then_the_student_signs_in(
    app: Flask, services: Services, student: Person
) -> None:
    result = app.test_cli_runner().invoke(
        main, ["students", "set-password", "--student-id", "s-3001"], input=f"{PASSWORD}\n" * 2
    )

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "S-3001" in result.output
    assert _sign_in(services, password=PASSWORD).person_id == student.id


def test_cli_set_password_refuses_a_password_breaking_the_rules(
    app: Flask, student: Person
) -> None:
    result = app.test_cli_runner().invoke(
        main, ["students", "set-password", "--student-id", "S-3001"], input="short\nshort\n"
    )

    assert result.exit_code == 1
    assert "password_too_short" in result.output
    assert db.session.execute(select(Account)).first() is None


def test_page_asks_for_the_password_not_the_birth_date(
    client: FlaskClient, services: Services, student: Person
) -> None:
    services.student_sign_in.set_password("S-3001", PASSWORD)
    html = client.get("/sign-in/student").get_data(as_text=True)

    response = client.post(
        "/sign-in/student?next=/preferences",
        data={"student_id": "S-3001", "password": PASSWORD, "csrf_token": csrf_token(html)},
    )

    assert 'type="password"' in html
    assert 'name="birth_date"' not in html
    assert response.status_code == 302
    assert response.headers["Location"] == "/preferences"
