"""The `students` and `student` claims (scope `students`): exactly the students a guardian may
see, oldest first, read from the roster each time a token or userinfo answer is built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account, AccountKind
from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.models import Person, Relationship
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, relate
from tests.integration.oidc.conftest import (
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    sign_in,
)

SCOPE = "openid profile students"


@dataclass
class Family:
    """A guardian account and the roster rows around it."""

    account: Account
    guardian: Person
    visible: list[str]  # SIS ids the guardian may see, oldest first
    restricted: Relationship
    inactive: Relationship
    closed_school_child: str


def _student(sis_id: str, born: date, given: str) -> Person:
    return make_person("student", born, sis_person_id=sis_id, given_name=given, family_name="Ng")


@pytest.fixture
def family(services: Services, registered_clients: None, clock: FrozenClock) -> Family:
    """parentuser1 with three visible children (made youngest first, so order is not luck),
    one restricted, one through an inactive relationship, one at a school opening 2027-08-15,
    and one the guardian is only a relative of."""
    account = make_account(services)
    guardian = make_person("guardian", sis_person_id="G-1")
    account.person_id = guardian.id
    elementary = make_school("DEMO-ES1", "Lakeview Elementary")
    high = make_school("DEMO-HS1", "Northfield High")
    eastgate = make_school("DEMO-HS2", "Eastgate High")  # policies/rollout.toml: 2027-08-15
    children = [
        (_student("S-YOUNG", date(2019, 3, 3), "Ana"), elementary, "01"),
        (_student("S-MIDDLE", date(2014, 7, 20), "Ben"), elementary, "06"),
        (_student("S-OLD", date(2010, 1, 9), "Cat"), high, "10"),
    ]
    for student, school, grade in children:
        enroll(student, school, grade)
        relate(guardian, student, "parent")
    hidden = {sis: _student(sis, date(2012, 5, 5), sis) for sis in ("S-R", "S-I", "S-C", "S-REL")}
    for sis, student in hidden.items():
        enroll(student, eastgate if sis == "S-C" else high, "08")
    restricted = relate(guardian, hidden["S-R"], "guardian")
    restricted.restricted_at = clock.now()
    restricted.restriction_reason = "court order 1"
    inactive = relate(guardian, hidden["S-I"], "parent")
    inactive.is_active = False
    relate(guardian, hidden["S-C"], "parent")
    relate(guardian, hidden["S-REL"], "relative")
    db.session.commit()
    return Family(account, guardian, ["S-OLD", "S-MIDDLE", "S-YOUNG"], restricted, inactive, "S-C")


def _tokens(client: FlaskClient, scope: str = SCOPE) -> dict[str, Any]:
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, scope=scope), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _userinfo(client: FlaskClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _ids(claims: dict[str, Any]) -> list[str]:
    return [student["id"] for student in claims["students"]]


def test_id_token_and_userinfo_list_exactly_the_visible_students_oldest_first(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)

    tokens = _tokens(client)

    id_claims = decode_id_token(client, tokens["id_token"])
    userinfo = _userinfo(client, tokens["access_token"])
    assert _ids(id_claims) == family.visible
    assert _ids(userinfo) == family.visible


def test_each_student_carries_names_birth_date_school_grade_and_relationship(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)

    claims = _userinfo(client, _tokens(client)["access_token"])

    assert claims["students"][0] == {
        "id": "S-OLD",
        "given_name": "Cat",
        "family_name": "Ng",
        "birthdate": "2010-01-09",
        "school_id": "DEMO-HS1",
        "school_name": "Northfield High",
        "grade": "10",
        "relationship": "parent",
    }


def test_child_at_a_school_not_yet_open_appears_from_its_rollout_date(
    client: FlaskClient, family: Family, clock: FrozenClock
) -> None:
    clock.set(clock.now().replace(year=2027, month=8, day=15, hour=8))

    sign_in(client)
    claims = _userinfo(client, _tokens(client)["access_token"])

    assert _ids(claims) == ["S-OLD", family.closed_school_child, "S-MIDDLE", "S-YOUNG"]


def test_a_change_in_the_roster_shows_on_the_next_userinfo_call(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)
    access_token = _tokens(client)["access_token"]
    family.inactive.is_active = True
    family.restricted.restricted_at = None
    family.restricted.restriction_reason = None
    db.session.commit()

    claims = _userinfo(client, access_token)

    assert _ids(claims) == ["S-OLD", "S-I", "S-R", "S-MIDDLE", "S-YOUNG"]
    assert claims["students"][2]["relationship"] == "guardian"


def test_a_guardian_with_no_visible_student_gets_an_empty_list(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    account = make_account(services)
    account.person_id = make_person("guardian").id
    db.session.commit()
    sign_in(client)

    claims = _userinfo(client, _tokens(client)["access_token"])

    assert claims["students"] == []


def test_without_the_students_scope_no_student_is_released(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)

    tokens = _tokens(client, "openid profile")

    assert "students" not in _userinfo(client, tokens["access_token"])
    assert "students" not in decode_id_token(client, tokens["id_token"])


@pytest.fixture
def pupil(services: Services, registered_clients: None) -> Account:
    """A student account (studentuser1) enrolled in grade 07 at an open school."""
    account = make_account(services, "studentuser1", None, kind=AccountKind.STUDENT)
    person = make_person("student", date(2013, 4, 4), sis_person_id="S-SELF", given_name="Dee")
    enroll(person, make_school("DEMO-MS1", "Riverside Middle"), "07")
    account.person_id = person.id
    db.session.commit()
    return account


def test_a_student_gets_the_student_claim_and_no_students_list(
    client: FlaskClient, pupil: Account
) -> None:
    sign_in(client, "studentuser1")

    claims = _userinfo(client, _tokens(client)["access_token"])

    assert "students" not in claims
    assert claims["student"] == {
        "id": "S-SELF",
        "given_name": "Dee",
        "family_name": claims["student"]["family_name"],
        "birthdate": "2013-04-04",
        "school_id": "DEMO-MS1",
        "school_name": "Riverside Middle",
        "grade": "07",
    }


def test_a_guardian_gets_no_student_claim(client: FlaskClient, family: Family) -> None:
    sign_in(client)

    claims = _userinfo(client, _tokens(client)["access_token"])

    assert "student" not in claims
