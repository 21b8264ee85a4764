"""The staff second factor (issue 16.1): TOTP enrollment with an inline QR code, single-use
recovery codes, replay protection per time step, lockout, and the district admin's reset.

Each service call runs in its own unit of work (tests.conftest.committed), as an edge would:
what a refusal keeps is what a request would have committed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.config import Settings
from idp.extensions import db
from idp.services import Services
from idp.staff.errors import (
    EnrollmentCodeWrongError,
    NotStaffAccountError,
    SecondFactorAlreadyEnrolledError,
    SecondFactorCodeReusedError,
    SecondFactorCodeWrongError,
    SecondFactorLockedError,
    SecondFactorNotEnrolledError,
    SecondFactorResetNotAllowedError,
    SecondFactorResetReasonError,
)
from idp.staff.models import StaffRecoveryCode, StaffSecondFactor
from idp.staff.second_factor import Enrollment, SecondFactorService, build_second_factor
from tests.builders import make_account
from tests.conftest import committed

STEP_SECONDS = 30
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Enrolled:
    """A staff account whose authenticator is confirmed, as its owner knows it."""

    account: Account
    enrollment: Enrollment
    recovery_codes: list[str]


@pytest.fixture
def second_factor(app: Flask, clock: FrozenClock, settings: Settings) -> SecondFactorService:
    """The service as idp/services.py wires it: staff.toml [second_factor]."""
    services = cast(Services, app.extensions["idp.services"])
    return build_second_factor(
        session=cast(Session, db.session),  # as create_app hands it to the services
        clock=clock,
        audit=services.audit,
        policy=services.policies.staff.second_factor,
        key_encryption_key=settings.key_encryption_key,
        name_key=settings.secret_key.encode(),
    )


@pytest.fixture
def staff(services: Services) -> Account:
    return make_account(
        services, username="staffuser1", email="staff1@example.org", kind=AccountKind.STAFF
    )


@pytest.fixture
def enrolled(second_factor: SecondFactorService, staff: Account, clock: FrozenClock) -> Enrolled:
    with committed():
        enrollment = second_factor.start_enrollment(staff)
    with committed():
        codes = second_factor.confirm_enrollment(staff, _code(enrollment, clock))
    return Enrolled(staff, enrollment, codes)


def _code(enrollment: Enrollment, clock: FrozenClock, steps: int = 0) -> str:
    """What the authenticator app shows at the clock's time, `steps` time steps away."""
    totp = pyotp.TOTP(enrollment.secret.replace(" ", ""))
    return totp.at(clock.now(), counter_offset=steps)


