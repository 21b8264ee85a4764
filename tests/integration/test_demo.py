"""`idp demo load`: the demo district, loaded once or twice, and what it lets people try."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from idp.accounts.models import Account
from idp.bridge.models import LegacyCredential
from idp.cli import main
from idp.clock import FrozenClock
from idp.credentials.models import SecurityAnswer
from idp.demo import DemoSummary, load_demo_district
from idp.demo.data import (
    DEMO_IC_PASSWORD,
    DEMO_PASSWORD,
    DEMO_SECURITY_ANSWER,
    WITHOUT_PHONE,
    WITHOUT_SECURITY_ANSWERS,
    school_year_start,
)
from idp.extensions import db
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.services import Services
from idp.staff.models import StaffAssignment
from tests.builders import csrf_token
from tests.conftest import committed

# Which school serves which grades in the demo district.
GRADE_BANDS = {
    "DEMO-ES1": {"KG", "01", "02", "03", "04", "05"},
    "DEMO-MS1": {"06", "07", "08"},
    "DEMO-HS1": {"09", "10", "11", "12"},
    "DEMO-HS2": {"09", "10", "11", "12"},
}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, all columns, ordered by primary key."""
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def _account(username: str) -> Account:
    query = select(Account).where(Account.username == username)
    return db.session.execute(query).scalar_one()


def _relationships_of(person_id: int) -> list[Relationship]:
    query = select(Relationship).where(Relationship.guardian_id == person_id)
    return list(db.session.execute(query).scalars())


def _age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@pytest.fixture
def summary(services: Services, clock: FrozenClock) -> DemoSummary:
    """The demo district, loaded once."""
    with committed():
        return load_demo_district(services, clock)


def test_demo_load_twice_leaves_the_same_rows(services: Services, clock: FrozenClock) -> None:
    with committed():
        load_demo_district(services, clock)
    first = _snapshot()
    clock.advance(days=1)

    with committed():
        load_demo_district(services, clock)

    assert _snapshot() == first
    assert len(first["account"]) == 30
    assert len(first["audit_event"]) > 0


def test_demo_parent_has_three_children_of_different_ages_at_different_schools(
    summary: DemoSummary,
) -> None:
    parent = _account("DemoParent1")
    rows = _relationships_of(parent.person_id or 0)
    students = [db.session.get(Person, row.student_id) for row in rows]
    schools = {
        school_id
        for row in rows
        for school_id in db.session.execute(
            select(Enrollment.school_id).where(Enrollment.person_id == row.student_id)
        ).scalars()
    }

    assert summary.accounts[0].username == "DemoParent1"
    assert "three children" in summary.accounts[0].note
    assert len(rows) == 3
    assert all(row.is_active and row.is_legal_guardian for row in rows)
    assert all(row.restricted_at is None for row in rows)
    assert len({student.birth_date for student in students if student is not None}) == 3
    assert len(schools) == 3


def test_exactly_one_guardian_account_has_no_security_answers(
    services: Services, summary: DemoSummary
) -> None:
    answer_count = (
        select(Account.username, func.count(SecurityAnswer.id))
        .outerjoin(SecurityAnswer, SecurityAnswer.account_id == Account.id)
        .where(Account.kind == "guardian")
        .group_by(Account.username)
    )
    counts = dict(db.session.execute(answer_count).all())
    some_answer = db.session.execute(select(SecurityAnswer).limit(1)).scalar_one()

    assert [name for name, count in counts.items() if count == 0] == [WITHOUT_SECURITY_ANSWERS]
    assert {count for name, count in counts.items() if count} == {3}
    assert services.hasher.verify(some_answer.answer_hash, DEMO_SECURITY_ANSWER)
    assert DEMO_SECURITY_ANSWER not in some_answer.answer_hash


def test_one_relationship_is_restricted_by_the_district_admin_with_a_reason(
    summary: DemoSummary,
) -> None:
    query = select(Relationship).where(Relationship.restricted_at.is_not(None))
    restricted = db.session.execute(query).scalars().all()
    admin = _account("DemoDistrictAdmin")
    assignment = db.session.execute(
        select(StaffAssignment).where(StaffAssignment.account_id == admin.id)
    ).scalar_one()
    guardian_rows = _relationships_of(restricted[0].guardian_id)

    assert len(restricted) == 1
    assert restricted[0].restriction_reason
    assert restricted[0].restricted_by_account_id == admin.id
    assert (assignment.role, assignment.school_id) == ("district_admin", None)
    # Restricted from one child only: the other child stays visible.
    assert [row.restricted_at is None for row in guardian_rows].count(True) == 1


