"""Pure rules of the inactivity lifecycle (DESIGN.md 4, lifecycle.toml [inactivity]), each as
a function and, where the sweep's set-based statements need it, as the SQL expression they
are built from: which accounts are swept, since when they are idle, and when they are due to
be disabled and deleted. The sweep (sweep.py), its warnings (messages.py) and the staff
console's person page all ask here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func

from idp.accounts.models import Account, AccountKind, AccountState
from idp.policy import InactivityPolicy

# The states the deletion rule (and its warning) applies to; disabling applies to ACTIVE only.
DELETABLE_STATES = (AccountState.ACTIVE, AccountState.DISABLED)


def swept_kinds(policy: InactivityPolicy) -> tuple[AccountKind, ...]:
    """The kinds of account the inactivity rules apply to: staff accounts are managed by the
    district and never swept; students unless lifecycle.toml is_student_exempt."""
    if policy.is_student_exempt:
        return (AccountKind.GUARDIAN,)
    return (AccountKind.GUARDIAN, AccountKind.STUDENT)


def swept_sql(policy: InactivityPolicy) -> ColumnElement[bool]:
    """SQL: the account is of a kind `swept_kinds` gives."""
    return Account.kind.in_([kind.value for kind in swept_kinds(policy)])


def idle_since(account: Account) -> datetime:
    """When the account was last used (or created, if never used)."""
    return account.last_activity_at or account.created_at


def idle_since_sql() -> ColumnElement[Any]:
    """SQL: `idle_since` of the account row."""
    return func.coalesce(Account.last_activity_at, Account.created_at)


def disable_due_at(idle: datetime, policy: InactivityPolicy) -> datetime:
    """When an active account idle since `idle` is disabled (disable_after_days)."""
    return idle + timedelta(days=policy.disable_after_days)


def disable_due_sql(
    idle: ColumnElement[Any], as_of: datetime, policy: InactivityPolicy
) -> ColumnElement[bool]:
    """SQL: `disable_due_at(idle) <= as_of`."""
    return idle <= as_of - timedelta(days=policy.disable_after_days)


def deletion_due_at(idle: datetime, warned_at: datetime, policy: InactivityPolicy) -> datetime:
    """When an account idle since `idle` is deleted, its deletion warning of this idle period
    queued at `warned_at`: after delete_after_days idle, and no sooner than
    warn_before_delete_days after the warning (nobody loses an account untold)."""
    return max(
        idle + timedelta(days=policy.delete_after_days),
        warned_at + timedelta(days=policy.warn_before_delete_days),
    )


def deletion_due_sql(
    idle: ColumnElement[Any], warned_at: Any, as_of: datetime, policy: InactivityPolicy
) -> ColumnElement[bool]:
    """SQL: `deletion_due_at(idle, warned_at) <= as_of` (the warning's idle period aside)."""
    return and_(
        idle <= as_of - timedelta(days=policy.delete_after_days),
        warned_at <= as_of - timedelta(days=policy.warn_before_delete_days),
    )


def due_dates(
    account: Account, policy: InactivityPolicy, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """When the inactivity sweep disables and deletes the account if it stays unused; None
    where it never will (staff, exempt students, other states)."""
    if account.kind not in swept_kinds(policy) or account.state not in DELETABLE_STATES:
        return None, None
    idle = idle_since(account)
    # A deletion warning not queued in this idle period yet is queued by the next sweep at
    # the soonest.
    warned = account.delete_warned_at
    warned_at = warned if warned is not None and warned > idle else now
    disable = disable_due_at(idle, policy) if account.state == AccountState.ACTIVE else None
    return disable, deletion_due_at(idle, warned_at, policy)
