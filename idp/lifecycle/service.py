"""Account lifecycle (DESIGN.md section 4): the daily sweep, revalidation, cancellation and
re-enabling (staff cancel and re-enable through idp/staff/service.py).

Jobs take an `as_of` time and give the same result when run twice with the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.links import SignedLinks
from idp.accounts.models import RELEASED_STATES, Account, AccountState
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.models import SecurityAnswer
from idp.lifecycle import errors
from idp.lifecycle.messages import (
    REVALIDATE_EMAIL,
    REVALIDATE_PURPOSE,
    disabled_mark,
    send_cancelled_email,
    send_revalidate_email,
)
from idp.lifecycle.models import SweepRun
from idp.lifecycle.purge import AccountPurge
from idp.lifecycle.sweep import InactivitySweep, SweepDeps, SweepReport
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Outbox
from idp.policy import LifecyclePolicy, UsernamePolicy
from idp.registration.messages import VERIFY_EMAIL
from idp.registration.models import ActivationKey

REVALIDATE_INTERVAL_MINUTES = 10  # at most one revalidation email per account in this window
SWEEP_INTERVAL = timedelta(days=1)  # `idp worker` sweeps when the last sweep is this old
# Any number no other advisory lock of the database uses (roster import: 0x1D9_0501).
_SWEEP_LOCK_KEY = 0x1D9_1506


@dataclass(frozen=True)
class LifecycleDeps:
    """The services lifecycle jobs work through."""

    accounts: AccountService
    audit: AuditLog
    outbox: Outbox
    links: SignedLinks
    access: AccessEnding  # the one path that ends access (oidc.logout.LogoutService)


class LifecycleService:
    """Sweeps idle accounts, brings disabled ones back, cancels on the school's word."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: LifecyclePolicy,
        usernames: UsernamePolicy,
        deps: LifecycleDeps,
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._accounts = deps.accounts
        self._audit = deps.audit
        self._outbox = deps.outbox
        self._links = deps.links
        self._access = deps.access
        purge = AccountPurge(session, usernames, deps.access.end_access_many)
        sweep_deps = SweepDeps(deps.audit, deps.outbox, deps.access.end_access_many)
        self._sweep = InactivitySweep(session, policy.inactivity, purge, sweep_deps)

    def sweep(self, as_of: datetime | None = None) -> SweepReport:
        """Every due transition as of `as_of`, in the caller's one transaction (a dry run is
        the command rolling it back after counting: idp/lifecycle/cli.py)."""
        as_of = as_of or self._clock.now()
        report = self._sweep_all(as_of)
        self._record_run(self._clock.now(), is_due_only=False)  # it counts as the day's
        return report

    def sweep_if_due(self, now: datetime | None = None) -> SweepReport | None:
        """The daily sweep for `idp worker`: run it unless one ran in the last 24 hours.

        Of several workers asking at once exactly one sweeps: the claim (`_record_run`) and the
        sweep are in the worker job's one transaction, so a sweep that fails leaves the day
        unclaimed, and on PostgreSQL a worker that finds the day claimed, or being swept, moves
        on at once."""
        now = now or self._clock.now()
        return self._sweep_all(now) if self._record_run(now, is_due_only=True) else None

    def _sweep_all(self, as_of: datetime) -> SweepReport:
        report = self._sweep.run(as_of)
        removed = self._remove_unconfirmed(as_of)
        return SweepReport(
            report.deleted, report.delete_warned, report.disabled, report.disable_warned, removed
        )

    def _record_run(self, ran_at: datetime, *, is_due_only: bool) -> bool:
        """Set the sweep's last run to `ran_at` in this transaction; with `is_due_only`, only
        if no sweep ran in the SWEEP_INTERVAL before. True if the row moved."""
        dialect = self._session.get_bind().dialect.name
        if is_due_only and dialect == "postgresql":
            # A worker sweeping holds this lock until it commits: the others move on at once
            # instead of waiting for the sweep's row lock (SQLite has one writer anyway).
            lock = select(func.pg_try_advisory_xact_lock(_SWEEP_LOCK_KEY))
            if not self._session.execute(lock).scalar_one():
                return False
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SweepRun)
        due = SweepRun.last_ran_at <= ran_at - SWEEP_INTERVAL if is_due_only else None
        claim = upsert.values(id=1, last_ran_at=ran_at).on_conflict_do_update(
            index_elements=["id"], set_={"last_ran_at": ran_at}, where=due
        )
        return self._session.execute(claim.returning(SweepRun.id)).first() is not None

    def remove_unconfirmed(self, as_of: datetime | None = None) -> int:
        """`pending_email --link expired + grace--> removed`; how many."""
        return self._remove_unconfirmed(as_of or self._clock.now())

    def request_revalidation(self, account: Account) -> None:
        """A disabled account's owner signed in with the right password: email a link that
        turns it back on (at most one per REVALIDATE_INTERVAL_MINUTES)."""
        if account.state != AccountState.DISABLED or account.email is None:
            return
        since = self._clock.now() - timedelta(minutes=REVALIDATE_INTERVAL_MINUTES)
        recent = select(OutboxMessage.id).where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.template == REVALIDATE_EMAIL,
            OutboxMessage.created_at >= since,
        )
        if self._session.execute(recent.limit(1)).first() is None:
            send_revalidate_email(self._outbox, account)
            self._audit.record("lifecycle:revalidation:requested", subject_id=account.id)

    def revalidate(self, token: str) -> Account:
        """Follow a revalidation link: the disabled account is active again."""
        hours = self._policy.registration.email_link_hours
        reading = self._links.read(token, REVALIDATE_PURPOSE, hours * 3600)
        if reading is None:
            raise errors.RevalidationLinkInvalidError
        account = self._session.get(Account, reading.account_id, with_for_update=True)
        if account is None or account.email is None:
            raise errors.RevalidationLinkInvalidError
        if account.state != AccountState.DISABLED or reading.bound_to != disabled_mark(account):
            raise errors.RevalidationLinkUsedError
        if reading.is_expired:
            raise errors.RevalidationLinkExpiredError
        now = self._clock.now()
        account.state, account.state_changed_at = AccountState.ACTIVE, now
        account.email_verified_at = now
        account.last_activity_at = now  # confirming the email is activity: a new idle period
        self._audit.record("lifecycle:account:revalidated", subject_id=account.id)
        return account

    def re_enable(self, account: Account) -> bool:
        """`disabled --school re-enables--> active`: staff checked the owner's identity at the
        desk (a student has no email to revalidate with). A new idle period starts now, so the
        next sweep does not disable it again at once. False, and nothing changes, if the account
        is not disabled. The caller (idp/staff/service.py) records who and why."""
        if account.state != AccountState.DISABLED:
            return False
        now = self._clock.now()
        account.state, account.state_changed_at = AccountState.ACTIVE, now
        account.last_activity_at = now  # as revalidation does: a new idle period
        return True

    def find_cancellable(self, username: str) -> Account:
        """The account `username` names, if the school may still cancel it (not already
        cancelled, deleted or removed)."""
        account = self._accounts.find_by_username(username) if username.strip() else None
        if account is None or account.state in RELEASED_STATES:
            raise errors.AccountNotFoundError
        return account

    def cancel(self, account: Account) -> None:
        """`any --school cancels--> cancelled`: no password or security answers are left, and
        the email is free to register again from the start (new Person ID check and key).
        The caller (idp/staff/service.py) ends access and records who and why."""
        account.state, account.state_changed_at = AccountState.CANCELLED, self._clock.now()
        account.password_hash = None
        self._session.execute(delete(SecurityAnswer).where(SecurityAnswer.account_id == account.id))
        send_cancelled_email(self._outbox, account)  # the guardian learns it, and what next

    def _remove_unconfirmed(self, as_of: datetime) -> int:
        """Free the username and email of registrations never confirmed, and give a still
        valid activation key back."""
        lifetime = timedelta(hours=self._policy.registration.email_link_hours)
        grace = timedelta(days=self._policy.registration.pending_email_grace_days)
        removed = 0
        for account in self._session.execute(self._overdue(as_of - lifetime - grace)).scalars():
            self._release_key(account, as_of)
            self._accounts.purge_unconfirmed(account)
            self._audit.record("lifecycle:account:removed", subject_id=account.id)
            removed += 1
        return removed

    def _overdue(self, cutoff: datetime) -> Select[Account]:
        """Pending accounts whose newest confirmation link was made before `cutoff`."""
        last_link = (
            select(func.max(OutboxMessage.created_at))
            .where(OutboxMessage.account_id == Account.id, OutboxMessage.template == VERIFY_EMAIL)
            .scalar_subquery()
        )
        return (
            select(Account)
            .where(
                Account.state == AccountState.PENDING_EMAIL,
                Account.state_changed_at < cutoff,
                func.coalesce(last_link, Account.state_changed_at) < cutoff,
            )
            .with_for_update(skip_locked=True)
        )

    def _release_key(self, account: Account, as_of: datetime) -> None:
        self._session.execute(
            update(ActivationKey)
            .where(
                ActivationKey.used_by_account_id == account.id,
                ActivationKey.revoked_at.is_(None),
                ActivationKey.expires_at > as_of,
            )
            .values(used_at=None, used_by_account_id=None)
        )
