"""Two sweeps at once on PostgreSQL (real connections): every transition happens once, every
warning is queued once. A third connection holds one due row locked until both sweeps wait.
Two workers asking for the daily sweep at once: one sweeps, the other moves on at once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.sweep import DISABLE_WARNING, SWEEP_EVENT, SweepReport
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.conftest import unit_of_work
from tests.integration.lifecycle.conftest import idle_account
from tests.races import wait_until, waiting_on_locks

pytestmark = pytest.mark.postgresql_only


def test_two_concurrent_sweeps_move_each_account_once(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    warned = [idle_account(services, clock, 170, f"warnuser{n:02d}") for n in range(5)]
    disabled = [idle_account(services, clock, 190, f"idleuser{n:02d}") for n in range(5)]
    as_of = clock.now()
    reports: list[SweepReport] = []
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            with app.app_context(), unit_of_work(app)():  # as `idp lifecycle sweep` does
                reports.append(app.extensions["idp.services"].lifecycle.sweep(as_of))
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    with db.engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM account WHERE id = :id FOR UPDATE"), {"id": disabled[0].id}
        )
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_until(lambda: waiting_on_locks() >= 2)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sum(report.disabled for report in reports) == len(disabled)
    assert sum(report.disable_warned for report in reports) == len(warned)
    db.session.expire_all()
    states = select(Account.state, func.count()).group_by(Account.state)
    assert dict(db.session.execute(states).all()) == {
        AccountState.ACTIVE: len(warned),
        AccountState.DISABLED: len(disabled),
    }
    per_account = (
        select(OutboxMessage.account_id, func.count())
        .where(OutboxMessage.template == DISABLE_WARNING)
        .group_by(OutboxMessage.account_id)
    )
    assert sorted(count for _, count in db.session.execute(per_account)) == [1] * len(warned)


def test_two_workers_asking_at_once_sweep_once(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 190)
    reports: dict[str, SweepReport | None] = {}
    failures: list[BaseException] = []

    def ask(worker: str) -> None:
        try:
            with app.app_context(), unit_of_work(app)():  # as `idp worker` does
                reports[worker] = app.extensions["idp.services"].lifecycle.sweep_if_due()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    first = threading.Thread(target=ask, args=("first",))
    second = threading.Thread(target=ask, args=("second",))
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM account WHERE id = :id FOR UPDATE"), {"id": account.id})
        first.start()
        wait_until(lambda: waiting_on_locks() >= 1)  # the first has claimed the day and sweeps
        second.start()
        second.join(timeout=10)
        is_second_done_while_first_sweeps = not second.is_alive()
        holder.rollback()
    for thread in (first, second):
        thread.join(timeout=60)

    assert failures == []
    assert is_second_done_while_first_sweeps
    assert reports["second"] is None
    assert reports["first"] is not None
    assert reports["first"].disabled == 1
    runs = select(func.count()).where(AuditEvent.event == SWEEP_EVENT)
    assert db.session.execute(runs).scalar_one() == 1
