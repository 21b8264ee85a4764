"""Issue 16.5, the desk's actions 3, 7 and 8: clear a sign-in lock, sign an account out
everywhere, reset a staff member's second factor (the shared desk: test_desk_actions.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.credentials.errors import (
    InvalidCredentialsError,
    InvalidStudentCredentialsError,
    SignInLockedError,
)
from idp.credentials.service import SignInLocks
from idp.credentials.students import StudentCredentials
from idp.extensions import db
from idp.oidc.models import SsoSession
from idp.services import Services
from idp.staff import errors
from tests.builders import DEFAULT_PASSWORD
from tests.integration.staff.test_desk_actions import (
    BORN,
    NOT_ADMINS,
    OUTSIDERS,
    REASON,
    Desk,
    assert_one_event,
    build_desk,
    events,
)


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk of test_desk_actions.py."""
    return build_desk(services)


# 3. Clear a sign-in lock.


@pytest.fixture
def locked_guardian(services: Services, desk: Desk) -> Account:
    """parentuser1 after 5 wrong passwords (credentials.toml [lockout])."""
    for _ in range(services.policies.credentials.lockout.lock_after_failures):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in("parentuser1", "not the password")
    return desk.guardian


@pytest.fixture
def locked_student(services: Services, desk: Desk) -> Account:
    """S-A's account after 3 wrong birth dates (accounts.toml [students.lockout])."""
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))
    for _ in range(services.policies.accounts.students.lockout.lock_after_failures):
        with pytest.raises(InvalidStudentCredentialsError):
            services.student_sign_in.sign_in(StudentCredentials("S-A", date(2014, 5, 18)))
    return student


@pytest.mark.parametrize("staff", ["secretary1", "districtadmin1"])
def test_clear_lock_lets_the_guardian_sign_in_again(
    services: Services, desk: Desk, locked_guardian: Account, staff: str
) -> None:
    services.staff.clear_sign_in_lock(locked_guardian.id, staff, REASON)

    assert services.sign_in.sign_in("ParentUser1", DEFAULT_PASSWORD).id == locked_guardian.id
    assert_one_event("credentials:sign_in_lock:cleared", desk.staff[staff], locked_guardian, REASON)


def test_clear_lock_lets_the_student_sign_in_again(
    services: Services, desk: Desk, locked_student: Account
) -> None:
    services.staff.clear_sign_in_lock(locked_student.id, "secretary1")

    signed_in = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))
    assert signed_in.id == locked_student.id
    assert_one_event("credentials:sign_in_lock:cleared", desk.staff["secretary1"], signed_in, None)


@pytest.mark.parametrize("staff", OUTSIDERS)
def test_clear_lock_by_another_school_is_refused_and_changes_nothing(
    services: Services, locked_guardian: Account, staff: str
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.clear_sign_in_lock(locked_guardian.id, staff, REASON)

    with pytest.raises(SignInLockedError):
        services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)
    assert events("credentials:sign_in_lock:cleared") == []


def test_clear_lock_of_an_account_not_locked_is_refused(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.SignInNotLockedError):
        services.staff.clear_sign_in_lock(desk.guardian.id, "secretary1", REASON)

    assert events("credentials:sign_in_lock:cleared") == []


def test_lock_status_says_until_when_for_the_person_page(
    app: Flask, clock: FrozenClock, locked_guardian: Account, locked_student: Account
) -> None:
    built = app.extensions["idp.services"]
    locks = SignInLocks(built.sign_in, built.student_sign_in)
    lockouts = (built.policies.credentials.lockout, built.policies.accounts.students.lockout)

    guardian_until = locks.locked_until(locked_guardian)
    student_until = locks.locked_until(locked_student)

    assert guardian_until == clock.now() + timedelta(minutes=lockouts[0].first_lock_minutes)
    assert student_until == clock.now() + timedelta(minutes=lockouts[1].first_lock_minutes)


# 7. Sign out everywhere.


