"""Two workers creating the same account at once (PostgreSQL, two real connections)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts.errors import EmailInUseError, UsernameTakenError
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.clock import FrozenClock
from idp.errors import DomainError
from idp.extensions import db
from tests.races import wait_until, waiting_on_locks

pytestmark = pytest.mark.postgresql_only


def _service(app: Flask, session: Session, clock: FrozenClock) -> AccountService:
    policy = app.extensions["idp.policies"].accounts
    return AccountService(session, clock, policy, AuditLog(session, clock))


def _race(app: Flask, clock: FrozenClock, first: NewAccount, second: NewAccount) -> object:
    """First inserts and holds its transaction; second inserts and blocks; first commits."""
    outcome: dict[str, object] = {}
    with Session(db.engine) as winner_session, Session(db.engine) as loser_session:
        _service(app, winner_session, clock).create(first)  # flushed, not committed

        def lose() -> None:
            try:
                _service(app, loser_session, clock).create(second)
                loser_session.commit()
                outcome["result"] = "created"
            except DomainError as error:
                loser_session.rollback()
                outcome["result"] = error

        thread = threading.Thread(target=lose)
        thread.start()
        wait_until(lambda: waiting_on_locks() >= 1)
        winner_session.commit()
        thread.join(timeout=30)
    return outcome["result"]


def _guardian(username: str, email: str) -> NewAccount:
    return NewAccount(
        kind=AccountKind.GUARDIAN, state=AccountState.ACTIVE, username=username, email=email
    )


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (
            _guardian("RaceParent1", "one@example.org"),
            _guardian("raceparent1", "two@example.org"),
            UsernameTakenError,
        ),
        (
            _guardian("RaceParent1", "Same@example.org"),
            _guardian("RaceParent2", "same@EXAMPLE.org"),
            EmailInUseError,
        ),
    ],
    ids=["username-differing-in-case", "email-differing-in-case"],
)
def test_exactly_one_of_two_concurrent_creations_wins(
    app: Flask,
    clock: FrozenClock,
    first: NewAccount,
    second: NewAccount,
    expected: type[DomainError],
) -> None:
    result = _race(app, clock, first, second)

    count = db.session.execute(select(func.count()).select_from(Account)).scalar_one()
    assert isinstance(result, expected)
    assert count == 1
