"""Sign-in service: lockout (known and unknown names alike), rehash, activity, states."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from idp.accounts.models import AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.credentials.errors import (
    AccountDisabledError,
    AccountNotActiveError,
    AccountPendingEmailError,
    AccountProvisioningError,
    InvalidCredentialsError,
    SignInLockedError,
)
from idp.credentials.models import SignInThrottle
from idp.extensions import db
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, make_account


def _fail(services: Services, name: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            services.sign_in.sign_in(name, "wrong password, again")


@pytest.mark.parametrize("name", ["parentuser1", "nosuchuser1"], ids=["known", "unknown"])
def test_locks_sign_in_name_after_fifth_failure(services: Services, name: str) -> None:
    make_account(services, username="parentuser1")
    _fail(services, name, 5)

    with pytest.raises(SignInLockedError) as caught:
        services.sign_in.sign_in(name, DEFAULT_PASSWORD)

    assert caught.value.params == {"minutes": 1}


def test_lock_ends_after_the_policy_minutes(services: Services, clock: FrozenClock) -> None:
    make_account(services, username="parentuser1")
    _fail(services, "parentuser1", 5)
    clock.advance(minutes=1)

    account = services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)

    assert account.username == "parentuser1"


def _locked_minutes(services: Services, name: str) -> int:
    with pytest.raises(SignInLockedError) as caught:
        services.sign_in.sign_in(name, DEFAULT_PASSWORD)
    return int(caught.value.params["minutes"])


def test_each_further_lock_lasts_twice_as_long_up_to_the_cap(
    services: Services, clock: FrozenClock
) -> None:
    make_account(services, username="parentuser1")
    minutes = []
    for _ in range(6):
        _fail(services, "parentuser1", 5)
        minutes.append(_locked_minutes(services, "parentuser1"))
        clock.advance(minutes=minutes[-1])

    assert minutes == [1, 2, 4, 8, 15, 15]


def test_a_quiet_window_after_a_lock_starts_again_at_one_minute(
    services: Services, clock: FrozenClock
) -> None:
    make_account(services, username="parentuser1")
    for _ in range(3):
        _fail(services, "parentuser1", 5)
        clock.advance(minutes=_locked_minutes(services, "parentuser1"))
    clock.advance(minutes=16)
    _fail(services, "parentuser1", 5)

    assert _locked_minutes(services, "parentuser1") == 1


def test_four_failures_then_success_clears_the_counter(services: Services) -> None:
    make_account(services, username="parentuser1")
    _fail(services, "parentuser1", 4)

    services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)

    assert db.session.execute(select(SignInThrottle)).first() is None


def test_failures_outside_the_window_do_not_add_up(services: Services, clock: FrozenClock) -> None:
    make_account(services, username="parentuser1")
    _fail(services, "parentuser1", 4)
    clock.advance(minutes=16)
    _fail(services, "parentuser1", 1)

    account = services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)

    assert account.username == "parentuser1"


def test_throttle_table_holds_no_username_in_clear(services: Services) -> None:
    _fail(services, "secretname1", 1)

    digests = db.session.execute(select(SignInThrottle.name_digest)).scalars().all()

    assert len(digests) == 1
    assert "secretname1" not in digests[0]


def test_success_records_activity_and_audits(services: Services, clock: FrozenClock) -> None:
    account = make_account(services, username="parentuser1")

    services.sign_in.sign_in("PARENTUSER1", DEFAULT_PASSWORD)

    events = db.session.execute(select(AuditEvent.event, AuditEvent.subject_account_id)).all()
    assert account.last_activity_at == clock.now()
    assert ("credentials:sign_in:succeeded", account.id) in events


def test_weak_old_hash_is_upgraded_at_sign_in(services: Services) -> None:
    account = make_account(services, username="parentuser1")
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(DEFAULT_PASSWORD)
    db.session.commit()

    services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)

    db.session.expire_all()
    assert account.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "error"),
    [
        (AccountState.PENDING_EMAIL, AccountPendingEmailError),
        (AccountState.PROVISIONING, AccountProvisioningError),
        (AccountState.DISABLED, AccountDisabledError),
    ],
)
def test_state_is_told_only_after_the_right_password(
    services: Services, state: AccountState, error: type[Exception]
) -> None:
    make_account(services, username="parentuser1", state=state)

    with pytest.raises(InvalidCredentialsError):
        services.sign_in.sign_in("parentuser1", "wrong password, again")
    with pytest.raises(error):
        services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)


@pytest.mark.parametrize("state", [AccountState.CANCELLED, AccountState.DELETED])
def test_cancelled_and_deleted_accounts_cannot_sign_in(
    services: Services, state: AccountState
) -> None:
    make_account(services, username="parentuser1", state=state)

    with pytest.raises(AccountNotActiveError) as caught:
        services.sign_in.sign_in("parentuser1", DEFAULT_PASSWORD)

    assert caught.value.code == "account_not_active"
