"""Student sign-in with student ID + date of birth: who may sign in, the same answer for every
wrong pair, the tighter lockout per student ID, the account made at the first sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.errors import (
    AccountDisabledError,
    InvalidCredentialsError,
    InvalidStudentCredentialsError,
    SignInLockedError,
    StudentNotFoundError,
    StudentSchoolNotOpenError,
)
from idp.credentials.students import StudentCredentials
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, enroll, make_account, make_person, make_school

BORN = date(2014, 5, 17)
WRONG = date(2014, 5, 18)


@pytest.fixture
def student(services: Services) -> Person:
    """S-1001, born 2014-05-17, in grade 06 at Lakeview Elementary (open since 2024)."""
    person = make_person("student", BORN, sis_person_id="S-1001", given_name="Ana")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "06")
    db.session.commit()
    return person


@pytest.fixture
def english_page(app: Flask) -> Iterator[None]:
    """A request context, so that messages render (in English)."""
    with app.test_request_context("/sign-in/student"):
        yield


@pytest.fixture
def eastgate_student(services: Services) -> Person:
    """S-2001 at Eastgate High, whose portal opens 2027-08-15 (policies/rollout.toml)."""
    person = make_person("student", BORN, sis_person_id="S-2001")
    enroll(person, make_school("DEMO-HS2", "Eastgate High"), "09")
    db.session.commit()
    return person


def _sign_in(services: Services, student_id: str, born: date | None, locale: str = "en") -> Account:
    credentials = StudentCredentials(student_id=student_id, birth_date=born)
    return services.student_sign_in.sign_in(credentials, locale=locale)


def _fail(services: Services, student_id: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidStudentCredentialsError):
            _sign_in(services, student_id, WRONG)


def _events(name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def _student_accounts() -> int:
    query = select(func.count(Account.id)).where(Account.kind == AccountKind.STUDENT)
    return int(db.session.execute(query).scalar_one())


def test_right_birth_date_signs_in_with_a_new_student_account(
    services: Services, student: Person, clock: FrozenClock
) -> None:
    account = _sign_in(services, "S-1001", BORN, locale="ar")

    assert (account.kind, account.state) == (AccountKind.STUDENT, AccountState.ACTIVE)
    assert account.person_id == student.id
    assert (account.username, account.email, account.password_hash) == (None, None, None)
    assert account.locale == "ar"
    assert account.last_activity_at == clock.now()


def test_student_id_is_compared_without_case_and_spaces(
    services: Services, student: Person
) -> None:
    account = _sign_in(services, "  s-10 01 ", BORN)

    assert account.person_id == student.id


def test_wrong_birth_date_is_refused_and_makes_no_account(
    services: Services, student: Person
) -> None:
    with pytest.raises(InvalidStudentCredentialsError) as caught:
        _sign_in(services, "S-1001", WRONG)

    assert caught.value.status == 401
    assert _student_accounts() == 0


@pytest.mark.parametrize(
    "student_id",
    ["S-9999", "G-1001", "S-GONE"],
    ids=["unknown-id", "a-guardian-id", "student-no-longer-active"],
)
@pytest.mark.usefixtures("english_page")
def test_unknown_student_id_gets_the_same_answer_as_a_wrong_birth_date(
    services: Services, student: Person, student_id: str
) -> None:
    make_person("guardian", sis_person_id="G-1001")
    make_person("student", BORN, sis_person_id="S-GONE").is_active = False
    db.session.commit()
    with pytest.raises(InvalidStudentCredentialsError) as wrong_birth_date:
        _sign_in(services, "S-1001", WRONG)

    with pytest.raises(InvalidStudentCredentialsError) as unknown:
        _sign_in(services, student_id, BORN)

    assert type(unknown.value) is type(wrong_birth_date.value)
    assert unknown.value.render() == wrong_birth_date.value.render()
    assert unknown.value.status == wrong_birth_date.value.status


@pytest.mark.usefixtures("english_page")
def test_student_at_a_school_not_open_yet_is_told_so_after_right_credentials(
    services: Services, eastgate_student: Person
) -> None:
    with pytest.raises(StudentSchoolNotOpenError) as caught:
        _sign_in(services, "S-2001", BORN)

    assert caught.value.render() == "Your school does not use the portal yet."
    assert _student_accounts() == 0
    assert [event.data["reason"] for event in _events("credentials:student_sign_in:refused")] == [
        "school_not_open"
    ]


def test_wrong_birth_date_at_a_school_not_open_yet_gets_the_generic_answer(
    services: Services, eastgate_student: Person
) -> None:
    with pytest.raises(InvalidStudentCredentialsError):
        _sign_in(services, "S-2001", WRONG)


def test_student_is_refused_the_day_before_the_school_opens(
    services: Services, eastgate_student: Person, clock: FrozenClock
) -> None:
    clock.set(datetime(2027, 8, 14, 23, 59, tzinfo=UTC))

    with pytest.raises(StudentSchoolNotOpenError):
        _sign_in(services, "S-2001", BORN)


def test_student_signs_in_once_the_school_opens(
    services: Services, eastgate_student: Person, clock: FrozenClock
) -> None:
    with pytest.raises(StudentSchoolNotOpenError):
        _sign_in(services, "S-2001", BORN)
    clock.set(datetime(2027, 8, 15, 7, 30, tzinfo=UTC))  # the first day it is open

    account = _sign_in(services, "S-2001", BORN)

    assert account.person_id == eastgate_student.id


@pytest.mark.parametrize("student_id", ["S-1001", "S-9999"], ids=["known", "unknown"])
def test_locks_student_id_after_third_failure(
    services: Services, student: Person, student_id: str
) -> None:
    _fail(services, student_id, 3)

    with pytest.raises(SignInLockedError) as caught:
        _sign_in(services, student_id, BORN)

    assert caught.value.params == {"minutes": 5}


def test_two_failures_do_not_lock(services: Services, student: Person) -> None:
    _fail(services, "S-1001", 2)

    account = _sign_in(services, "S-1001", BORN)

    assert account.person_id == student.id


def test_lock_ends_after_first_lock_minutes(
    services: Services, student: Person, clock: FrozenClock
) -> None:
    _fail(services, "S-1001", 3)
    clock.advance(minutes=5)

    account = _sign_in(services, "S-1001", BORN)

    assert account.person_id == student.id


def test_lock_covers_every_spelling_of_the_student_id(services: Services, student: Person) -> None:
    _fail(services, "S-1001", 2)
    _fail(services, "s-1001", 1)

    with pytest.raises(SignInLockedError):
        _sign_in(services, " S-1001", BORN)


def test_student_lockout_is_apart_from_the_username_lockout(
    services: Services, student: Person
) -> None:
    make_account(services, username="S1001abcd")
    _fail(services, "S1001abcd", 3)

    account = services.sign_in.sign_in("S1001abcd", DEFAULT_PASSWORD)

    assert account.username == "S1001abcd"


def test_username_failures_do_not_lock_the_student_id(services: Services, student: Person) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in("S-1001", "not a password at all")

    account = _sign_in(services, "S-1001", BORN)

    assert account.person_id == student.id


def test_lockout_is_audited_with_ids_only(services: Services, student: Person) -> None:
    _fail(services, "S-1001", 3)

    failed = _events("credentials:student_sign_in:failed")
    locked = _events("credentials:student_sign_in:locked")
    assert [event.data for event in failed] == [{"person_id": student.id}] * 3
    assert [event.data for event in locked] == [{"person_id": student.id, "minutes": 5}]
    assert "S-1001" not in str([event.data for event in failed + locked])
    assert BORN.isoformat() not in str([event.data for event in failed + locked])


def test_lockout_of_an_unknown_student_id_is_audited_without_a_person(
    services: Services, student: Person
) -> None:
    _fail(services, "S-9999", 3)

    assert [event.data for event in _events("credentials:student_sign_in:locked")] == [
        {"minutes": 5}
    ]


def test_account_is_created_once_then_reused(services: Services, student: Person) -> None:
    first = _sign_in(services, "S-1001", BORN, locale="es")

    again = _sign_in(services, "S-1001", BORN, locale="vi")

    assert again.id == first.id
    assert again.locale == "es"
    assert _student_accounts() == 1
    assert [event.subject_account_id for event in _events("accounts:student_account:created")] == [
        first.id
    ]
    assert len(_events("credentials:student_sign_in:succeeded")) == 2


def test_unknown_page_language_gives_an_english_account(
    services: Services, student: Person
) -> None:
    account = _sign_in(services, "S-1001", BORN, locale="xx")

    assert account.locale == "en"


def test_sign_in_records_activity(services: Services, student: Person, clock: FrozenClock) -> None:
    _sign_in(services, "S-1001", BORN)
    clock.advance(days=30)

    account = _sign_in(services, "S-1001", BORN)

    assert account.last_activity_at == clock.now()


@pytest.mark.usefixtures("english_page")
def test_disabled_student_account_is_told_to_ask_the_school(
    services: Services, student: Person
) -> None:
    account = _sign_in(services, "S-1001", BORN)
    account.state = AccountState.DISABLED
    db.session.commit()

    with pytest.raises(AccountDisabledError) as caught:
        _sign_in(services, "S-1001", BORN)

    assert "Ask your school to re-enable your account." in caught.value.render()
    assert caught.value.status == 403


def test_status_of_a_student_who_never_signed_in(services: Services, student: Person) -> None:
    status = services.student_sign_in.status("s-1001")

    assert status.student_id == "S-1001"
    assert (status.account_state, status.last_activity_at) == (None, None)
    assert (status.locked_until, status.lock_count, status.recent_failures) == (None, 0, 0)
    assert status.is_school_open


def test_status_shows_the_lock_until_when_and_the_failures(
    services: Services, student: Person, clock: FrozenClock
) -> None:
    _sign_in(services, "S-1001", BORN)
    signed_in_at = clock.now()
    clock.advance(minutes=1)
    _fail(services, "S-1001", 3)

    status = services.student_sign_in.status("S-1001")

    assert status.account_state == AccountState.ACTIVE
    assert status.last_activity_at == signed_in_at
    assert status.locked_until == clock.now() + timedelta(minutes=5)
    assert (status.lock_count, status.recent_failures) == (1, 3)


def test_status_forgets_a_lock_that_ended_and_old_failures(
    services: Services, student: Person, clock: FrozenClock
) -> None:
    _fail(services, "S-1001", 3)
    clock.advance(hours=25)

    status = services.student_sign_in.status("S-1001")

    assert (status.locked_until, status.recent_failures) == (None, 0)


def test_status_of_a_school_not_open_yet(services: Services, eastgate_student: Person) -> None:
    assert not services.student_sign_in.status("S-2001").is_school_open


def test_status_of_an_unknown_student_id_says_so(services: Services, student: Person) -> None:
    with pytest.raises(StudentNotFoundError) as caught:
        services.student_sign_in.status("S-9999")

    assert caught.value.params == {"student_id": "S-9999"}
