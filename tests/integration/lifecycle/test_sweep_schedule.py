"""When `idp worker` sweeps (issue 15.6): once in 24 hours, whichever worker comes first, from a
row of the lifecycle's own (`lifecycle_sweep_run`), not from the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.models import SweepRun
from idp.lifecycle.sweep import SWEEP_EVENT
from idp.services import Services
from tests.integration.lifecycle.conftest import idle_account, sweep_dry_run

# A database fault in the middle of a sweep: every UPDATE of an account fails.
_BREAK = {
    "sqlite": [
        "CREATE TRIGGER fail_sweep BEFORE UPDATE ON account BEGIN SELECT RAISE(ABORT, 'x'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION fail_sweep() RETURNS trigger AS $$"
        " BEGIN RAISE EXCEPTION 'x'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER fail_sweep BEFORE UPDATE ON account"
        " FOR EACH ROW EXECUTE FUNCTION fail_sweep()",
    ],
}
_REPAIR = {
    "sqlite": ["DROP TRIGGER IF EXISTS fail_sweep"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS fail_sweep ON account",
        "DROP FUNCTION IF EXISTS fail_sweep()",
    ],
}


def test_the_worker_sweeps_again_only_24_hours_after_the_last_sweep(
    services: Services, clock: FrozenClock
) -> None:
    first = services.lifecycle.sweep_if_due()
    clock.advance(hours=23, minutes=59)
    too_early = services.lifecycle.sweep_if_due()
    clock.advance(minutes=1)
    next_day = services.lifecycle.sweep_if_due()

    assert (first is not None, too_early, next_day is not None) == (True, None, True)
    assert db.session.execute(select(SweepRun.last_ran_at)).scalar_one() == clock.now()


def test_a_manual_sweep_counts_as_the_days_sweep(services: Services, clock: FrozenClock) -> None:
    services.lifecycle.sweep()
    clock.advance(hours=1)

    assert services.lifecycle.sweep_if_due() is None


def test_a_dry_run_does_not_count(app: Flask, services: Services) -> None:
    sweep_dry_run(app)

    assert services.lifecycle.sweep_if_due() is not None


def test_the_upgrade_starts_from_the_last_sweep_in_the_audit_log(
    app: Flask, services: Services, clock: FrozenClock
) -> None:
    swept_at = clock.now()
    db.session.remove()
    flask_migrate.downgrade(revision="0010")
    services.audit.record(SWEEP_EVENT, deleted=0, delete_warned=0, disabled=0, disable_warned=0)
    db.session.commit()
    db.session.remove()
    flask_migrate.upgrade()
    clock.advance(hours=1)

    assert services.lifecycle.sweep_if_due() is None
    assert db.session.execute(select(SweepRun.last_ran_at)).scalar_one() == swept_at


@pytest.fixture
def break_account_updates(app: Flask, db_kind: str) -> Iterator[Callable[[bool], None]]:
    """Call with True: every account update fails from now; with False: repaired."""

    def set_broken(is_broken: bool) -> None:
        with db.engine.begin() as connection:
            for statement in (_BREAK if is_broken else _REPAIR)[db_kind]:
                connection.execute(text(statement))

    yield set_broken
    set_broken(False)


def test_a_sweep_that_fails_leaves_the_day_to_the_next_try(
    services: Services, clock: FrozenClock, break_account_updates: Callable[[bool], None]
) -> None:
    idle_account(services, clock, 190)
    break_account_updates(True)
    with pytest.raises(DBAPIError):
        services.lifecycle.sweep_if_due()
    break_account_updates(False)

    report = services.lifecycle.sweep_if_due()

    assert report is not None
    assert report.disabled == 1
