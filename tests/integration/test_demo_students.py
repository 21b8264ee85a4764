"""The demo district's students: `idp demo load` says how to sign in as one, and it works."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask.testing import FlaskClient

from idp.clock import FrozenClock
from idp.credentials.errors import StudentSchoolNotOpenError
from idp.credentials.students import StudentCredentials
from idp.demo import DemoSummary, load_demo_district
from idp.services import Services
from tests.builders import csrf_token
from tests.conftest import committed

_EXAMPLE = re.compile(
    r"Students sign in at /sign-in/student with student ID (\S+) and birth date (\S+) \("
)


@pytest.fixture
def summary(services: Services, clock: FrozenClock) -> DemoSummary:
    """The demo district, loaded once."""
    with committed():
        return load_demo_district(services, clock)


def test_summary_names_two_students_to_try(summary: DemoSummary) -> None:
    examples = _EXAMPLE.findall(summary.as_text())

    assert examples == [("DEMO-S1001", examples[0][1]), ("DEMO-S1002", examples[1][1])]
    assert summary.as_dict()["student_sign_in"] == "/sign-in/student"


def test_a_new_user_signs_in_as_the_demo_student_the_summary_names(
    client: FlaskClient, summary: DemoSummary
) -> None:
    student_id, birth_date = _EXAMPLE.findall(summary.as_text())[0]
    token = csrf_token(client.get("/sign-in/student").get_data(as_text=True))
    data = {"student_id": student_id, "birth_date": birth_date, "csrf_token": token}

    response = client.post("/sign-in/student", data=data)
    home = client.get("/")

    assert response.status_code == 302
    assert "You are signed in with your student ID." in home.get_data(as_text=True)


def test_demo_student_at_eastgate_high_is_refused_until_it_opens(
    services: Services, summary: DemoSummary
) -> None:
    yasmin = next(line for line in summary.students if line.student_id == "DEMO-S1005")
    credentials = StudentCredentials(
        yasmin.student_id, birth_date=date.fromisoformat(yasmin.birth_date)
    )

    with pytest.raises(StudentSchoolNotOpenError):
        services.student_sign_in.sign_in(credentials)
