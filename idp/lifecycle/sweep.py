"""The daily inactivity sweep (DESIGN.md 4, lifecycle.toml [inactivity]), in set-based SQL.

Order matters: deletion first, then its warning, then disabling, then its warning, so one run
moves an account at most one step per rule. Every step is an UPDATE whose WHERE clause says
"due and not done yet" and whose RETURNING clause gives the ids it changed: a second run with
the same `as_of` changes nothing, and a second sweep running at the same time on PostgreSQL
re-checks each row it waited for (READ COMMITTED) and skips what the first one did. Messages
are written in the same transaction as the change that causes them.

"Idle since" is the last activity (sign-in or refresh), or the creation time of an account
never used. A deletion needs a deletion warning queued at least warn_before_delete_days
earlier in the same idle period: nobody loses an account without being told first, even
when the sweep was not run for a while. Disabling is undone by the owner (revalidation), so
it needs no such guard. Staff accounts are managed by the district and never swept.

Disabled and deleted accounts lose their access through the one path (DESIGN.md 7,
`end_access_many`): tokens revoked, SSO sessions ended, a back-channel logout queued for every
app a live session signed in to, one `oidc:access:ended` event per account. Warnings are
queued through the outbox's own `enqueue_from_select`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.audit.service import AuditLog
from idp.batches import chunks
from idp.lifecycle import rules
from idp.lifecycle.purge import AccountPurge, EndAccessMany
from idp.notifications.outbox import Outbox
from idp.policy import InactivityPolicy

DISABLE_WARNING = "inactivity_disable_warning"
DELETE_WARNING = "inactivity_delete_warning"
SWEEP_EVENT = "lifecycle:sweep:ran"
DISABLED_REASON = "inactivity_disabled"  # the reason of their `oidc:access:ended` events


@dataclass(frozen=True)
class SweepDeps:
    """What the sweep works through besides its session, policy and purge."""

    audit: AuditLog
    outbox: Outbox
    end_access_many: EndAccessMany  # LogoutService.end_access_many


@dataclass(frozen=True)
class SweepReport:
    """How many accounts each transition moved (or would move, in a dry run)."""

    deleted: int
    delete_warned: int
    disabled: int
    disable_warned: int
    removed_unconfirmed: int = 0

    def as_line(self) -> str:
        """One line for the terminal and the worker log."""
        return (
            f"deleted {self.deleted}, delete warnings {self.delete_warned},"
            f" disabled {self.disabled}, disable warnings {self.disable_warned},"
            f" unconfirmed removed {self.removed_unconfirmed}"
        )


class InactivitySweep:
    """Warns, disables and deletes unused accounts as of a given time."""

    def __init__(
        self, session: Session, policy: InactivityPolicy, purge: AccountPurge, deps: SweepDeps
    ) -> None:
        self._session = session
        self._policy = policy
        self._purge = purge
        self._deps = deps

    def run(self, as_of: datetime) -> SweepReport:
        """Apply every due transition in the current transaction (the caller commits)."""
        policy = self._policy
        deleted = self._delete(as_of)
        delete_warned = self._warn(
            as_of,
            Account.delete_warned_at,
            rules.DELETABLE_STATES,
            policy.delete_after_days - policy.warn_before_delete_days,
            DELETE_WARNING,
        )
        disabled = self._disable(as_of)
        disable_warned = self._warn(
            as_of,
            Account.disable_warned_at,
            (AccountState.ACTIVE,),
            policy.disable_after_days - policy.warn_before_disable_days,
            DISABLE_WARNING,
        )
        report = SweepReport(len(deleted), delete_warned, len(disabled), disable_warned)
        self._deps.audit.record(
            SWEEP_EVENT,
            deleted=report.deleted,
            delete_warned=report.delete_warned,
            disabled=report.disabled,
            disable_warned=report.disable_warned,
        )
        return report

    def _delete(self, as_of: datetime) -> list[int]:
        idle_since, warned_at = rules.idle_since_sql(), Account.delete_warned_at
        due = update(Account).where(
            rules.swept_sql(self._policy),
            Account.state.in_(rules.DELETABLE_STATES),
            rules.deletion_due_sql(idle_since, warned_at, as_of, self._policy),
            warned_at > idle_since,  # the warning of this idle period
        )
        rows = self._returning(
            due.values(state=AccountState.DELETED, state_changed_at=as_of),
            Account.id,
            Account.username,
        )
        ids = [row.id for row in rows]
        self._purge.purge(ids, [row.username for row in rows if row.username], as_of)
        return ids

    def _disable(self, as_of: datetime) -> list[int]:
        due = update(Account).where(
            rules.swept_sql(self._policy),
            Account.state == AccountState.ACTIVE,
            rules.disable_due_sql(rules.idle_since_sql(), as_of, self._policy),
        )
        ids = [
            row.id
            for row in self._returning(
                due.values(state=AccountState.DISABLED, state_changed_at=as_of), Account.id
            )
        ]
        self._deps.end_access_many(ids, DISABLED_REASON)
        return ids

    def _warn(
        self,
        as_of: datetime,
        warned_at: Any,
        states: tuple[AccountState, ...],
        after_days: int,
        template: str,
    ) -> int:
        """Mark and message accounts idle `after_days` not yet warned in this idle period."""
        idle_since = rules.idle_since_sql()
        due = update(Account).where(
            rules.swept_sql(self._policy),
            Account.state.in_(states),
            idle_since <= as_of - timedelta(days=after_days),
            or_(warned_at.is_(None), warned_at <= idle_since),
        )
        ids = [row.id for row in self._returning(due.values({warned_at: as_of}), Account.id)]
        for chunk in chunks(ids):
            self._enqueue(chunk, template, as_of)
        return len(ids)

    def _enqueue(self, ids: list[int], template: str, as_of: datetime) -> None:
        """One warning per account that has an email (students have none: marked only).
        The date in the message is worked out when it is sent, and a warning to someone who
        came back in between is not sent at all (see lifecycle.messages)."""
        recipients = select(
            Account.email.label("recipient"), Account.locale, Account.id.label("account_id")
        ).where(Account.id.in_(ids), Account.email.is_not(None))
        self._deps.outbox.enqueue_from_select(template, recipients, at=as_of)

    def _returning(self, statement: Update, *columns: Any) -> list[Any]:
        result = self._session.execute(
            statement.returning(*columns).execution_options(synchronize_session=False)
        )
        return list(result.all())