def _wrong(enrollment: Enrollment, clock: FrozenClock) -> str:
    """A 6-digit code the app shows at none of the steps the service accepts now."""
    valid = {_code(enrollment, clock, steps) for steps in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def _factor_row(account: Account) -> StaffSecondFactor | None:
    db.session.expire_all()
    return db.session.get(StaffSecondFactor, account.id)


def _recovery_rows(account: Account) -> list[StaffRecoveryCode]:
    query = select(StaffRecoveryCode).where(StaffRecoveryCode.account_id == account.id)
    return list(db.session.execute(query).scalars())


def _events(name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def test_enrollment_shows_an_inline_qr_code_with_nothing_to_fetch(
    second_factor: SecondFactorService, staff: Account
) -> None:
    with committed():
        enrollment = second_factor.start_enrollment(staff)

    svg = enrollment.qr_svg
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert set(re.findall(r"https?://[^\s\"'<>]*", svg)) <= {SVG_NAMESPACE}
    assert "<image" not in svg
    assert "href" not in svg
    assert "url(" not in svg
    assert enrollment.provisioning_uri.startswith("otpauth://totp/Portal%20IdP:staffuser1?")
    assert f"secret={enrollment.secret.replace(' ', '')}" in enrollment.provisioning_uri
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", enrollment.secret)


def test_the_secret_is_stored_encrypted_with_the_key_encryption_key(
    second_factor: SecondFactorService, staff: Account, settings: Settings
) -> None:
    with committed():
        enrollment = second_factor.start_enrollment(staff)

    row = _factor_row(staff)
    secret = enrollment.secret.replace(" ", "")
    assert row is not None
    assert row.confirmed_at is None
    assert secret not in row.secret_encrypted
    fernet = Fernet(settings.key_encryption_key.encode())
    assert fernet.decrypt(row.secret_encrypted.encode()).decode() == secret


def test_the_secret_does_not_show_in_the_enrollment_repr(
    second_factor: SecondFactorService, staff: Account
) -> None:
    with committed():
        enrollment = second_factor.start_enrollment(staff)

    assert enrollment.secret.replace(" ", "")[:8] not in repr(enrollment)


def test_only_staff_accounts_enroll(second_factor: SecondFactorService, services: Services) -> None:
    guardian = make_account(services, username="parentuser1")

    with pytest.raises(NotStaffAccountError), committed():
        second_factor.start_enrollment(guardian)

    assert _factor_row(guardian) is None


def test_confirming_with_a_wrong_code_enrolls_nothing(
    second_factor: SecondFactorService, staff: Account, clock: FrozenClock
) -> None:
    with committed():
        enrollment = second_factor.start_enrollment(staff)

    with pytest.raises(EnrollmentCodeWrongError), committed():
        second_factor.confirm_enrollment(staff, _wrong(enrollment, clock))

    row = _factor_row(staff)
    assert row is not None
    assert row.confirmed_at is None
    assert row.last_used_step is None
    assert _recovery_rows(staff) == []
    assert not second_factor.is_enrolled(staff)
    assert _events("staff:second_factor:enrolled") == []


def test_restarting_before_confirmation_replaces_the_pending_secret(
    second_factor: SecondFactorService, staff: Account, clock: FrozenClock
) -> None:
    with committed():
        first = second_factor.start_enrollment(staff)
    with committed():
        second = second_factor.start_enrollment(staff)

    with pytest.raises(EnrollmentCodeWrongError), committed():
        second_factor.confirm_enrollment(staff, _code(first, clock))
    with committed():
        second_factor.confirm_enrollment(staff, _code(second, clock))
    assert first.secret != second.secret
    assert second_factor.is_enrolled(staff)


def test_confirming_returns_ten_distinct_recovery_codes_stored_as_digests_only(
    enrolled: Enrolled,
) -> None:
    rows = _recovery_rows(enrolled.account)
    digests = {row.code_digest for row in rows}

    assert len(set(enrolled.recovery_codes)) == 10
    assert all(
        re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in enrolled.recovery_codes
    )
    assert len(rows) == 10
    assert len(digests) == 10
    assert all(row.used_at is None for row in rows)
    for code in enrolled.recovery_codes:
        assert not any(code.replace("-", "") in digest for digest in digests)
    [event] = _events("staff:second_factor:enrolled")
    assert (event.subject_account_id, event.data) == (enrolled.account.id, {"recovery_codes": 10})


def test_confirmation_marks_the_account_enrolled(enrolled: Enrolled, clock: FrozenClock) -> None:
    row = _factor_row(enrolled.account)

    assert row is not None
    assert row.confirmed_at == clock.now()
    assert row.last_used_step == int(clock.now().timestamp()) // STEP_SECONDS


def test_starting_again_after_confirmation_is_refused(
    second_factor: SecondFactorService, enrolled: Enrolled
) -> None:
    before = _factor_row(enrolled.account)
    assert before is not None
    secret_before = before.secret_encrypted

    with pytest.raises(SecondFactorAlreadyEnrolledError), committed():
        second_factor.start_enrollment(enrolled.account)

    row = _factor_row(enrolled.account)
    assert row is not None
    assert row.confirmed_at is not None
    assert row.secret_encrypted == secret_before


def test_verify_accepts_the_current_code_and_records_its_step(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    clock.advance(seconds=STEP_SECONDS)

    with committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))

    row = _factor_row(enrolled.account)
    assert row is not None
    assert row.last_used_step == int(clock.now().timestamp()) // STEP_SECONDS
    assert _events("staff:second_factor:failed") == []


def test_a_replayed_code_in_the_same_step_is_refused(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    clock.advance(seconds=STEP_SECONDS)
    code = _code(enrolled.enrollment, clock)
    with committed():
        second_factor.verify(enrolled.account, code)
    clock.advance(seconds=10)  # still the same 30-second step

    with pytest.raises(SecondFactorCodeReusedError), committed():
        second_factor.verify(enrolled.account, code)

    [event] = _events("staff:second_factor:failed")
    assert event.data == {"method": "totp", "refusal": "second_factor_code_reused"}


def test_the_enrollment_code_cannot_be_used_again_in_its_step(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    with pytest.raises(SecondFactorCodeReusedError), committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))


def test_the_next_steps_code_is_accepted_after_thirty_seconds(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    clock.advance(seconds=STEP_SECONDS)
    with committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))
    clock.advance(seconds=STEP_SECONDS)

    with committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))

    row = _factor_row(enrolled.account)
    assert row is not None
    assert row.last_used_step == int(clock.now().timestamp()) // STEP_SECONDS


@pytest.mark.parametrize("steps", [-1, 1], ids=["phone_behind", "phone_ahead"])
def test_a_code_one_step_off_is_accepted_for_clock_drift(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock, steps: int
) -> None:
    clock.advance(seconds=3 * STEP_SECONDS)

    with committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock, steps))

    assert _events("staff:second_factor:failed") == []


