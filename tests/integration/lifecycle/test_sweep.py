"""`LifecycleService.sweep`: warnings, disabling and deletion as of a time, in set-based SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.service import AuditLog
from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.purge import AccountPurge
from idp.lifecycle.sweep import (
    DELETE_WARNING,
    DISABLE_WARNING,
    InactivitySweep,
    SweepDeps,
    SweepReport,
)
from idp.oidc.models import OAuthToken, SsoSession
from idp.services import Services
from tests.builders import make_account
from tests.integration.lifecycle.conftest import idle_account, messages, state_of, sweep_dry_run

# lifecycle.toml: disable after 183 days (warned 14 before), delete after 396 (warned 30 before).


def test_account_idle_169_days_is_warned_once_before_disabling(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 169)

    first = services.lifecycle.sweep()
    second = services.lifecycle.sweep()

    assert (first.disable_warned, second.disable_warned) == (1, 0)
    assert messages(DISABLE_WARNING, account) == 1
    assert state_of(account) == AccountState.ACTIVE


def test_account_idle_168_days_is_not_warned_yet(services: Services, clock: FrozenClock) -> None:
    account = idle_account(services, clock, 168.9)

    report = services.lifecycle.sweep()

    assert report == SweepReport(0, 0, 0, 0, 0)
    assert messages(DISABLE_WARNING, account) == 0


def test_account_idle_183_days_is_disabled_and_its_tokens_and_sessions_end(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 183)
    services.sso.start(account.id, amr=["pwd"], acr=None)
    db.session.commit()

    report = services.lifecycle.sweep()

    assert report.disabled == 1
    assert state_of(account) == AccountState.DISABLED
    assert db.session.execute(select(SsoSession.ended_at)).scalar_one() == clock.now()
    live = select(OAuthToken).where(OAuthToken.revoked_at.is_(None))
    assert db.session.execute(live).first() is None


def test_a_disabled_account_is_warned_before_deletion_and_deleted_30_days_later(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 366)

    warned = services.lifecycle.sweep()
    clock.advance(days=29)
    too_early = services.lifecycle.sweep()
    clock.advance(days=1)
    deleted = services.lifecycle.sweep()

    assert (warned.disabled, warned.delete_warned, warned.deleted) == (1, 1, 0)
    assert too_early.deleted == 0
    assert deleted.deleted == 1
    assert state_of(account) == AccountState.DELETED


def test_an_account_never_warned_is_warned_first_even_when_long_overdue(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 500)

    report = services.lifecycle.sweep()

    assert (report.deleted, report.delete_warned, report.disabled) == (0, 1, 1)
    assert state_of(account) == AccountState.DISABLED


def test_a_warning_from_an_earlier_idle_period_does_not_count(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 170)
    services.lifecycle.sweep()
    account.last_activity_at = clock.now()  # signed in after the warning
    db.session.commit()
    clock.advance(days=170)

    report = services.lifecycle.sweep()

    assert report.disable_warned == 1
    assert messages(DISABLE_WARNING, account) == 2


def test_sweep_is_idempotent_for_the_same_as_of(services: Services, clock: FrozenClock) -> None:
    for index, days in enumerate((10, 170, 190, 370, 400)):
        idle_account(services, clock, days, f"parentuser{index}")
    as_of = clock.now()

    first = services.lifecycle.sweep(as_of)
    second = services.lifecycle.sweep(as_of)

    assert first == SweepReport(0, 2, 3, 1, 0)
    assert second == SweepReport(0, 0, 0, 0, 0)


def test_dry_run_counts_and_changes_nothing(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 190)

    report = sweep_dry_run(app)

    assert report.disabled == 1
    assert state_of(account) == AccountState.ACTIVE
    assert services.lifecycle.sweep().disabled == 1


def test_staff_accounts_are_never_swept(services: Services, clock: FrozenClock) -> None:
    staff = idle_account(services, clock, 500, "secretary1", AccountKind.STAFF)

    report = services.lifecycle.sweep()

    assert report == SweepReport(0, 0, 0, 0, 0)
    assert state_of(staff) == AccountState.ACTIVE


def test_students_are_swept_but_get_no_email(services: Services, clock: FrozenClock) -> None:
    student = idle_account(services, clock, 190, "student0001", AccountKind.STUDENT)

    report = services.lifecycle.sweep()

    assert report.disabled == 1
    assert state_of(student) == AccountState.DISABLED
    assert messages(DISABLE_WARNING) + messages(DELETE_WARNING) == 0


def test_policy_may_exempt_students(app: Flask, services: Services, clock: FrozenClock) -> None:
    student = idle_account(services, clock, 190, "student0001", AccountKind.STUDENT)
    policy = replace(services.policies.lifecycle.inactivity, is_student_exempt=True)
    end_access_many = app.extensions["idp.logout"].end_access_many
    purge = AccountPurge(db.session, services.policies.accounts.usernames, end_access_many)
    deps = SweepDeps(AuditLog(db.session, clock), services.outbox, end_access_many)
    sweep = InactivitySweep(db.session, policy, purge, deps)

    report = sweep.run(clock.now())
    db.session.commit()

    assert report.disabled == 0
    assert state_of(student) == AccountState.ACTIVE


def test_a_recently_used_account_is_left_alone(services: Services, clock: FrozenClock) -> None:
    account = make_account(services)
    account.last_activity_at = clock.now() - timedelta(days=1)
    account.created_at = clock.now() - timedelta(days=900)
    db.session.commit()

    assert services.lifecycle.sweep() == SweepReport(0, 0, 0, 0, 0)


def test_an_account_never_used_counts_from_its_creation(
    services: Services, clock: FrozenClock
) -> None:
    account = make_account(services)
    account.last_activity_at = None
    account.created_at = clock.now() - timedelta(days=200)
    db.session.commit()

    assert services.lifecycle.sweep().disabled == 1


@pytest.mark.parametrize("state", [AccountState.CANCELLED, AccountState.PENDING_EMAIL])
def test_accounts_in_other_states_are_not_swept(
    services: Services, clock: FrozenClock, state: AccountState
) -> None:
    account = idle_account(services, clock, 10)
    db.session.execute(
        Account.__table__.update()
        .where(Account.id == account.id)
        .values(state=state, state_changed_at=clock.now())
    )
    db.session.commit()
    clock.advance(days=500)

    report = services.lifecycle.sweep()

    assert (report.deleted, report.disabled, report.delete_warned) == (0, 0, 0)
