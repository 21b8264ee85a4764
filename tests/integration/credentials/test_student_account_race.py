"""Two first sign-ins of one student at once (two tabs, two workers): one account, both in."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.clock import FrozenClock
from idp.credentials.hashing import SecretHasher
from idp.credentials.students import (
    StudentCredentials,
    StudentSignInService,
    StudentSignInSetup,
)
from idp.extensions import db
from idp.roster.models import Person
from tests.builders import enroll, make_person, make_school
from tests.races import wait_until, waiting_on_locks

pytestmark = pytest.mark.postgresql_only
BORN = date(2013, 1, 2)


def _accounts(app: Flask, session: Session, clock: FrozenClock) -> AccountService:
    return AccountService(
        session, clock, app.extensions["idp.policies"].accounts, AuditLog(session, clock)
    )


def _student_sign_in(app: Flask, session: Session, clock: FrozenClock) -> StudentSignInService:
    policies = app.extensions["idp.policies"]
    setup = StudentSignInSetup(
        policy=policies.accounts.students,
        rollout=policies.rollout,
        passwords=policies.credentials.passwords,
        hasher=SecretHasher(policies.credentials.hashing),
        name_key=app.config["SECRET_KEY"].encode(),
    )
    audit = AuditLog(session, clock)
    return StudentSignInService(session, clock, setup, _accounts(app, session, clock), audit)


@pytest.fixture
def student(app: Flask) -> Person:
    """S-8001 at Lakeview Elementary (open)."""
    person = make_person("student", BORN, sis_person_id="S-8001")
    enroll(person, make_school("DEMO-ES1", "Lakeview Elementary"), "05")
    db.session.commit()
    return person


def test_second_first_sign_in_uses_the_account_the_first_made(
    app: Flask, clock: FrozenClock, student: Person
) -> None:
    outcome: dict[str, object] = {}
    with Session(db.engine) as first, Session(db.engine) as second:
        winner = _accounts(app, first, clock).create(
            NewAccount(AccountKind.STUDENT, AccountState.ACTIVE, person_id=student.id)
        )  # flushed, not committed: the other sign-in's insert waits on the unique index

        def sign_in() -> None:
            service = _student_sign_in(app, second, clock)
            account = service.sign_in(StudentCredentials("S-8001", birth_date=BORN))
            outcome["account_id"] = account.id

        thread = threading.Thread(target=sign_in)
        thread.start()
        wait_until(lambda: waiting_on_locks() >= 1)
        first.commit()
        thread.join(timeout=30)
        winner_id = winner.id

    count = select(func.count(Account.id)).where(Account.person_id == student.id)
    assert outcome == {"account_id": winner_id}
    assert db.session.execute(count).scalar_one() == 1
