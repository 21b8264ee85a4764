"""Issue 16.5, the desk's action 6: staff set a student's district password, where
accounts.toml students.login = "district_password" (this module's policy); checked against
credentials.toml [passwords], never kept in the audit trail, and the student's sessions end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from idp.accounts.models import Account, AccountKind
from idp.cli import main
from idp.config import Settings
from idp.credentials.errors import InvalidStudentPasswordError, PasswordTooShortError
from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import db
from idp.services import Services
from idp.staff import errors
from tests.builders import DEFAULT_PASSWORD, edited_policies, make_account
from tests.integration.staff.test_desk_actions import (
    NOT_ADMINS,
    Desk,
    assert_one_event,
    build_desk,
    events,
)

PASSWORD = "river stone lantern"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped policies, with students signing in with a district password."""
    old, new = 'login = "student_id_birthdate"', 'login = "district_password"'
    return replace(settings, policy_dir=edited_policies(tmp_path, "accounts.toml", old, new))


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk of test_desk_actions.py."""
    return build_desk(services)


@pytest.fixture
def student(services: Services, desk: Desk) -> Account:
    """S-A's account, whose district password is DEFAULT_PASSWORD."""
    account = make_account(services, None, None, kind=AccountKind.STUDENT)  # no username, email
    account.person_id = desk.student.id
    db.session.commit()
    return account


def _sign_in(services: Services, password: str) -> Account:
    return services.student_sign_in.sign_in(StudentCredentials("S-A", password=password))


@pytest.mark.parametrize("staff", ["schooladmin1", "districtadmin1"])
def test_set_student_password_replaces_the_old_one(
    services: Services, desk: Desk, student: Account, staff: str
) -> None:
    services.staff.set_student_password(student.id, staff, PASSWORD)

    assert _sign_in(services, PASSWORD).id == student.id
    with pytest.raises(InvalidStudentPasswordError):
        _sign_in(services, DEFAULT_PASSWORD)
    assert_one_event("credentials:student_password:set", desk.staff[staff], student, None)
    assert PASSWORD not in str(events("credentials:student_password:set")[0].data)


def test_set_student_password_ends_the_students_access(
    services: Services, desk: Desk, student: Account
) -> None:
    services.staff.set_student_password(student.id, "schooladmin1", PASSWORD)

    ended = events("oidc:access:ended")
    assert [(event.subject_account_id, event.data["reason"]) for event in ended] == [
        (student.id, "password_reset")
    ]


@pytest.mark.parametrize(
    ("staff", "password", "refusal"),
    [
        *((staff, PASSWORD, errors.DeskActionNotAllowedError) for staff in NOT_ADMINS),
        ("schooladmin1", "too short", PasswordTooShortError),
    ],
)
def test_set_student_password_refused_changes_nothing(
    services: Services,
    student: Account,
    staff: str,
    password: str,
    refusal: type[DomainError],
) -> None:
    with pytest.raises(refusal):
        services.staff.set_student_password(student.id, staff, password)

    assert _sign_in(services, DEFAULT_PASSWORD).id == student.id
    assert events("credentials:student_password:set") == []


def test_a_guardian_gets_no_district_password(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.NotAStudentAccountError):
        services.staff.set_student_password(desk.guardian.id, "schooladmin1", PASSWORD)

    assert events("credentials:student_password:set") == []


def _set_password(app: Flask, staff: str, typed: str) -> Result:
    arguments = ["staff", "set-student-password", "--account", "s-a", "--staff", staff]
    return app.test_cli_runner().invoke(main, arguments, input=typed)


def test_set_student_password_command_asks_twice_and_never_shows_it(
    app: Flask, services: Services, student: Account
) -> None:
    result = _set_password(app, "schooladmin1", f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert result.output.endswith("password set for student s-a\n")
    assert PASSWORD not in result.output
    assert _sign_in(services, PASSWORD).id == student.id


def test_set_student_password_command_refused_exits_1(app: Flask, student: Account) -> None:
    result = _set_password(app, "secretary1", f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 1
    assert "idp: desk_action_not_allowed:" in result.output
    assert PASSWORD not in result.output
