"""`idp students status`: what staff see about a student's sign-in and its lockout."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from idp.cli import main
from idp.clock import FrozenClock
from idp.credentials.errors import InvalidStudentCredentialsError
from idp.credentials.students import StudentCredentials
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import enroll, make_person, make_school

BORN = date(2015, 6, 1)


@pytest.fixture
def student(services: Services) -> Person:
    """S-6001 at Lakeview Elementary (open)."""
    person = make_person("student", BORN, sis_person_id="S-6001")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "04")
    db.session.commit()
    return person


def _status(app: Flask, student_id: str) -> tuple[int, dict[str, str]]:
    result = app.test_cli_runner().invoke(main, ["students", "status", "--student-id", student_id])
    rows = {line[:16].strip(): line[17:] for line in result.output.splitlines()}
    return result.exit_code, rows


def test_status_shows_a_lock_until_when(
    app: Flask, services: Services, student: Person, clock: FrozenClock
) -> None:
    for _ in range(3):
        with pytest.raises(InvalidStudentCredentialsError):
            services.student_sign_in.sign_in(StudentCredentials("S-6001", date(2015, 6, 2)))

    exit_code, rows = _status(app, "s-6001")

    assert exit_code == 0
    assert rows == {
        "student ID": "S-6001",
        "account": "none yet (made at the first sign-in)",
        "last activity": "-",
        "school open": "yes",
        "sign-in locked": "until 2026-09-01T12:05:00+00:00",
        "locks in a row": "1",
        "failures (24 h)": "3",
    }


def test_status_of_a_student_who_signed_in(app: Flask, services: Services, student: Person) -> None:
    services.student_sign_in.sign_in(StudentCredentials("S-6001", BORN))

    _exit_code, rows = _status(app, "S-6001")

    assert rows["account"] == "active"
    assert rows["last activity"] == "2026-09-01T12:00:00+00:00"
    assert rows["sign-in locked"] == "no"


def test_status_of_an_unknown_student_id_exits_1(app: Flask, student: Person) -> None:
    result = app.test_cli_runner().invoke(main, ["students", "status", "--student-id", "S-0"])

    assert result.exit_code == 1
    assert "idp: student_not_found: No active student in the roster has the student ID S-0." in (
        result.output
    )
