"""`idp lifecycle sweep [--as-of DATE] [--dry-run]` and the worker's daily sweep."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import AccountState
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.sweep import SWEEP_EVENT
from idp.services import Services
from tests.integration.lifecycle.conftest import idle_account, state_of


def test_sweep_a_year_ahead_disables_and_prints_counts(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 0)
    runner = app.test_cli_runner()
    as_of = (clock.now().date().replace(year=clock.now().year + 1)).isoformat()

    dry = runner.invoke(main, ["lifecycle", "sweep", "--as-of", as_of, "--dry-run"])
    assert state_of(account) == AccountState.ACTIVE
    real = runner.invoke(main, ["lifecycle", "sweep", "--as-of", as_of])

    line = "deleted 0, delete warnings 0, disabled 1, disable warnings 0, unconfirmed removed 0"
    assert dry.output.strip() == f"dry run (nothing changed): {line}"
    assert real.output.strip() == line
    assert state_of(account) == AccountState.DISABLED


def test_sweep_rejects_a_date_it_cannot_read(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["lifecycle", "sweep", "--as-of", "1/05/2027"])

    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_worker_sweeps_once_a_day(app: Flask, services: Services, clock: FrozenClock) -> None:
    runner = app.test_cli_runner()

    runner.invoke(main, ["worker", "--once"])
    clock.advance(hours=23)
    runner.invoke(main, ["worker", "--once"])
    clock.advance(hours=2)
    runner.invoke(main, ["worker", "--once"])

    count = select(func.count()).where(AuditEvent.event == SWEEP_EVENT)
    assert db.session.execute(count).scalar_one() == 2