@pytest.mark.parametrize("steps", [-2, 2], ids=["two_steps_ago", "two_steps_ahead"])
def test_a_code_two_steps_off_is_refused(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock, steps: int
) -> None:
    clock.advance(seconds=3 * STEP_SECONDS)  # two steps ago is still after the one used

    with pytest.raises(SecondFactorCodeWrongError) as caught, committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock, steps))

    assert type(caught.value) is SecondFactorCodeWrongError
    [event] = _events("staff:second_factor:failed")
    assert event.data == {"method": "totp", "refusal": "second_factor_code_wrong"}


def test_spaces_in_a_code_are_tolerated(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    clock.advance(seconds=STEP_SECONDS)
    code = _code(enrolled.enrollment, clock)

    with committed():
        second_factor.verify(enrolled.account, f" {code[:3]} {code[3:]} ")

    assert _events("staff:second_factor:failed") == []


@pytest.mark.parametrize("code", ["", "      "], ids=["empty", "spaces"])
def test_staff_without_the_second_factor_is_refused_once_enrolled(
    second_factor: SecondFactorService, enrolled: Enrolled, code: str
) -> None:
    with pytest.raises(SecondFactorCodeWrongError), committed():
        second_factor.verify(enrolled.account, code)

    assert second_factor.is_enrolled(enrolled.account)
    assert len(_events("staff:second_factor:failed")) == 1


def test_verify_without_a_confirmed_authenticator_is_refused(
    second_factor: SecondFactorService, staff: Account, clock: FrozenClock
) -> None:
    with committed():
        enrollment = second_factor.start_enrollment(staff)

    with pytest.raises(SecondFactorNotEnrolledError), committed():
        second_factor.verify(staff, _code(enrollment, clock))


def test_a_recovery_code_works_once(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock
) -> None:
    code = enrolled.recovery_codes[3]
    with committed():
        second_factor.verify(enrolled.account, code)

    with pytest.raises(SecondFactorCodeWrongError), committed():
        second_factor.verify(enrolled.account, code)

    used = [row for row in _recovery_rows(enrolled.account) if row.used_at is not None]
    assert [row.used_at for row in used] == [clock.now()]
    [event] = _events("staff:second_factor:recovery_code_used")
    assert (event.subject_account_id, event.data) == (enrolled.account.id, {"remaining": 9})
    [failed] = _events("staff:second_factor:failed")
    assert failed.data == {"method": "recovery_code", "refusal": "second_factor_code_wrong"}


@pytest.mark.parametrize(
    "typed",
    [str.upper, lambda code: code.replace("-", ""), lambda code: code.replace("-", " ")],
    ids=["upper_case", "without_dashes", "spaces_for_dashes"],
)
def test_a_recovery_code_is_accepted_as_typed(
    second_factor: SecondFactorService, enrolled: Enrolled, typed: Callable[[str], str]
) -> None:
    with committed():
        second_factor.verify(enrolled.account, typed(enrolled.recovery_codes[0]))

    assert len(_events("staff:second_factor:recovery_code_used")) == 1


def test_a_recovery_code_of_another_account_is_refused(
    second_factor: SecondFactorService,
    enrolled: Enrolled,
    services: Services,
    clock: FrozenClock,
) -> None:
    other = make_account(
        services, username="staffuser2", email="staff2@example.org", kind=AccountKind.STAFF
    )
    with committed():
        enrollment = second_factor.start_enrollment(other)
    with committed():
        second_factor.confirm_enrollment(other, _code(enrollment, clock))

    with pytest.raises(SecondFactorCodeWrongError), committed():
        second_factor.verify(other, enrolled.recovery_codes[0])

    assert all(row.used_at is None for row in _recovery_rows(enrolled.account))


@pytest.fixture
def lock_after_failures(services: Services) -> int:
    """staff.toml [second_factor] lock_after_failures, as the service is wired with it."""
    return services.policies.staff.second_factor.lock_after_failures


def _fail(
    second_factor: SecondFactorService, enrolled: Enrolled, clock: FrozenClock, times: int
) -> None:
    """`times` guesses of a 6-digit code, all wrong."""
    for _ in range(times):
        with pytest.raises(SecondFactorCodeWrongError), committed():
            second_factor.verify(enrolled.account, _wrong(enrolled.enrollment, clock))


def test_locks_after_the_lockout_policy_failures(
    second_factor: SecondFactorService,
    enrolled: Enrolled,
    clock: FrozenClock,
    lock_after_failures: int,
) -> None:
    _fail(second_factor, enrolled, clock, lock_after_failures)
    clock.advance(seconds=STEP_SECONDS)

    with pytest.raises(SecondFactorLockedError) as caught, committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))

    services = cast(Services, current_app.extensions["idp.services"])
    lock_minutes = services.policies.staff.second_factor.lock_minutes
    assert caught.value.params == {"minutes": lock_minutes}
    assert len(_events("staff:second_factor:failed")) == lock_after_failures
    [locked] = _events("staff:second_factor:locked")
    assert locked.subject_account_id == enrolled.account.id


