"""Issue 16.4: the person page of the staff console, a read model within the staff member's
scope (idp/staff/person_page.py). A person of another school is None (a 404)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from idp.accounts.models import Account, AccountState
from idp.clock import FrozenClock
from idp.credentials.errors import (
    InvalidCredentialsError,
    InvalidStudentCredentialsError,
    SignInLockedError,
)
from idp.credentials.service import SignInLocks
from idp.credentials.students import StudentCredentials
from idp.extensions import db
from idp.registration.service import NewRegistration
from idp.roster.models import Person, School
from idp.services import Services
from idp.staff.person_page import person_page
from idp.staff.records import AppUse, PendingConfirmation, PersonPage
from idp.staff.scope import StaffScope, staff_scope
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
from tests.conftest import START
from tests.integration.bridge.conftest import make_legacy
from tests.integration.oidc.conftest import exchange, get_code, new_pkce, sign_in
from tests.integration.oidc.conftest import registered_clients as registered_clients  # fixture
from tests.integration.registration.conftest import STRONG_PASSWORD

REASON = "Court order 2026-115"


@dataclass
class Family:
    """G-1 (parentuser1) is the parent of S-A at Lakeview Elementary (DEMO-ES1) and of S-B at
    Riverside Middle (DEMO-MS1); G-2, without an account, is S-A's guardian; S-C is at
    Riverside only. secretary1 and schooladmin1 work at Lakeview, districtadmin1 everywhere."""

    lakeview: School
    guardian: Person
    second_guardian: Person
    student: Person
    other_child: Person
    stranger: Person
    account: Account


@pytest.fixture
def family(app: Flask, services: Services) -> Family:
    lakeview = make_school("DEMO-ES1", "Lakeview Elementary")
    riverside = make_school("DEMO-MS1", "Riverside Middle")
    student = make_person("student", date(2016, 4, 2), sis_person_id="S-A", given_name="Ava")
    enroll(student, lakeview, "04")
    other_child = make_person("student", date(2013, 1, 9), sis_person_id="S-B")
    enroll(other_child, riverside, "07")
    stranger = make_person("student", date(2014, 6, 1), sis_person_id="S-C")
    enroll(stranger, riverside, "06")
    guardian = make_person("guardian", sis_person_id="G-1", family_name="Lee")
    second_guardian = make_person("guardian", sis_person_id="G-2", family_name="Park")
    relate(guardian, student)
    relate(guardian, other_child)
    relate(second_guardian, student, "guardian")
    account = make_account(services)
    account.person_id = guardian.id
    db.session.commit()
    make_staff(services, lakeview, "secretary1", "secretary")
    make_staff(services, lakeview, "schooladmin1", "school_admin")
    make_staff(services, None, "districtadmin1", "district_admin")
    return Family(lakeview, guardian, second_guardian, student, other_child, stranger, account)


def _scope(username: str) -> StaffScope:
    account = db.session.execute(db.select(Account).where(Account.username == username)).scalar()
    scope = staff_scope(db.session, account)
    assert scope is not None
    return scope


@pytest.fixture
def page(app: Flask, clock: FrozenClock, services: Services) -> Any:
    """person_page as the desk calls it: now, lifecycle.toml and the sign-in services' locks
    (a student's by student ID, anyone else's by username), within the read's transaction
    (the services without the test's edge, which would commit after each call)."""
    built = cast(Services, app.extensions["idp.services"])
    reader = SignInLocks(built.sign_in, built.student_sign_in).locked_until

    def read(staff: str | StaffScope, **target: int) -> PersonPage | None:
        return person_page(
            db.session,
            _scope(staff) if isinstance(staff, str) else staff,
            now=clock.now(),
            lifecycle_policy=services.policies.lifecycle,
            lock_reader=reader,
            **target,
        )

    return read


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _sign_in_fails(services: Services, username: str) -> None:
    with pytest.raises((InvalidCredentialsError, SignInLockedError)):
        services.sign_in.sign_in(username, "not the password")


def test_a_guardian_page_shows_the_person_and_the_account(family: Family, page: Any) -> None:
    found = page("secretary1", person_id=family.guardian.id)

    account = found.account
    assert (found.person.sis_person_id, found.person.role) == ("G-1", "guardian")
    assert found.person.birth_date is None
    assert (account.username, account.email) == ("parentuser1", "parent1@example.org")
    assert (account.kind, account.state, account.locale) == ("guardian", "active", "en")
    assert (account.created_at, account.state_changed_at) == (START, START)
    assert account.last_activity_at is None
    assert account.pending is None
    assert account.lock_until is None
    assert found.other_accounts == ()
    assert found.staff_roles == ()


def test_due_dates_come_from_lifecycle_toml(family: Family, page: Any) -> None:
    account = page("secretary1", person_id=family.guardian.id).account

    # lifecycle.toml: disabled after 183 idle days, deleted after 396.
    assert account.disable_due_at == START + timedelta(days=183)
    assert account.deletion_due_at == START + timedelta(days=396)


def test_a_deletion_comes_no_sooner_than_its_warning_allows(
    family: Family, services: Services, clock: FrozenClock, page: Any
) -> None:
    services.lifecycle.sweep(START + timedelta(days=183))
    clock.set(START + timedelta(days=400))
    services.lifecycle.sweep(clock.now())  # late: the deletion warning goes out only now

    account = page("secretary1", person_id=family.guardian.id).account

    assert account.state == AccountState.DISABLED
    assert account.disable_due_at is None
    assert account.deletion_due_at == START + timedelta(days=430)  # warn_before_delete_days 30


@pytest.mark.parametrize("has_questions", [True, False])
def test_security_questions_are_a_yes_or_no(
    app: Flask, services: Services, family: Family, page: Any, has_questions: bool
) -> None:
    account = make_account(services, "parkfamily2", "park@example.org", has_questions=has_questions)
    account.person_id = family.second_guardian.id
    db.session.commit()

    found = page("secretary1", person_id=family.second_guardian.id)

    assert found.account.has_security_questions is has_questions


def test_a_locked_account_shows_until_when(family: Family, services: Services, page: Any) -> None:
    for _ in range(services.policies.credentials.lockout.lock_after_failures):
        _sign_in_fails(services, "ParentUser1")

    account = page("secretary1", person_id=family.guardian.id).account

    assert account.lock_until == START + timedelta(minutes=1)  # first_lock_minutes


def test_a_student_locked_out_shows_until_when(
    family: Family, services: Services, page: Any
) -> None:
    services.student_sign_in.sign_in(StudentCredentials("S-A", date(2016, 4, 2)))
    for _ in range(services.policies.accounts.students.lockout.lock_after_failures):
        with pytest.raises((InvalidStudentCredentialsError, SignInLockedError)):
            services.student_sign_in.sign_in(StudentCredentials("s-a", date(2016, 4, 3)))

    account = page("secretary1", person_id=family.student.id).account

    assert (account.kind, account.last_activity_at) == ("student", START)
    assert account.lock_until == START + timedelta(minutes=5)  # accounts.toml [students]


def test_a_restriction_shows_when_by_whom_and_why(
    family: Family, services: Services, page: Any
) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "schooladmin1", REASON)

    found = page("secretary1", person_id=family.guardian.id)

    line = found.relationships[0]
    assert (line.person.sis_person_id, line.kind, line.is_legal_guardian) == ("S-A", "parent", True)
    assert (line.restricted_at, line.restricted_by_username) == (START, "schooladmin1")
    assert line.restriction_reason == REASON
    assert not line.gives_access
    assert ("roster:relationship:restricted", "schooladmin1", REASON) in [
        (e.event, e.actor_username, e.reason) for e in found.events
    ]