def test_relative_is_not_a_legal_guardian(summary: DemoSummary) -> None:
    query = select(Relationship).where(Relationship.kind == "relative")

    relatives = db.session.execute(query).scalars().all()

    assert len(relatives) == 1
    assert not relatives[0].is_legal_guardian


def test_legacy_ic_verifier_is_a_pbkdf2_hash_of_the_demo_ic_password(
    summary: DemoSummary,
) -> None:
    credential = db.session.execute(select(LegacyCredential)).scalar_one()
    scheme, iterations, salt, expected = credential.verifier.split("$")
    digest = hashlib.pbkdf2_hmac(
        "sha256", DEMO_IC_PASSWORD.encode(), base64.b64decode(salt), int(iterations)
    )
    accounts = db.session.execute(
        select(Account).where(Account.person_id == credential.person_id)
    ).all()

    assert summary.legacy_ic_users[0].ic_username == credential.ic_username
    assert scheme == credential.scheme == "pbkdf2_sha256"
    assert DEMO_IC_PASSWORD not in credential.verifier
    assert hmac.compare_digest(digest, base64.b64decode(expected))
    assert credential.migrated_at is None
    assert credential.account_id is None
    assert accounts == []


def test_unregistered_guardians_exist_and_have_no_account(summary: DemoSummary) -> None:
    person_ids = [line.person_id for line in summary.unregistered_guardians]
    persons = db.session.execute(
        select(Person).where(Person.sis_person_id.in_(person_ids))
    ).scalars()
    ids = [person.id for person in persons]
    with_account = db.session.execute(select(Account).where(Account.person_id.in_(ids))).all()

    assert 3 <= len(person_ids) == len(ids) <= 4
    assert with_account == []


def test_three_demo_schools_are_open_today_and_one_is_not(
    app: Flask, clock: FrozenClock, summary: DemoSummary
) -> None:
    rollout = app.extensions["idp.policies"].rollout
    sis_ids = db.session.execute(select(School.sis_id)).scalars().all()

    open_today = {sis_id for sis_id in sis_ids if rollout.is_enabled(sis_id, clock.now().date())}

    assert open_today == {"DEMO-ES1", "DEMO-MS1", "DEMO-HS1"}
    assert set(sis_ids) - open_today == {"DEMO-HS2"}
    assert [line.is_open_today for line in summary.schools] == [True, True, True, False]


def test_students_are_enrolled_where_their_grade_is_taught_at_a_plausible_age(
    clock: FrozenClock, summary: DemoSummary
) -> None:
    query = (
        select(Person.birth_date, Enrollment.grade, School.sis_id)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .join(School, School.id == Enrollment.school_id)
        .where(Person.role == "student")
    )
    rows = db.session.execute(query).all()
    first_day = date(school_year_start(clock.now().date()), 9, 1)
    grade_numbers = {"KG": 0} | {f"{n:02d}": n for n in range(1, 13)}

    assert len(rows) == 30
    assert {grade for _, grade, _ in rows} == set(grade_numbers)
    assert all(grade in GRADE_BANDS[school] for _, grade, school in rows)
    assert all(
        birth and _age_on(birth, first_day) == 5 + grade_numbers[grade] for birth, grade, _ in rows
    )


def test_each_school_has_desk_staff_admins_where_the_guides_restrict(
    summary: DemoSummary,
) -> None:
    query = (
        select(School.sis_id, Account.kind, StaffAssignment.role)
        .join(StaffAssignment, StaffAssignment.school_id == School.id)
        .join(Account, Account.id == StaffAssignment.account_id)
    )

    rows = db.session.execute(query).all()

    assert sorted(rows) == [
        ("DEMO-ES1", "staff", "school_admin"),
        ("DEMO-HS1", "staff", "school_admin"),
        ("DEMO-HS2", "staff", "secretary"),
        ("DEMO-MS1", "staff", "secretary"),
    ]
    assert sorted(GRADE_BANDS) == ["DEMO-ES1", "DEMO-HS1", "DEMO-HS2", "DEMO-MS1"]


def test_demo_guardians_speak_several_languages(summary: DemoSummary) -> None:
    query = select(Account.locale, Account.email).where(Account.kind == "guardian")

    rows = db.session.execute(query).all()

    assert {"en", "es", "ar"} <= {locale for locale, _ in rows}
    assert all(email and email.endswith("@demo.portal.invalid") for _, email in rows)


