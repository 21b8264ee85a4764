"""The per-IP limit of failed student sign-ins (accounts.toml students.ip_failures_per_*)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from flask.testing import FlaskClient

from idp.config import Settings
from idp.extensions import db
from idp.services import Services
from tests.builders import csrf_token, enroll, make_person, make_school


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development settings: the rate limiter is on (memory storage, per app)."""
    return replace(settings, env="development")


def _post(client: FlaskClient, token: str, student_id: str, birth_date: str) -> int:
    data = {"student_id": student_id, "birth_date": birth_date, "csrf_token": token}
    return client.post("/sign-in/student", data=data).status_code


def test_failures_beyond_the_per_minute_limit_get_429(
    client: FlaskClient, services: Services
) -> None:
    allowed = services.policies.accounts.students.ip_failures_per_minute
    token = csrf_token(client.get("/sign-in/student").get_data(as_text=True))
    # A different student ID each time: the per-student-ID lock (429 too) never starts.
    statuses = [_post(client, token, f"S-{n}", "2013-01-01") for n in range(allowed + 1)]

    assert statuses[:allowed] == [401] * allowed
    assert statuses[allowed] == 429


def test_successful_sign_ins_do_not_count_against_the_school_network(
    client: FlaskClient, services: Services
) -> None:
    allowed = services.policies.accounts.students.ip_failures_per_minute
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    for n in range(allowed + 2):
        enroll(make_person("student", date(2015, 1, 1), sis_person_id=f"S-{n}"), school, "05")
    db.session.commit()
    statuses = []
    for n in range(allowed + 2):
        token = csrf_token(client.get("/sign-in/student").get_data(as_text=True))
        statuses.append(_post(client, token, f"S-{n}", "2015-01-01"))

    assert statuses == [302] * (allowed + 2)
