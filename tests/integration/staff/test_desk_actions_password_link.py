"""A staff account's link to choose its first password, sent again (send_set_password_link;
`idp staff send-password-link --username U`): the first link lasts lifecycle.toml
email_link_hours, and forgot-password needs security questions that a new staff account has
none of. Only an active staff account still without a password gets it, from a district
admin (manage_staff) or the trusted command line; one staff:set_password_link:sent event."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import Result
from flask import Flask
from flask_babel import LazyString, force_locale
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.cli import main
from idp.clock import FrozenClock
from idp.errors import DomainError
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.recovery.errors import SetPasswordLinkExpiredError
from idp.services import Services
from idp.staff import errors, policy_errors
from tests.integration.staff.test_desk_actions import Desk, build_desk, events

PASSWORD = "a long staff pass phrase"
EVENT = "staff:set_password_link:sent"


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """The school's desk of test_desk_actions.py."""
    return build_desk(services)


@pytest.fixture
def new_staff(services: Services, desk: Desk) -> Account:
    """newclerk1, created by the command line, whose first link is emailed."""
    return services.staff.create_staff_account("newclerk1", "clerk1@school.example", None)


def _messages(account: Account) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.account_id == account.id)
    return list(db.session.execute(query.order_by(OutboxMessage.id)).scalars())


def _link_token(services: Services, message: OutboxMessage) -> str:
    """The token of the link the queued email carries, made as the mailer makes it (then)."""
    context = services.recovery_messages.prepare_set_password(message)
    assert context is not None
    return parse_qs(urlsplit(context["set_password_url"]).query)["token"][0]


def _send_password_link(app: Flask, username: str) -> Result:
    arguments = ["staff", "send-password-link", "--username", username]
    return app.test_cli_runner().invoke(main, arguments)


def test_a_link_sent_again_chooses_the_password_after_the_first_expired(
    services: Services, clock: FrozenClock, new_staff: Account
) -> None:
    first = _link_token(services, _messages(new_staff)[0])
    clock.advance(hours=services.policies.lifecycle.registration.email_link_hours, seconds=1)
    with pytest.raises(SetPasswordLinkExpiredError):
        services.recovery.open_set_password_link(first)

    services.staff.send_set_password_link("NewClerk1", None)
    services.recovery.set_first_password(_link_token(services, _messages(new_staff)[1]), PASSWORD)

    assert services.sign_in.sign_in("newclerk1", PASSWORD).id == new_staff.id


def test_the_link_sent_again_is_the_staff_set_password_email(
    services: Services, new_staff: Account
) -> None:
    services.staff.send_set_password_link("newclerk1", None)

    [_, message] = _messages(new_staff)
    assert (message.template, message.recipient) == ("staff_set_password", new_staff.email)


def test_the_command_line_sends_the_link_as_nobody(app: Flask, new_staff: Account) -> None:
    result = _send_password_link(app, "NewClerk1")

    assert result.exit_code == 0, result.output
    assert result.output == "the link to choose a password is emailed to staff account newclerk1\n"
    [event] = events(EVENT)
    assert (event.actor_account_id, event.subject_account_id) == (None, new_staff.id)
    assert event.data == {"via": "command line"}


def test_a_district_admin_sends_the_link(
    services: Services, desk: Desk, new_staff: Account
) -> None:
    services.staff.send_set_password_link("newclerk1", "districtadmin1")

    [event] = events(EVENT)
    assert (event.actor_account_id, event.subject_account_id) == (
        desk.staff["districtadmin1"].id,
        new_staff.id,
    )
    assert event.data == {}


@pytest.mark.parametrize("acting", ["schooladmin1", "secretary1", "nobody99"])
def test_the_link_sent_by_anyone_but_a_district_admin_is_refused(
    services: Services, new_staff: Account, acting: str
) -> None:
    with pytest.raises(policy_errors.StaffManagementNotAllowedError):
        services.staff.send_set_password_link("newclerk1", acting)

    assert len(_messages(new_staff)) == 1
    assert events(EVENT) == []


def test_a_staff_account_with_a_password_gets_no_link(services: Services, desk: Desk) -> None:
    with pytest.raises(errors.StaffPasswordAlreadySetError) as caught:
        services.staff.send_set_password_link("secretary1", None)

    assert isinstance(caught.value.message, LazyString)  # translated: rendered per locale
    with force_locale("en"):
        assert caught.value.render().startswith("This staff account already has a password")
    assert _messages(desk.staff["secretary1"]) == []
    assert events(EVENT) == []


def test_a_staff_account_with_a_password_exits_1(app: Flask, desk: Desk) -> None:
    result = _send_password_link(app, "secretary1")

    assert result.exit_code == 1
    assert "idp: staff_password_already_set: This staff account already has a password" in (
        result.output
    )
    assert events(EVENT) == []


@pytest.mark.parametrize("state", [AccountState.DISABLED, AccountState.CANCELLED])
def test_an_inactive_staff_account_gets_no_link(
    services: Services, new_staff: Account, state: AccountState
) -> None:
    new_staff.state = state

    with pytest.raises(errors.StaffAccountCannotGetLinkError):
        services.staff.send_set_password_link("newclerk1", None)

    assert len(_messages(new_staff)) == 1
    assert events(EVENT) == []


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("parentuser1", policy_errors.NotAStaffAccountError),
        ("nobody99", policy_errors.StaffAccountNotFoundError),
    ],
)
def test_a_guardian_or_an_unknown_username_gets_no_link(
    services: Services, desk: Desk, username: str, refusal: type[DomainError]
) -> None:
    with pytest.raises(refusal):
        services.staff.send_set_password_link(username, None)

    assert db.session.execute(select(OutboxMessage)).first() is None
    assert events(EVENT) == []
