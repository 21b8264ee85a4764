"""Issue 16.5, the desk's action 9: `idp staff create` makes a staff account (no roster Person,
no role) without a usable password; its owner chooses one with an emailed one-time link
(recovery: prepare_set_password, open_set_password_link, set_first_password)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from idp.accounts.errors import EmailInUseError, UsernameInvalidError, UsernameTakenError
from idp.accounts.models import Account, AccountKind, AccountState
from idp.cli import main
from idp.clock import FrozenClock
from idp.credentials.errors import InvalidCredentialsError
from idp.errors import DomainError
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.recovery.errors import SetPasswordLinkExpiredError, SetPasswordLinkInvalidError
from idp.services import Services
from idp.staff import policy_errors
from tests.integration.staff.test_desk_actions import Desk, build_desk, events

PASSWORD = "a long staff pass phrase"


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk of test_desk_actions.py."""
    return build_desk(services)


def _create(app: Flask, username: str, email: str) -> Result:
    arguments = ["staff", "create", "--username", username, "--email", email]
    return app.test_cli_runner().invoke(main, arguments)


def _account(username: str) -> Account | None:
    query = select(Account).where(Account.username == username)
    return db.session.execute(query).scalar_one_or_none()


def _link_token(services: Services, account: Account) -> str:
    """The token of the link the queued email would carry, made as the mailer makes it."""
    query = select(OutboxMessage).where(OutboxMessage.account_id == account.id)
    [message] = db.session.execute(query).scalars()
    context = services.recovery_messages.prepare_set_password(message)
    assert context is not None
    return parse_qs(urlsplit(context["set_password_url"]).query)["token"][0]


def test_create_makes_a_staff_account_without_a_password_and_emails_the_link(
    app: Flask, desk: Desk
) -> None:
    result = _create(app, "NewClerk1", "  newclerk1@school.example ")

    assert result.exit_code == 0, result.output
    assert "created staff account NewClerk1:" in result.output
    account = _account("NewClerk1")
    assert account is not None
    assert (account.kind, account.state, account.person_id) == (
        AccountKind.STAFF,
        AccountState.ACTIVE,
        None,
    )
    assert account.password_hash is None
    [message] = db.session.execute(select(OutboxMessage)).scalars()
    assert (message.template, message.recipient) == ("staff_set_password", account.email)
    [event] = events("staff:account:created")
    assert (event.actor_account_id, event.subject_account_id) == (None, account.id)
    assert event.data == {"via": "command line"}


def test_a_district_admin_creates_a_staff_account(services: Services, desk: Desk) -> None:
    account = services.staff.create_staff_account(
        "newclerk2", "c2@school.example", "districtadmin1"
    )

    [event] = events("staff:account:created")
    assert (event.actor_account_id, event.subject_account_id) == (
        desk.staff["districtadmin1"].id,
        account.id,
    )


@pytest.mark.parametrize(
    ("username", "email", "refusal"),
    [
        ("short", "c3@school.example", UsernameInvalidError),
        ("has space1", "c3@school.example", UsernameInvalidError),
        ("Secretary1", "c3@school.example", UsernameTakenError),
        ("newclerk3", "SECRETARY1@school.example", EmailInUseError),
    ],
)
def test_create_with_a_bad_or_taken_name_or_email_changes_nothing(
    services: Services, desk: Desk, username: str, email: str, refusal: type[DomainError]
) -> None:
    with pytest.raises(refusal):
        services.staff.create_staff_account(username, email, None)

    assert db.session.execute(select(OutboxMessage)).first() is None
    assert events("staff:account:created") == []


@pytest.mark.parametrize("acting", ["schooladmin1", "nobody99"])
def test_create_by_anyone_but_a_district_admin_is_refused(
    services: Services, desk: Desk, acting: str
) -> None:
    with pytest.raises(policy_errors.StaffManagementNotAllowedError):
        services.staff.create_staff_account("newclerk4", "c4@school.example", acting)

    assert _account("newclerk4") is None


def test_create_refused_exits_1(app: Flask, desk: Desk) -> None:
    result = _create(app, "secretary1", "c5@school.example")

    assert result.exit_code == 1
    assert "idp: username_taken:" in result.output


def test_a_new_staff_account_cannot_sign_in_before_choosing_a_password(
    services: Services, desk: Desk
) -> None:
    services.staff.create_staff_account("newclerk6", "c6@school.example", None)

    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("newclerk6", "")


def test_the_emailed_link_chooses_the_first_password_once(services: Services, desk: Desk) -> None:
    account = services.staff.create_staff_account("newclerk7", "c7@school.example", None)
    token = _link_token(services, account)

    services.recovery.set_first_password(token, PASSWORD)

    assert services.sign_in.sign_in("newclerk7", PASSWORD).id == account.id
    with pytest.raises(SetPasswordLinkInvalidError):
        services.recovery.open_set_password_link(token)


def test_the_emailed_link_expires(services: Services, desk: Desk, clock: FrozenClock) -> None:
    account = services.staff.create_staff_account("newclerk8", "c8@school.example", None)
    token = _link_token(services, account)
    clock.advance(hours=services.policies.lifecycle.registration.email_link_hours, seconds=1)

    with pytest.raises(SetPasswordLinkExpiredError):
        services.recovery.set_first_password(token, PASSWORD)

    assert _account("newclerk8").password_hash is None  # type: ignore[union-attr]