@pytest.mark.parametrize(
    ("staff", "children"), [("secretary1", ["S-A"]), ("districtadmin1", ["S-A", "S-B"])]
)
def test_another_schools_child_is_left_out_of_a_guardian_page(
    family: Family, page: Any, staff: str, children: list[str]
) -> None:
    found = page(staff, person_id=family.guardian.id)

    assert sorted(line.person.sis_person_id for line in found.relationships) == children


@pytest.mark.parametrize(("staff", "is_seen"), [("secretary1", False), ("districtadmin1", True)])
def test_a_restriction_about_another_schools_child_stays_out_of_the_events(
    family: Family, services: Services, page: Any, staff: str, is_seen: bool
) -> None:
    services.staff.restrict_guardian("G-1", "S-B", "districtadmin1", REASON)

    found = page(staff, person_id=family.guardian.id)

    assert ("roster:relationship:restricted" in [e.event for e in found.events]) is is_seen


def test_a_student_page_lists_the_guardians_and_whether_they_have_an_account(
    family: Family, page: Any
) -> None:
    found = page("secretary1", person_id=family.student.id)

    assert found.person.birth_date == date(2016, 4, 2)
    assert [(e.school_sis_id, e.school_name, e.grade) for e in found.enrollments] == [
        ("DEMO-ES1", "Lakeview Elementary", "04")
    ]
    assert [(g.person.sis_person_id, g.kind, g.account_state) for g in found.relationships] == [
        ("G-1", "parent", "active"),
        ("G-2", "guardian", None),
    ]
    assert found.account is None


