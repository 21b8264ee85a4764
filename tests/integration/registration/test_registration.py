"""Registration step 2, email confirmation, resend, provisioning, removal, username reminder."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.accounts.errors import EmailInUseError, UsernameInvalidError, UsernameTakenError
from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.errors import PasswordContainsUsernameError, PasswordTooShortError
from idp.errors import DomainError
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.registration import errors
from idp.registration.messages import VERIFY_PURPOSE
from idp.registration.models import ActivationKey
from idp.registration.service import NewRegistration
from idp.services import Services
from tests.builders import make_account
from tests.integration.registration.conftest import STRONG_PASSWORD, Family, issue_key


def _register(
    services: Services,
    key_id: int,
    username: str = "MariaLee2026",
    email: str = "maria.lee@example.org",
    password: str = STRONG_PASSWORD,
) -> Account:
    return services.registration.register(
        NewRegistration(key_id, username, password, email, locale="es")
    )


def _count(model: type) -> int:
    return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def _outbox(template: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.template == template)
    return list(db.session.execute(query.order_by(OutboxMessage.id)).scalars())


@pytest.fixture
def key_id(services: Services, family: Family) -> int:
    issued = issue_key(services, family)
    return services.registration.check_key(family.guardian.sis_person_id, issued.key)


def test_registration_creates_a_pending_account_and_queues_the_confirmation(
    services: Services, family: Family, key_id: int
) -> None:
    account = _register(services, key_id)

    key = db.session.get(ActivationKey, key_id)
    assert (account.state, account.person_id, account.locale) == (
        "pending_email",
        family.guardian.id,
        "es",
    )
    assert key is not None
    assert key.used_by_account_id == account.id
    assert [(m.recipient, m.account_id) for m in _outbox("verify_email")] == [
        ("maria.lee@example.org", account.id)
    ]
    assert STRONG_PASSWORD not in (account.password_hash or "")


def _taken_username(services: Services) -> dict[str, str]:
    make_account(services, username="marialee2026", email="someone@example.org")
    return {"username": "MariaLee2026"}


def _email_in_use(services: Services) -> dict[str, str]:
    make_account(services, username="someoneelse1", email="Maria.Lee@Example.org")
    return {"email": "maria.lee@example.org"}


@pytest.mark.parametrize(
    ("arrange", "error"),
    [
        (_taken_username, UsernameTakenError),
        (_email_in_use, EmailInUseError),
        (lambda services: {"username": "short"}, UsernameInvalidError),
        (lambda services: {"username": "maria_lee_2026"}, UsernameInvalidError),
        (lambda services: {"password": "too short"}, PasswordTooShortError),
        (lambda services: {"password": "MariaLee2026 forever!"}, PasswordContainsUsernameError),
    ],
    ids=[
        "username-taken",
        "email-in-use",
        "username-short",
        "username-symbol",
        "pw-short",
        "pw-user",
    ],
)
def test_a_refused_registration_creates_nothing(
    services: Services, key_id: int, arrange: object, error: type[DomainError]
) -> None:
    overrides = arrange(services)  # type: ignore[operator]
    accounts_before = _count(Account)

    with pytest.raises(error):
        _register(services, key_id, **overrides)

    key = db.session.get(ActivationKey, key_id)
    assert _count(Account) == accounts_before
    assert key is not None
    assert key.used_at is None
    assert _outbox("verify_email") == []


def test_email_of_a_cancelled_account_can_register_again(services: Services, key_id: int) -> None:
    old = make_account(services, username="oldaccount1", email="maria.lee@example.org")
    old.state = AccountState.CANCELLED
    db.session.commit()

    account = _register(services, key_id)

    assert account.email == "maria.lee@example.org"


def test_registering_again_with_the_key_replaces_an_unconfirmed_registration(
    services: Services, key_id: int
) -> None:
    first = _register(services, key_id, email="typo@exmaple.org")

    second = _register(services, key_id, email="maria.lee@example.org")

    db.session.refresh(first)
    assert (first.state, first.username, first.email) == ("removed", None, None)
    assert second.state == "pending_email"


def test_key_of_a_confirmed_registration_cannot_be_used_again(
    services: Services, family: Family
) -> None:
    issued = issue_key(services, family)
    key_id = services.registration.check_key(family.guardian.sis_person_id, issued.key)
    account = _register(services, key_id)
    services.registration.verify_email(services.links.make(account.id, VERIFY_PURPOSE))

    with pytest.raises(errors.InvalidActivationError):
        services.registration.check_key(family.guardian.sis_person_id, issued.key)


def test_confirmation_link_moves_the_account_to_provisioning(
    services: Services, key_id: int, clock: FrozenClock
) -> None:
    account = _register(services, key_id)
    clock.advance(hours=47)

    services.registration.verify_email(services.links.make(account.id, VERIFY_PURPOSE))

    db.session.refresh(account)
    assert (account.state, account.email_verified_at) == ("provisioning", clock.now())


def test_confirmation_link_works_once(services: Services, key_id: int) -> None:
    account = _register(services, key_id)
    token = services.links.make(account.id, VERIFY_PURPOSE)
    services.registration.verify_email(token)

    with pytest.raises(errors.LinkUsedError):
        services.registration.verify_email(token)


def test_expired_link_is_refused_and_names_its_account(
    services: Services, key_id: int, clock: FrozenClock
) -> None:
    account = _register(services, key_id)
    token = services.links.make(account.id, VERIFY_PURPOSE)
    clock.advance(hours=48, seconds=1)

    with pytest.raises(errors.LinkExpiredError) as raised:
        services.registration.verify_email(token)

    db.session.refresh(account)
    assert raised.value.account_id == account.id
    assert account.state == "pending_email"


@pytest.mark.parametrize(
    "tamper",
    [lambda token: token[:-2] + "xx", lambda token: "not-a-token"],
    ids=["altered", "garbage"],
)
def test_altered_link_is_invalid(services: Services, key_id: int, tamper: object) -> None:
    account = _register(services, key_id)
    token = services.links.make(account.id, VERIFY_PURPOSE)

    with pytest.raises(errors.LinkInvalidError):
        services.registration.verify_email(tamper(token))  # type: ignore[operator]


def test_link_made_for_another_purpose_is_invalid(services: Services, key_id: int) -> None:
    account = _register(services, key_id)

    with pytest.raises(errors.LinkInvalidError):
        services.registration.verify_email(services.links.make(account.id, "reset_password"))


def test_resend_waits_a_minute_then_queues_a_new_link(
    services: Services, key_id: int, clock: FrozenClock
) -> None:
    account = _register(services, key_id)
    with pytest.raises(errors.ResendTooSoonError):
        services.registration.resend_verification(account.id)
    clock.advance(seconds=61)

    services.registration.resend_verification(account.id)

    assert len(_outbox("verify_email")) == 2


def test_nothing_to_resend_once_confirmed(services: Services, key_id: int) -> None:
    account = _register(services, key_id)
    services.registration.verify_email(services.links.make(account.id, VERIFY_PURPOSE))

    with pytest.raises(errors.NothingToResendError):
        services.registration.resend_verification(account.id)


def test_provisioning_activates_and_queues_account_ready(services: Services, key_id: int) -> None:
    account = _register(services, key_id)
    services.registration.verify_email(services.links.make(account.id, VERIFY_PURPOSE))

    first, second = services.provisioning.provision_next(), services.provisioning.provision_next()

    db.session.refresh(account)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "registration:account:provisioned")
    ).scalar_one()
    assert (first, second, account.state) == (True, False, "active")
    assert [m.account_id for m in _outbox("account_ready")] == [account.id]
    assert event.data == {"student_count": 1}


def test_unconfirmed_registration_is_removed_after_link_lifetime_and_grace(
    services: Services, key_id: int, clock: FrozenClock
) -> None:
    account = _register(services, key_id)
    clock.advance(hours=48 + 7 * 24 - 1)
    assert services.lifecycle.remove_unconfirmed() == 0
    clock.advance(hours=2)

    removed = services.lifecycle.remove_unconfirmed()

    db.session.refresh(account)
    key = db.session.get(ActivationKey, key_id)
    assert (removed, account.state, account.username, account.email) == (1, "removed", None, None)
    assert key is not None
    assert key.used_at is None


def test_removed_registration_frees_username_and_email(
    services: Services, family: Family, key_id: int, clock: FrozenClock
) -> None:
    _register(services, key_id)
    clock.advance(days=10)
    services.lifecycle.remove_unconfirmed()

    again = _register(services, key_id)

    assert (again.username, again.email) == ("MariaLee2026", "maria.lee@example.org")


@pytest.mark.parametrize("email", ["maria.lee@example.org", "nobody@example.org"])
def test_username_reminder_queues_the_same_whether_or_not_the_email_is_known(
    services: Services, key_id: int, email: str
) -> None:
    _register(services, key_id)

    services.registration.request_username_reminder(email, "en")

    assert [m.recipient for m in _outbox("username_reminder")] == [email]


def test_username_reminder_is_prepared_only_for_a_known_email(
    services: Services, key_id: int
) -> None:
    _register(services, key_id)
    services.registration.request_username_reminder("MARIA.LEE@example.org", "en")
    services.registration.request_username_reminder("nobody@example.org", "en")
    known, unknown = _outbox("username_reminder")

    prepare = services.registration_messages.prepare_username_reminder

    assert prepare(known)["username"] == "MariaLee2026"  # type: ignore[index]
    assert prepare(unknown) is None


def test_username_reminder_is_sent_at_most_once_in_ten_minutes(
    services: Services, key_id: int, clock: FrozenClock
) -> None:
    _register(services, key_id)
    for _ in range(2):
        services.registration.request_username_reminder("maria.lee@example.org", "en")
    first, second = _outbox("username_reminder")
    prepare = services.registration_messages.prepare_username_reminder
    assert prepare(first) is not None
    db.session.commit()
    assert prepare(second) is None
    clock.advance(minutes=11)

    again = prepare(second)

    assert again is not None
