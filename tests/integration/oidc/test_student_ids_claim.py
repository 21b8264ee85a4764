"""The flat `student_ids` claim (scope `students`, issue 21.3): the `id` of each entry of the
`students` claim, as a JSON array of strings, for apps that read claims from headers or
environment variables (mod_auth_openidc drops an array of objects). It follows the same
visibility rules as `students`, from the same rows, on every token and userinfo answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.accounts.models import Account, AccountKind
from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster.models import Relationship, School
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
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
    """parentuser1's roster: two children the guardian sees, and the rows around them."""

    school: School  # where the two visible children are
    older: Relationship  # S-OLD's relationship


def _mark_restricted(row: Relationship, clock: FrozenClock) -> None:
    """The row as a restriction leaves it (without the token revocation of the real path)."""
    row.restricted_at = clock.now()
    row.restriction_reason = "court order"


@pytest.fixture
def family(services: Services, registered_clients: None, clock: FrozenClock) -> Family:
    """parentuser1 (G-1), parent of S-OLD (2011) and S-YOUNG (2016), made youngest first so
    the order is not luck; also a restricted child, a relative's child and a child at a school
    that opens on 2027-08-15, none of whom the guardian may see."""
    account = make_account(services)
    guardian = make_person("guardian", sis_person_id="G-1")
    account.person_id = guardian.id
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    not_open = make_school("DEMO-HS2", "Eastgate High")  # policies/rollout.toml: 2027-08-15
    young = make_person("student", date(2016, 6, 6), sis_person_id="S-YOUNG")
    old = make_person("student", date(2011, 2, 2), sis_person_id="S-OLD")
    hidden = {sis: make_person("student", date(2013, 3, 3), sis_person_id=sis) for sis in "RLC"}
    for student in (young, old, hidden["R"], hidden["L"]):
        enroll(student, school, "05")
    enroll(hidden["C"], not_open, "09")
    relate(guardian, young)
    older = relate(guardian, old)
    _mark_restricted(relate(guardian, hidden["R"], "guardian"), clock)
    relate(guardian, hidden["L"], "relative")
    relate(guardian, hidden["C"])
    db.session.commit()
    return Family(school, older)


@pytest.fixture
def pupil(services: Services, registered_clients: None) -> Account:
    """A student account (studentuser1), S-SELF, enrolled at an open school."""
    account = make_account(services, "studentuser1", None, kind=AccountKind.STUDENT)
    person = make_person("student", date(2013, 4, 4), sis_person_id="S-SELF")
    enroll(person, make_school("DEMO-MS1", "Riverside Middle"), "07")
    account.person_id = person.id
    db.session.commit()
    return account


def _tokens(client: FlaskClient, scope: str = SCOPE) -> dict[str, Any]:
    pkce = new_pkce()
    response = exchange(client, get_code(client, pkce, scope=scope), pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _userinfo(client: FlaskClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _claims(client: FlaskClient, tokens: dict[str, Any], where: str) -> dict[str, Any]:
    """The claims of the ID token, or of a userinfo answer to the access token."""
    if where == "id_token":
        return decode_id_token(client, tokens["id_token"])
    return _userinfo(client, tokens["access_token"])


def _ids_of_students(claims: dict[str, Any]) -> list[str]:
    return [student["id"] for student in claims["students"]]


@pytest.mark.parametrize("where", ["id_token", "userinfo"])
def test_carries_the_ids_of_the_students_claim_in_its_order(
    client: FlaskClient, family: Family, where: str
) -> None:
    sign_in(client)

    claims = _claims(client, _tokens(client), where)

    assert claims["student_ids"] == ["S-OLD", "S-YOUNG"]
    assert claims["student_ids"] == _ids_of_students(claims)


@pytest.mark.parametrize("where", ["id_token", "userinfo"])
def test_without_the_students_scope_no_student_ids_are_released(
    client: FlaskClient, family: Family, where: str
) -> None:
    sign_in(client)

    claims = _claims(client, _tokens(client, "openid profile email"), where)

    assert "student_ids" not in claims
    assert "students" not in claims


def test_a_restricted_relationship_drops_the_id_from_the_next_userinfo_answer(
    client: FlaskClient, family: Family, clock: FrozenClock
) -> None:
    sign_in(client)
    access_token = _tokens(client)["access_token"]
    _mark_restricted(family.older, clock)
    db.session.commit()

    claims = _userinfo(client, access_token)

    assert claims["student_ids"] == ["S-YOUNG"]
    assert claims["student_ids"] == _ids_of_students(claims)


def test_after_a_restriction_the_old_token_is_refused_and_a_new_one_lacks_the_id(
    client: FlaskClient, services: Services, family: Family
) -> None:
    make_staff(services, family.school, role="school_admin")
    sign_in(client)
    old_token = _tokens(client)["access_token"]

    services.staff.restrict_guardian("G-1", "S-OLD", "secretary1", "Court order 2026-115")
    refused = client.get("/userinfo", headers={"Authorization": f"Bearer {old_token}"})
    sign_in(client)
    tokens = _tokens(client)

    assert refused.status_code == 401
    assert decode_id_token(client, tokens["id_token"])["student_ids"] == ["S-YOUNG"]
    assert _userinfo(client, tokens["access_token"])["student_ids"] == ["S-YOUNG"]


def test_a_guardian_who_sees_no_student_gets_an_empty_list_like_students(
    client: FlaskClient, services: Services, registered_clients: None
) -> None:
    account = make_account(services)
    account.person_id = make_person("guardian").id
    db.session.commit()
    sign_in(client)

    claims = _userinfo(client, _tokens(client)["access_token"])

    assert (claims["students"], claims["student_ids"]) == ([], [])


@pytest.mark.parametrize("where", ["id_token", "userinfo"])
def test_a_student_gets_no_student_ids_as_no_students_list(
    client: FlaskClient, pupil: Account, where: str
) -> None:
    sign_in(client, "studentuser1")

    claims = _claims(client, _tokens(client), where)

    assert claims["student"]["id"] == "S-SELF"
    assert "students" not in claims
    assert "student_ids" not in claims


def test_discovery_lists_the_claim(client: FlaskClient, registered_clients: None) -> None:
    metadata = client.get("/.well-known/openid-configuration").get_json()

    assert "student_ids" in metadata["claims_supported"]
