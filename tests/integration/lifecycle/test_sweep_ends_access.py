"""The sweep and the deletion purge end access through the one path (DESIGN.md 7, issue 15.4):
the apps an account's live SSO sessions signed in to are queued a back-channel logout token,
and each account gets one `oidc:access:ended` event with the reason, in set-based statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.clock import FrozenClock
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.oidc.logout import BACKCHANNEL_TEMPLATE
from idp.oidc.models import SsoSession
from idp.services import Services
from tests.integration.lifecycle.conftest import idle_account, state_of
from tests.integration.oidc.conftest import registered_clients  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("registered_clients")

GRADES_BACKCHANNEL = "http://127.0.0.1:5001/backchannel-logout"  # clients/grades.toml


def _signed_in_to(services: Services, account: Account, *client_ids: str) -> str:
    """A live SSO session of the account that signed in to these apps; its sid."""
    started = services.sso.start(account.id, amr=["pwd"])
    sso = db.session.get(SsoSession, started.id)
    assert sso is not None
    for client_id in client_ids:
        services.sso.record_client(sso, client_id)
    db.session.commit()
    return started.sid


def _backchannel(account: Account) -> list[tuple[str, dict[str, Any]]]:
    rows = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.context)
        .where(
            OutboxMessage.template == BACKCHANNEL_TEMPLATE,
            OutboxMessage.account_id == account.id,
            OutboxMessage.status == "pending",
        )
        .order_by(OutboxMessage.id)
    )
    return [(row.recipient, row.context) for row in rows]


def _access_ended(account: Account) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(AuditEvent.data).where(
            AuditEvent.event == "oidc:access:ended", AuditEvent.subject_account_id == account.id
        )
    )
    return list(rows.scalars())


def test_disabling_an_idle_guardian_tells_the_apps_it_signed_in_to(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 190)
    sid = _signed_in_to(services, account, "grades", "library")  # library: no back-channel

    report = services.lifecycle.sweep()

    assert report.disabled == 1
    context = {"client_id": "grades", "sub": account.sub, "sid": sid}
    assert _backchannel(account) == [(GRADES_BACKCHANNEL, context)]
    assert _access_ended(account) == [
        {"reason": "inactivity_disabled", "student_id": None, "clients": 2}
    ]


def test_deleting_an_account_tells_the_apps_and_keeps_the_message_through_the_purge(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 400)
    account.delete_warned_at = clock.now() - timedelta(days=31)  # warned in this idle period
    db.session.commit()
    sid = _signed_in_to(services, account, "grades")

    report = services.lifecycle.sweep()

    assert report.deleted == 1
    assert state_of(account) == AccountState.DELETED
    context = {"client_id": "grades", "sub": account.sub, "sid": sid}
    assert _backchannel(account) == [(GRADES_BACKCHANNEL, context)]
    assert _access_ended(account) == [{"reason": "deleted", "student_id": None, "clients": 1}]


def test_an_account_without_a_live_session_gets_the_event_and_no_message(
    services: Services, clock: FrozenClock
) -> None:
    account = idle_account(services, clock, 190)
    _signed_in_to(services, account, "grades")
    clock.advance(days=2)  # the SSO session has passed its absolute lifetime

    services.lifecycle.sweep()

    assert _backchannel(account) == []
    assert _access_ended(account) == [
        {"reason": "inactivity_disabled", "student_id": None, "clients": 0}
    ]


def test_access_ends_for_every_account_across_chunk_boundaries(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("idp.batches.CHUNK", 2)  # five accounts: three chunks
    accounts = [idle_account(services, clock, 190, f"idleuser{n:02d}") for n in range(5)]
    sids = [_signed_in_to(services, account, "grades") for account in accounts]

    services.lifecycle.sweep()

    assert [_backchannel(account)[0][1]["sid"] for account in accounts] == sids
    assert [len(_access_ended(account)) for account in accounts] == [1] * 5
    live = select(SsoSession.id).where(SsoSession.ended_at.is_(None))
    assert db.session.execute(live).first() is None


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database while the test runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(db.engine, "before_cursor_execute", record)


def test_ending_access_takes_as_many_statements_for_twelve_accounts_as_for_two(
    services: Services, clock: FrozenClock, statements: list[str]
) -> None:
    few = [idle_account(services, clock, 190, f"fewuser{n:02d}") for n in range(2)]
    for account in few:
        _signed_in_to(services, account, "grades")
    statements.clear()
    services.lifecycle.sweep()
    for_few = len(statements)
    many = [idle_account(services, clock, 190, f"manyuser{n:02d}") for n in range(12)]
    for account in many:
        _signed_in_to(services, account, "grades")
    statements.clear()

    report = services.lifecycle.sweep()

    assert report.disabled == len(many)
    assert len(statements) == for_few
    assert [len(_backchannel(account)) for account in many] == [1] * len(many)
