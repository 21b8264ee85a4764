"""Issue 16.5: the staff desk's actions as use cases of StaffService, one call shared by the
command line and the console. Each is allowed by its role at the person's school
(staff.toml [actions]) and writes exactly one audit event naming the staff member, the account
and the reason; a wrong role, another school's staff or a missing reason is refused and changes
nothing. Here the shared desk, the activation keys and re-enabling; the locks, signing out and
the second factor in test_desk_actions_access.py; the emails and security questions in
test_desk_actions_emails.py; district passwords in test_desk_actions_password.py; staff
accounts in test_desk_actions_create.py and their set-password link sent again in
test_desk_actions_password_link.py; the command line in test_desk_actions_cli.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import db
from idp.registration.models import ActivationKey
from idp.roster.models import Person
from idp.services import Services
from idp.staff import errors
from tests.builders import (
    enroll,
    make_account,
    make_person,
    make_school,
    make_staff,
    relate,
)

REASON = "Photo ID checked at the front desk"
BORN = date(2014, 5, 17)
# Who is refused every action: another school's admin, and a name that is no staff account.
OUTSIDERS = ["otheradmin1", "nobody99"]
# ...and, for the actions staff.toml gives school and district admins only, a secretary.
NOT_ADMINS = ["secretary1", *OUTSIDERS]


@dataclass
class Desk:
    """Lakeview Elementary: the guardian G-1 (parentuser1) of the student S-A, the guardian
    G-2 who holds an activation key and no account yet, and the staff of the fixture below."""

    guardian: Account
    student: Person
    key_holder: Person
    staff: dict[str, Account]


def build_desk(services: Services) -> Desk:
    """secretary1 and schooladmin1 work at DEMO-ES1, otheradmin1 is a school admin at
    DEMO-MS1, districtadmin1 works district-wide."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student", BORN, sis_person_id="S-A")
    enroll(student, school)
    guardian_person = make_person("guardian", sis_person_id="G-1")
    relate(guardian_person, student)
    key_holder = make_person("guardian", sis_person_id="G-2")
    relate(key_holder, student)
    guardian = make_account(services)
    guardian.person_id = guardian_person.id
    db.session.commit()
    staff = {
        "secretary1": make_staff(services, school, "secretary1", "secretary"),
        "schooladmin1": make_staff(services, school, "schooladmin1", "school_admin"),
        "otheradmin1": make_staff(
            services, make_school("DEMO-MS1", "Riverside Middle"), "otheradmin1", "school_admin"
        ),
        "districtadmin1": make_staff(services, None, "districtadmin1", "district_admin"),
    }
    services.staff.issue_activation_key("G-2", "secretary1", "passport")
    return Desk(guardian, student, key_holder, staff)


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk, built once per test."""
    return build_desk(services)


def events(name: str) -> list[AuditEvent]:
    """The audit events of this name, oldest first."""
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def assert_one_event(
    name: str, actor: Account, subject: Account | None, reason: str | None
) -> None:
    """Exactly one `name` event, by `actor`, about `subject`, with `reason`."""
    found = events(name)
    assert len(found) == 1, [event.event for event in found]
    assert found[0].actor_account_id == actor.id
    assert found[0].subject_account_id == (subject.id if subject is not None else None)
    assert found[0].data.get("reason") == reason


def state_of(account: Account) -> str:
    """The account's state as the database has it now."""
    db.session.expire_all()
    return str(db.session.get(Account, account.id).state)  # type: ignore[union-attr]


def _outstanding_keys(person: Person) -> int:
    query = select(ActivationKey.id).where(
        ActivationKey.person_id == person.id, ActivationKey.revoked_at.is_(None)
    )
    return len(db.session.execute(query).all())


# 1. Revoke an activation key.


@pytest.mark.parametrize("staff", ["secretary1", "districtadmin1"])
def test_revoke_key_revokes_the_guardians_usable_key(
    services: Services, desk: Desk, staff: str
) -> None:
    revoked = services.staff.revoke_activation_key("G-2", staff, f"  {REASON}\n")

    assert len(revoked) == 1
    assert _outstanding_keys(desk.key_holder) == 0
    assert_one_event("registration:key:revoked", desk.staff[staff], None, REASON)
    assert events("registration:key:revoked")[0].data["person_id"] == desk.key_holder.id


def test_revoke_key_needs_no_reason(services: Services, desk: Desk) -> None:
    services.staff.revoke_activation_key("G-2", "secretary1")

    assert _outstanding_keys(desk.key_holder) == 0
    assert_one_event("registration:key:revoked", desk.staff["secretary1"], None, None)