def _guardian_contacts() -> dict[str, tuple[str | None, str | None]]:
    query = select(Person.sis_person_id, Person.phone, Person.address).where(
        Person.role == "guardian"
    )
    return {row.sis_person_id: (row.phone, row.address) for row in db.session.execute(query)}


def test_demo_guardians_have_a_fictional_phone_and_address(summary: DemoSummary) -> None:
    contacts = _guardian_contacts()

    phones = {person_id: phone for person_id, (phone, _) in contacts.items()}
    assert phones.pop(WITHOUT_PHONE) is None
    assert all(phone and phone.startswith("555-01") for phone in phones.values())
    assert len(set(phones.values())) == len(phones) == 29
    assert all(
        address and address.endswith(" Demo Street, Lakeview") for _, address in contacts.values()
    )


def test_demo_load_fills_contact_details_an_earlier_load_had_not(
    services: Services, clock: FrozenClock, summary: DemoSummary
) -> None:
    loaded = _guardian_contacts()
    db.session.execute(update(Person).values(phone=None, address=None))
    db.session.commit()

    with committed():
        load_demo_district(services, clock)

    assert _guardian_contacts() == loaded


def test_demo_guardian_signs_in_through_the_sign_in_page(
    client: FlaskClient, summary: DemoSummary
) -> None:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))

    response = client.post(
        "/sign-in",
        data={"username": "DemoParent1", "password": DEMO_PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302
    assert "You are signed in as DemoParent1." in client.get("/").get_data(as_text=True)


def test_cli_json_lists_unregistered_guardians_without_accounts(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, args=["demo", "load", "--json"])
    output = json.loads(result.output)
    person_ids = [line["person_id"] for line in output["unregistered_guardians"]]
    ids = (
        db.session.execute(select(Person.id).where(Person.sis_person_id.in_(person_ids)))
        .scalars()
        .all()
    )
    with_account = db.session.execute(select(Account.id).where(Account.person_id.in_(ids))).all()

    assert result.exit_code == 0
    assert output["password"] == DEMO_PASSWORD
    assert person_ids
    assert len(ids) == len(set(person_ids)) == len(person_ids)
    assert with_account == []


def test_cli_text_is_headed_as_demo_data(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, args=["demo", "load"])

    assert result.exit_code == 0
    assert result.output.startswith("DEMO DATA:")
    assert "DemoParent1" in result.output
    assert DEMO_PASSWORD in result.output


def test_demo_parent_sees_three_children_oldest_first_in_the_students_claim(
    services: Services, summary: DemoSummary
) -> None:
    claims = services.claims.user_info(_account("DemoParent1"), "openid students")

    students = claims["students"]
    assert [student["given_name"] for student in students] == [
        student["given_name"] for student in sorted(students, key=lambda s: s["birthdate"])
    ]
    assert len(students) == 3
    assert len({student["school_id"] for student in students}) == 3


def test_demo_restricted_parent_does_not_see_the_restricted_child(
    services: Services, summary: DemoSummary
) -> None:
    claims = services.claims.user_info(_account("DemoParent7"), "openid students")

    assert [student["given_name"] for student in claims["students"]] != []
    assert "Noah" not in [student["given_name"] for student in claims["students"]]


@pytest.mark.parametrize("username", ["DemoStaffMS1", "DemoDistrictAdmin"])
def test_demo_staff_sign_in_to_the_desk_with_the_printed_authenticator_secret(
    app: Flask, client: FlaskClient, clock: FrozenClock, username: str
) -> None:
    result = app.test_cli_runner().invoke(main, args=["demo", "load", "--json"])
    [line] = [a for a in json.loads(result.output)["accounts"] if a["username"] == username]
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    client.post(
        "/sign-in", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    token = csrf_token(client.get("/sign-in/second-factor").get_data(as_text=True))

    response = client.post(
        "/sign-in/second-factor",
        data={"code": pyotp.TOTP(line["totp_secret"]).at(clock.now()), "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200


def test_demo_guardians_have_no_authenticator_secret(summary: DemoSummary) -> None:
    secrets_by_role = {(a.role, a.totp_secret is not None) for a in summary.accounts}
    assert secrets_by_role == {("guardian", False), ("staff", True), ("district_admin", True)}
