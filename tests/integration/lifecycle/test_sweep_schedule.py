"""When `idp worker` sweeps (issue 15.6): once in 24 hours, whichever worker comes first, from a
row of the lifecycle's own (`lifecycle_sweep_run`), not from the audit log."""

from __future__ import annotations

import flask_migrate
from flask import Flask
from sqlalchemy import select

from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.models import SweepRun
from idp.lifecycle.sweep import SWEEP_EVENT
from idp.services import Services


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


def test_a_dry_run_does_not_count(services: Services) -> None:
    services.lifecycle.sweep(dry_run=True)

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