@pytest.mark.parametrize("staff", OUTSIDERS)
def test_revoke_key_by_another_school_is_refused_and_changes_nothing(
    services: Services, desk: Desk, staff: str
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.revoke_activation_key("G-2", staff, REASON)

    assert _outstanding_keys(desk.key_holder) == 1
    assert events("registration:key:revoked") == []


def test_revoke_key_with_a_reason_too_long_is_refused(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.DeskReasonRequiredError):
        services.staff.revoke_activation_key("G-2", "secretary1", "x" * 501)

    assert _outstanding_keys(desk.key_holder) == 1


@pytest.mark.parametrize(
    ("person_id", "refusal"),
    [("G-1", errors.NoActivationKeyError), ("G-404", DomainError)],
)
def test_revoke_key_without_a_usable_key_is_refused(
    services: Services, desk: Desk, person_id: str, refusal: type[DomainError]
) -> None:
    with pytest.raises(refusal):
        services.staff.revoke_activation_key(person_id, "secretary1", REASON)

    assert events("registration:key:revoked") == []


# 2. Re-enable an account the lifecycle disabled.


@pytest.fixture
def disabled_student(services: Services, desk: Desk, clock: FrozenClock) -> Account:
    """S-A signed in once, then nobody used the student's or the guardian's account for 190
    days: the lifecycle sweep disabled both (lifecycle.toml disable_after_days = 183)."""
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))
    clock.advance(days=190)
    services.lifecycle.sweep()
    assert state_of(student) == state_of(desk.guardian) == AccountState.DISABLED
    return student


def test_the_disabled_student_is_re_enabled_at_the_desk_and_signs_in(
    services: Services, desk: Desk, disabled_student: Account
) -> None:
    services.staff.re_enable_account(disabled_student.id, "schooladmin1", REASON)

    signed_in = services.student_sign_in.sign_in(StudentCredentials("s-a", BORN))
    assert signed_in.id == disabled_student.id
    assert_one_event(
        "lifecycle:account:re_enabled", desk.staff["schooladmin1"], disabled_student, REASON
    )


def test_a_re_enabled_account_starts_a_new_idle_period(
    services: Services, desk: Desk, disabled_student: Account
) -> None:
    services.staff.re_enable_account(desk.guardian.id, "districtadmin1", REASON)

    report = services.lifecycle.sweep()

    assert report.disabled == 0
    assert state_of(desk.guardian) == AccountState.ACTIVE
    assert_one_event(
        "lifecycle:account:re_enabled", desk.staff["districtadmin1"], desk.guardian, REASON
    )


@pytest.mark.parametrize("staff", NOT_ADMINS)
def test_re_enable_by_a_wrong_role_or_school_is_refused_and_changes_nothing(
    services: Services, disabled_student: Account, staff: str
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.re_enable_account(disabled_student.id, staff, REASON)

    assert state_of(disabled_student) == AccountState.DISABLED
    assert events("lifecycle:account:re_enabled") == []


@pytest.mark.parametrize("reason", ["", "  \n ", "x" * 501])
def test_re_enable_without_a_reason_is_refused_and_changes_nothing(
    services: Services, disabled_student: Account, reason: str
) -> None:
    with pytest.raises(errors.DeskReasonRequiredError):
        services.staff.re_enable_account(disabled_student.id, "schooladmin1", reason)

    assert state_of(disabled_student) == AccountState.DISABLED
    assert events("lifecycle:account:re_enabled") == []


def test_re_enable_of_an_active_account_is_refused(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.AccountNotDisabledError):
        services.staff.re_enable_account(desk.guardian.id, "schooladmin1", REASON)

    assert events("lifecycle:account:re_enabled") == []


@pytest.mark.parametrize("identifier", ["ParentUser1", " parentuser1 "])
def test_find_account_by_username_without_case(
    services: Services, desk: Desk, identifier: str
) -> None:
    assert services.staff.find_account(identifier).id == desk.guardian.id


def test_find_account_by_student_id(services: Services, disabled_student: Account) -> None:
    assert services.staff.find_account(" s-a").id == disabled_student.id


@pytest.mark.parametrize("identifier", ["nobody99x", "S-404", "", "   "])
def test_find_account_of_nobody_is_not_found(
    services: Services, desk: Desk, identifier: str
) -> None:
    with pytest.raises(errors.DeskAccountNotFoundError):
        services.staff.find_account(identifier)


# 6. Set a student's district password: test_desk_actions_password.py (its own policy).


def test_no_district_password_is_set_where_students_use_their_birth_date(
    services: Services, desk: Desk
) -> None:
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))

    with pytest.raises(errors.DistrictPasswordNotUsedError):
        services.staff.set_student_password(student.id, "schooladmin1", "river stone lantern")

    assert events("credentials:student_password:set") == []