def test_a_guardian_page_shows_each_childs_school_and_grade(family: Family, page: Any) -> None:
    found = page("districtadmin1", person_id=family.guardian.id)

    assert {
        line.person.sis_person_id: [(s.school_sis_id, s.grade) for s in line.schools]
        for line in found.relationships
    } == {"S-A": [("DEMO-ES1", "04")], "S-B": [("DEMO-MS1", "07")]}


@pytest.mark.parametrize(("staff", "is_found"), [("secretary1", False), ("districtadmin1", True)])
def test_a_person_of_another_school_is_found_by_a_district_admin_only(
    family: Family, page: Any, staff: str, is_found: bool
) -> None:
    found = page(staff, person_id=family.stranger.id)

    assert (found is not None) is is_found


def test_an_unknown_person_is_none(family: Family, page: Any) -> None:
    assert page("districtadmin1", person_id=family.stranger.id + 1000) is None


def test_the_page_of_an_account_is_the_page_of_its_person(family: Family, page: Any) -> None:
    by_account = page("secretary1", account_id=family.account.id)

    assert by_account == page("secretary1", person_id=family.guardian.id)


def test_an_account_outside_the_scope_is_none(
    family: Family, services: Services, page: Any
) -> None:
    other = make_account(services, "riverparent1", "river@example.org")
    other.person_id = family.stranger.id  # a student's Person: only the district sees it
    db.session.commit()

    assert page("secretary1", account_id=other.id) is None


def test_a_staff_page_lists_the_roles(family: Family, page: Any) -> None:
    secretary = _scope("secretary1")

    found = page("districtadmin1", account_id=secretary.account_id)

    assert found.person is None
    assert (found.account.username, found.account.kind) == ("secretary1", "staff")
    assert [(r.role, r.school_sis_id, r.school_name) for r in found.staff_roles] == [
        ("secretary", "DEMO-ES1", "Lakeview Elementary")
    ]
    assert (found.account.disable_due_at, found.account.deletion_due_at) == (None, None)


def test_an_outstanding_key_shows_who_issued_it_never_the_key(
    family: Family, services: Services, page: Any
) -> None:
    issued = services.staff.issue_activation_key("G-2", "secretary1", "passport")

    found = page("secretary1", person_id=family.second_guardian.id)

    key = found.keys[0]
    assert (key.issued_at, key.issued_by_username, key.id_type_seen) == (
        START,
        "secretary1",
        "passport",
    )
    assert (key.expires_at, key.used_at) == (START + timedelta(days=30), None)
    assert issued.key not in repr(found)
    assert [(e.event, e.actor_username) for e in found.events] == [
        ("registration:key:issued", "secretary1")
    ]


