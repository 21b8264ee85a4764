"""Staff cancellation: access ends at once and the email can register again from the start."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.credentials.models import SecurityAnswer
from idp.errors import DomainError
from idp.extensions import db
from idp.lifecycle import errors
from idp.notifications.models import OutboxMessage
from idp.notifications.rendering import MessageRenderer
from idp.oidc.models import SsoSession
from idp.registration.service import NewRegistration
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
from tests.integration.lifecycle.conftest import state_of


@pytest.fixture
def guardian(services: Services) -> Account:
    """parentuser1, parent of a Lakeview Elementary student; secretary1 works there."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student")
    enroll(student, school)
    person = make_person("guardian", sis_person_id="G-1")
    relate(person, student)
    account = make_account(services)
    account.person_id = person.id
    make_staff(services, school, role="school_admin")
    db.session.commit()
    return account


def test_cancel_ends_access_and_records_who_and_why(services: Services, guardian: Account) -> None:
    services.sso.start(guardian.id, amr=["pwd"], acr=None)
    db.session.commit()

    services.staff.cancel_account("ParentUser1", "secretary1", "Guardian asked to close it")

    assert state_of(guardian) == AccountState.CANCELLED
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() is not None
    assert db.session.execute(select(SecurityAnswer)).first() is None
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "lifecycle:account:cancelled")
    ).scalar_one()
    assert event.data["reason"] == "Guardian asked to close it"
    assert event.subject_account_id == guardian.id


def test_after_cancellation_the_same_email_registers_again_with_a_new_key(
    services: Services, guardian: Account
) -> None:
    services.staff.cancel_account("parentuser1", "secretary1", "Fresh start")

    issued = services.staff.issue_activation_key("G-1", "secretary1", "drivers_license")
    key_id = services.registration.check_key("G-1", issued.key)
    again = services.registration.register(
        NewRegistration(key_id, "ParentAgain2026", "maple syrup on pancakes", "parent1@example.org")
    )

    assert again.email == "parent1@example.org"
    assert again.person_id == guardian.person_id
    assert again.state == AccountState.PENDING_EMAIL
    assert services.accounts.is_username_taken("parentuser1")  # usernames are never reused


@pytest.mark.parametrize(
    ("username", "staff", "reason", "error"),
    [
        ("nobody123", "secretary1", "Why", errors.AccountNotFoundError),
        ("parentuser1", "secretary2", "Why", errors.CancelNotAllowedError),
        ("parentuser1", "unknownstaff", "Why", errors.CancelNotAllowedError),
        ("parentuser1", "secretary1", "  ", errors.CancelReasonRequiredError),
    ],
)
def test_refused_cancellation_changes_nothing(
    services: Services,
    guardian: Account,
    username: str,
    staff: str,
    reason: str,
    error: type[DomainError],
) -> None:
    make_staff(services, make_school("DEMO-MS1", "Riverside Middle"), "secretary2", "school_admin")

    with pytest.raises(error):
        services.staff.cancel_account(username, staff, reason)

    db.session.rollback()
    assert state_of(guardian) == AccountState.ACTIVE


def test_a_cancelled_account_cannot_be_cancelled_twice(
    services: Services, guardian: Account
) -> None:
    services.staff.cancel_account("parentuser1", "secretary1", "Once")

    with pytest.raises(errors.AccountNotFoundError):
        services.staff.cancel_account("parentuser1", "secretary1", "Twice")


def test_cli_cancels_and_reports_refusals(app: Flask, guardian: Account) -> None:
    runner = app.test_cli_runner()
    args = ["accounts", "cancel", "--username", "parentuser1", "--reason", "Moved away"]

    refused = runner.invoke(main, [*args, "--staff", "nobodyhere"])
    done = runner.invoke(main, [*args, "--staff", "secretary1"])

    assert refused.exit_code == 1
    assert "cancel_not_allowed" in refused.output
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"cancelled {guardian.sub}"
    assert state_of(guardian) == AccountState.CANCELLED


def test_the_guardian_is_emailed_that_the_school_cancelled_and_what_to_do_next(
    services: Services, guardian: Account
) -> None:
    services.staff.cancel_account("parentuser1", "secretary1", "Fresh start")

    [message] = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.template == "account_cancelled")
    ).scalars()
    context = services.lifecycle_messages.prepare_cancelled(message)
    assert context is not None
    rendered = MessageRenderer().render(message.template, message.locale, context)

    assert message.recipient == "parent1@example.org"
    assert "parentuser1" in rendered.text
    assert context["register_url"].endswith("/register")
    assert context["register_url"] in rendered.text
    assert "new activation key" in rendered.text


def test_no_cancellation_email_when_the_cancellation_is_refused(
    services: Services, guardian: Account
) -> None:
    with pytest.raises(DomainError):
        services.staff.cancel_account("parentuser1", "nobody99", "Fresh start")

    assert db.session.execute(select(OutboxMessage)).first() is None
