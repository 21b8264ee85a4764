"""Accounts idle for a chosen number of days, for the lifecycle tests."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from idp.accounts.models import Account, AccountKind
from idp.clock import FrozenClock
from idp.extensions import db
from idp.lifecycle.sweep import SweepReport
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.builders import make_account
from tests.conftest import unit_of_work


def idle_account(
    services: Services,
    clock: FrozenClock,
    idle_days: float,
    username: str = "parentuser1",
    kind: AccountKind = AccountKind.GUARDIAN,
) -> Account:
    """An active account whose last activity was `idle_days` before the clock's now."""
    email = None if kind == AccountKind.STUDENT else f"{username}@example.org"
    account = make_account(services, username, email, kind=kind)
    account.last_activity_at = clock.now() - timedelta(days=idle_days)
    account.created_at = account.last_activity_at
    db.session.commit()
    return account


def messages(template: str, account: Account | None = None) -> int:
    """How many outbox rows of this template (for this account) exist."""
    query = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == template)
    )
    if account is not None:
        query = query.where(OutboxMessage.account_id == account.id)
    return int(db.session.execute(query).scalar_one())


def state_of(account: Account) -> str:
    """The account's state as the database has it now."""
    db.session.expire_all()
    return str(
        db.session.execute(select(Account.state).where(Account.id == account.id)).scalar_one()
    )


def sweep_dry_run(app: Flask) -> SweepReport:
    """As `idp lifecycle sweep --dry-run` does: sweep in one unit of work, count, roll back."""
    work = unit_of_work(app)
    with work():
        report: SweepReport = app.extensions["idp.services"].lifecycle.sweep()
        work.rollback()
    return report