def _live_sessions(account: Account) -> int:
    query = select(SsoSession.id).where(
        SsoSession.account_id == account.id, SsoSession.ended_at.is_(None)
    )
    return len(db.session.execute(query).all())


@pytest.mark.parametrize("staff", ["schooladmin1", "districtadmin1"])
def test_sign_out_everywhere_ends_access_through_the_one_path(
    services: Services, desk: Desk, staff: str
) -> None:
    services.sso.start(desk.guardian.id, amr=["pwd"])

    services.staff.sign_out_everywhere(desk.guardian.id, staff, REASON)

    assert _live_sessions(desk.guardian) == 0
    ended = events("oidc:access:ended")
    assert [(event.subject_account_id, event.data["reason"]) for event in ended] == [
        (desk.guardian.id, "signed_out_by_staff")
    ]
    assert_one_event("oidc:account:signed_out", desk.staff[staff], desk.guardian, REASON)


@pytest.mark.parametrize("staff", NOT_ADMINS)
def test_sign_out_everywhere_by_a_wrong_role_or_school_is_refused_and_ends_nothing(
    services: Services, desk: Desk, staff: str
) -> None:
    services.sso.start(desk.guardian.id, amr=["pwd"])

    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.sign_out_everywhere(desk.guardian.id, staff)

    assert _live_sessions(desk.guardian) == 1
    assert events("oidc:access:ended") == []
    assert events("oidc:account:signed_out") == []


# 8. Reset a staff member's second factor.


def enroll_second_factor(services: Services, clock: FrozenClock, account: Account) -> None:
    """Set up the staff account's authenticator app, confirmed with its first code."""
    enrollment = services.second_factor.start_enrollment(account)
    code = pyotp.TOTP(enrollment.secret.replace(" ", "")).at(clock.now())
    services.second_factor.confirm_enrollment(account, code)


@pytest.fixture
def enrolled(services: Services, desk: Desk, clock: FrozenClock) -> Account:
    """secretary1, with a confirmed authenticator app."""
    enroll_second_factor(services, clock, desk.staff["secretary1"])
    return desk.staff["secretary1"]


def test_a_district_admin_resets_a_staff_members_second_factor(
    services: Services, desk: Desk, enrolled: Account
) -> None:
    services.staff.reset_second_factor(enrolled.id, "districtadmin1", REASON)

    assert not services.second_factor.is_enrolled(enrolled)
    assert_one_event("staff:second_factor:reset", desk.staff["districtadmin1"], enrolled, REASON)
    assert "via" not in events("staff:second_factor:reset")[0].data


def test_the_command_line_resets_a_second_factor_as_nobody(
    services: Services, enrolled: Account
) -> None:
    services.staff.reset_second_factor(enrolled.id, None, REASON)

    assert not services.second_factor.is_enrolled(enrolled)
    [event] = events("staff:second_factor:reset")
    assert (event.actor_account_id, event.subject_account_id) == (None, enrolled.id)
    assert event.data == {"reason": REASON, "via": "command line"}


@pytest.mark.parametrize("staff", ["schooladmin1", *OUTSIDERS])
def test_reset_second_factor_by_anyone_but_a_district_admin_is_refused(
    services: Services, enrolled: Account, staff: str
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.reset_second_factor(enrolled.id, staff, REASON)

    assert services.second_factor.is_enrolled(enrolled)
    assert events("staff:second_factor:reset") == []


@pytest.mark.parametrize("staff", ["districtadmin1", None])
def test_reset_second_factor_without_a_reason_is_refused_and_changes_nothing(
    services: Services, enrolled: Account, staff: str | None
) -> None:
    with pytest.raises(errors.SecondFactorResetReasonError):
        services.staff.reset_second_factor(enrolled.id, staff, " ")

    assert services.second_factor.is_enrolled(enrolled)
    assert events("staff:second_factor:reset") == []


def test_a_guardian_has_no_second_factor_to_reset(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.NotStaffAccountError):
        services.staff.reset_second_factor(desk.guardian.id, "districtadmin1", REASON)

    assert events("staff:second_factor:reset") == []
