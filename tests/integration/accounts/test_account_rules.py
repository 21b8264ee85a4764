"""The account rules of idp/accounts/rules.py that exist twice, as a Python function and as a SQL
expression: each case is checked against both, on this run's database, so the two never disagree.
(Integration tests: the SQL half is only proven on the real SQLite and PostgreSQL.)"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.rules import (
    can_receive_tokens,
    can_receive_tokens_sql,
    username_key,
    username_matches_sql,
)
from idp.clock import FrozenClock
from idp.extensions import db

pytestmark = pytest.mark.usefixtures("app")

# DESIGN.md 4: only an active account signs in to apps and keeps its tokens. A locked sign-in
# name (too many failed passwords) is no state: its account's tokens keep working.
CAN_RECEIVE_TOKENS = {
    AccountState.PENDING_EMAIL: False,
    AccountState.PROVISIONING: False,
    AccountState.ACTIVE: True,
    AccountState.DISABLED: False,
    AccountState.DELETED: False,
    AccountState.CANCELLED: False,
    AccountState.REMOVED: False,
}

# (stored username, as typed, same account?)
USERNAMES = [
    ("ParentUser1", "ParentUser1", True),
    ("ParentUser1", "parentuser1", True),
    ("ParentUser1", "  PARENTUSER1\t", True),
    ("ParentUser1", "parentuser2", False),
    ("ParentUser1", "parentuser", False),
    ("ParentUser1", "parent user1", False),
    ("Kevin12345", "\u212aevin12345", True),  # KELVIN SIGN: Python lower() gives ASCII k
    ("Ivan123456", "\u0130van123456", False),  # I WITH DOT: lower() keeps a combining dot
    ("abcdefgh", "ABCDEFGH", True),
]


def _account(clock: FrozenClock, state: str, username: str | None = None) -> Account:
    now = clock.now()
    account = Account(
        sub=secrets.token_urlsafe(16),
        kind=AccountKind.GUARDIAN,
        state=state,
        username=username,
        created_at=now,
        state_changed_at=now,
    )
    db.session.add(account)
    db.session.flush()
    return account


def test_every_state_says_whether_it_can_receive_tokens() -> None:
    assert set(CAN_RECEIVE_TOKENS) == set(AccountState)


@pytest.mark.parametrize(("state", "expected"), CAN_RECEIVE_TOKENS.items())
def test_can_receive_tokens_in_python_and_in_sql(
    clock: FrozenClock, state: AccountState, expected: bool
) -> None:
    account = _account(clock, state)

    in_sql = db.session.execute(
        select(can_receive_tokens_sql(Account.state)).where(Account.id == account.id)
    ).scalar_one()

    assert (can_receive_tokens(state), in_sql, account.is_active) == (expected,) * 3


def test_no_account_cannot_receive_tokens() -> None:
    assert can_receive_tokens(None) is False


@pytest.mark.parametrize(("stored", "typed", "expected"), USERNAMES)
def test_username_matches_in_python_and_in_sql(
    clock: FrozenClock, stored: str, typed: str, expected: bool
) -> None:
    account = _account(clock, AccountState.ACTIVE, stored)

    found = db.session.execute(
        select(Account.id).where(username_matches_sql(Account.username, username_key(typed)))
    ).scalar_one_or_none()

    assert (username_key(stored) == username_key(typed), found == account.id) == (expected,) * 2