def test_a_recovery_code_does_not_pass_a_lock(
    second_factor: SecondFactorService,
    enrolled: Enrolled,
    clock: FrozenClock,
    lock_after_failures: int,
) -> None:
    _fail(second_factor, enrolled, clock, lock_after_failures)

    with pytest.raises(SecondFactorLockedError), committed():
        second_factor.verify(enrolled.account, enrolled.recovery_codes[0])

    assert all(row.used_at is None for row in _recovery_rows(enrolled.account))


def test_the_lock_ends_when_the_clock_moves_past_it(
    second_factor: SecondFactorService,
    enrolled: Enrolled,
    clock: FrozenClock,
    lock_after_failures: int,
) -> None:
    _fail(second_factor, enrolled, clock, lock_after_failures)
    services = cast(Services, current_app.extensions["idp.services"])
    lock_minutes = services.policies.staff.second_factor.lock_minutes
    clock.advance(minutes=lock_minutes - 1)
    with pytest.raises(SecondFactorLockedError), committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))
    clock.advance(minutes=1)

    with committed():
        second_factor.verify(enrolled.account, _code(enrolled.enrollment, clock))

    row = _factor_row(enrolled.account)
    assert row is not None
    assert row.last_used_step == int(clock.now().timestamp()) // STEP_SECONDS


@pytest.fixture
def admin(services: Services) -> Account:
    return make_account(
        services, username="districtadmin1", email="admin1@example.org", kind=AccountKind.STAFF
    )


def test_reset_by_another_staff_account_removes_everything_and_is_audited(
    second_factor: SecondFactorService, enrolled: Enrolled, admin: Account
) -> None:
    with committed():
        second_factor.reset(enrolled.account, admin, "  Lost phone,\n ticket 4711 ")

    assert _factor_row(enrolled.account) is None
    assert _recovery_rows(enrolled.account) == []
    assert not second_factor.is_enrolled(enrolled.account)
    [event] = _events("staff:second_factor:reset")
    assert event.actor_account_id == admin.id
    assert event.subject_account_id == enrolled.account.id
    assert event.data == {"reason": "Lost phone, ticket 4711"}


def test_a_reset_from_the_command_line_has_no_actor_and_says_so(
    second_factor: SecondFactorService, enrolled: Enrolled
) -> None:
    with committed():
        second_factor.reset(enrolled.account, None, "Lost phone, ticket 4712")

    assert not second_factor.is_enrolled(enrolled.account)
    assert _recovery_rows(enrolled.account) == []
    [event] = _events("staff:second_factor:reset")
    assert (event.actor_account_id, event.subject_account_id) == (None, enrolled.account.id)
    assert event.data == {"reason": "Lost phone, ticket 4712", "via": "command line"}


def test_after_a_reset_the_next_sign_in_enrolls_again(
    second_factor: SecondFactorService, enrolled: Enrolled, admin: Account, clock: FrozenClock
) -> None:
    with committed():
        second_factor.reset(enrolled.account, admin, "Lost phone")

    with committed():
        enrollment = second_factor.start_enrollment(enrolled.account)
    with committed():
        codes = second_factor.confirm_enrollment(enrolled.account, _code(enrollment, clock))

    assert enrollment.secret != enrolled.enrollment.secret
    assert not set(codes) & set(enrolled.recovery_codes)
    assert len(_recovery_rows(enrolled.account)) == 10


def test_a_reset_of_ones_own_authenticator_is_refused(
    second_factor: SecondFactorService, enrolled: Enrolled
) -> None:
    with pytest.raises(SecondFactorResetNotAllowedError), committed():
        second_factor.reset(enrolled.account, enrolled.account, "Lost phone")

    assert second_factor.is_enrolled(enrolled.account)
    assert len(_recovery_rows(enrolled.account)) == 10
    assert _events("staff:second_factor:reset") == []


def test_a_reset_by_a_guardian_account_is_refused(
    second_factor: SecondFactorService, enrolled: Enrolled, services: Services
) -> None:
    guardian = make_account(services, username="parentuser1")

    with pytest.raises(SecondFactorResetNotAllowedError), committed():
        second_factor.reset(enrolled.account, guardian, "Lost phone")

    assert second_factor.is_enrolled(enrolled.account)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501], ids=["empty", "blank", "too_long"])
def test_a_reset_needs_a_reason(
    second_factor: SecondFactorService, enrolled: Enrolled, admin: Account, reason: str
) -> None:
    with pytest.raises(SecondFactorResetReasonError) as caught, committed():
        second_factor.reset(enrolled.account, admin, reason)

    assert caught.value.params == {"max_length": 500}
    assert second_factor.is_enrolled(enrolled.account)
