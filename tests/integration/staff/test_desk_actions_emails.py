"""Issue 16.5, the desk's actions 4 and 5: send an email again, reset a guardian's security
questions (the shared desk: test_desk_actions.py)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountState
from idp.credentials.students import StudentCredentials
from idp.errors import DomainError
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.services import Services
from idp.staff import errors
from tests.builders import DEFAULT_PASSWORD, make_account
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
