"""Issue 16.5: the staff desk's actions as use cases of StaffService, one call shared by the
command line and the console. Each is allowed by its role at the person's school
(staff.toml [actions]) and writes exactly one audit event naming the staff member, the account
and the reason; a wrong role, another school's staff or a missing reason is refused and changes
nothing. The command line is smoke-tested in test_desk_actions_cli.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.errors import (
    InvalidCredentialsError,
    InvalidStudentCredentialsError,
    SignInLockedError,
)
from idp.credentials.service import SignInLocks
from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.models import SsoSession
from idp.registration.models import ActivationKey
from idp.roster.models import Person
from idp.services import Services
from idp.staff import errors
from tests.builders import (
    DEFAULT_PASSWORD,
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


# 4. Send an email again: the confirmation link, "your account is ready", the username.

EMAILS = [
    ("resend_verification", "verify_email", "registration:email:resent"),
    ("resend_account_ready", "account_ready", "registration:account_ready:resent"),
    ("send_username_reminder", "username_reminder", "registration:username_reminder:requested"),
]


@pytest.fixture
def pending(services: Services, desk: Desk) -> Account:
    """G-2 registered with the key as pendingparent2 and has not confirmed the email yet."""
    account = make_account(
        services, "pendingparent2", "pending2@example.org", state=AccountState.PENDING_EMAIL
    )
    account.person_id = desk.key_holder.id
    db.session.commit()
    return account


def _target(desk: Desk, pending: Account, action: str) -> Account:
    """The account each email is sent to again: the registration waiting for its link, or the
    active guardian."""
    return pending if action == "resend_verification" else desk.guardian


def _queued(template: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.template == template)
    return list(db.session.execute(query).scalars())


@pytest.mark.parametrize(("action", "template", "event"), EMAILS)
def test_the_desk_queues_the_email_again(
    services: Services, desk: Desk, pending: Account, action: str, template: str, event: str
) -> None:
    target = _target(desk, pending, action)

    getattr(services.staff, action)(target.id, "secretary1")

    assert [message.recipient for message in _queued(template)] == [target.email]
    assert_one_event(event, desk.staff["secretary1"], target, None)


@pytest.mark.parametrize("staff", OUTSIDERS)
@pytest.mark.parametrize(("action", "template", "event"), EMAILS)
def test_an_email_asked_by_another_school_is_refused_and_not_queued(
    services: Services,
    desk: Desk,
    pending: Account,
    action: str,
    template: str,
    event: str,
    staff: str,
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        getattr(services.staff, action)(_target(desk, pending, action).id, staff)

    assert _queued(template) == []
    assert events(event) == []


@pytest.mark.parametrize(
    ("action", "refusal"),
    [
        ("resend_verification", errors.NotWaitingForEmailError),
        ("resend_account_ready", errors.AccountNotReadyError),
    ],
)
def test_an_email_that_does_not_fit_the_state_is_refused(
    services: Services, desk: Desk, pending: Account, action: str, refusal: type[DomainError]
) -> None:
    other = desk.guardian if action == "resend_verification" else pending

    with pytest.raises(refusal):
        getattr(services.staff, action)(other.id, "secretary1")

    assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 0


def test_a_student_gets_no_username_reminder(services: Services, desk: Desk) -> None:
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))

    with pytest.raises(errors.NoUsernameToRemindError):
        services.staff.send_username_reminder(student.id, "secretary1")

    assert _queued("username_reminder") == []


# 5. Reset a guardian's security questions.


def test_reset_questions_asks_the_guardian_again_at_the_next_sign_in(
    services: Services, desk: Desk
) -> None:
    services.staff.reset_security_questions(desk.guardian.id, "schooladmin1", REASON)

    signed_in = services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)
    assert services.questions.is_required(signed_in)
    assert_one_event(
        "credentials:security_questions:reset", desk.staff["schooladmin1"], desk.guardian, REASON
    )


@pytest.mark.parametrize("staff", NOT_ADMINS)
def test_reset_questions_by_a_wrong_role_or_school_is_refused_and_changes_nothing(
    services: Services, desk: Desk, staff: str
) -> None:
    with pytest.raises(errors.DeskActionNotAllowedError):
        services.staff.reset_security_questions(desk.guardian.id, staff, REASON)

    assert len(services.questions.chosen_keys(desk.guardian)) == 3
    assert events("credentials:security_questions:reset") == []


@pytest.mark.parametrize("reason", ["", " \t "])
def test_reset_questions_without_a_reason_is_refused_and_changes_nothing(
    services: Services, desk: Desk, reason: str
) -> None:
    with pytest.raises(errors.DeskReasonRequiredError):
        services.staff.reset_security_questions(desk.guardian.id, "schooladmin1", reason)

    assert len(services.questions.chosen_keys(desk.guardian)) == 3
    assert events("credentials:security_questions:reset") == []


def test_reset_questions_of_a_staff_account_is_refused(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.NoSecurityQuestionsError):
        services.staff.reset_security_questions(
            desk.staff["secretary1"].id, "districtadmin1", REASON
        )

    assert events("credentials:security_questions:reset") == []


# 6. Set a student's district password: test_desk_actions_password.py (its own policy).


def test_no_district_password_is_set_where_students_use_their_birth_date(
    services: Services, desk: Desk
) -> None:
    student = services.student_sign_in.sign_in(StudentCredentials("S-A", BORN))

    with pytest.raises(errors.DistrictPasswordNotUsedError):
        services.staff.set_student_password(student.id, "schooladmin1", "river stone lantern")

    assert events("credentials:student_password:set") == []


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


def test_the_command_line_resets_a_second_factor_as_nobody(
    services: Services, enrolled: Account
) -> None:
    services.staff.reset_second_factor(enrolled.id, None, REASON)

    assert not services.second_factor.is_enrolled(enrolled)
    [event] = events("staff:second_factor:reset")
    assert (event.actor_account_id, event.subject_account_id) == (None, enrolled.id)


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