def test_a_registration_waiting_for_its_email_shows_when_it_is_removed(
    family: Family, services: Services, page: Any
) -> None:
    issued = services.staff.issue_activation_key("G-2", "secretary1", "passport")
    services.registration.register(
        NewRegistration(issued.activation_key_id, "parkfamily2", STRONG_PASSWORD, "p@example.org")
    )

    found = page("secretary1", person_id=family.second_guardian.id)

    # lifecycle.toml [registration]: the link lasts 48 hours, then 7 days of grace.
    assert found.account.state == AccountState.PENDING_EMAIL
    assert found.account.pending == PendingConfirmation(
        START, START + timedelta(hours=48), START + timedelta(hours=48, days=7)
    )
    assert [key.used_at for key in found.keys] == [START]


def test_a_cancelled_account_stays_on_the_page_with_its_reason(
    family: Family, services: Services, page: Any
) -> None:
    services.staff.cancel_account("parentuser1", "schooladmin1", REASON)

    found = page("secretary1", person_id=family.guardian.id)

    assert found.account.state == AccountState.CANCELLED
    assert (found.account.disable_due_at, found.account.deletion_due_at) == (None, None)
    assert ("lifecycle:account:cancelled", "schooladmin1", REASON) in [
        (e.event, e.actor_username, e.reason) for e in found.events
    ]


def test_the_ic_bridge_status_shows_the_legacy_credential(family: Family, page: Any) -> None:
    make_legacy(family.second_guardian, "park.family", "pbkdf2_sha256")

    found = page("secretary1", person_id=family.second_guardian.id)

    assert [(b.ic_username, b.scheme, b.imported_at, b.migrated_at) for b in found.bridge] == [
        ("park.family", "pbkdf2_sha256", START, None)
    ]


@pytest.mark.usefixtures("registered_clients")
def test_the_apps_used_and_the_live_sessions(
    family: Family, client: FlaskClient, clock: FrozenClock, page: Any
) -> None:
    sign_in(client)
    clock.advance(minutes=5)
    pkce = new_pkce()
    exchange(client, get_code(client, pkce), pkce)

    found = page("secretary1", person_id=family.guardian.id)

    later = START + timedelta(minutes=5)
    assert found.apps == (AppUse("grades", "Grades", later, later, None),)
    assert [(s.started_at, s.last_seen_at, s.app_names) for s in found.sessions] == [
        (START, later, ("Grades",))
    ]
    assert found.account.last_activity_at == START


def test_recent_events_are_the_newest_twenty(
    family: Family, services: Services, clock: FrozenClock, page: Any
) -> None:
    for _ in range(25):
        clock.advance(minutes=1)
        services.audit.record("credentials:sign_in:succeeded", subject_id=family.account.id)

    events = page("secretary1", person_id=family.guardian.id).events

    assert len(events) == 20
    assert [e.occurred_at for e in events] == [START + timedelta(minutes=25 - n) for n in range(20)]


@pytest.mark.parametrize("target", [{}, {"person_id": 1, "account_id": 1}])
def test_exactly_one_of_person_and_account_is_asked_for(
    family: Family, page: Any, target: dict[str, int]
) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        page("secretary1", **target)


@pytest.mark.usefixtures("registered_clients")
def test_the_page_reads_a_fixed_number_of_statements_whatever_the_family(
    family: Family, services: Services, client: FlaskClient, page: Any
) -> None:
    sign_in(client)
    pkce = new_pkce()
    exchange(client, get_code(client, pkce), pkce)
    services.staff.restrict_guardian("G-1", "S-A", "schooladmin1", REASON)
    guardian_id, district = family.guardian.id, _scope("districtadmin1")
    with _statements() as small:
        page(district, person_id=guardian_id)
    for number in range(3):
        child = make_person("student", date(2015, 1, 1 + number))
        enroll(child, family.lakeview)
        relate(family.guardian, child)
    db.session.commit()

    with _statements() as large:
        found = page(district, person_id=guardian_id)

    assert len(found.relationships) == 5
    assert len(large) == len(small) == 10
    assert all(statement.lstrip().upper().startswith("SELECT") for statement in large)
