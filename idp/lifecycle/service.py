"""Account lifecycle jobs (DESIGN.md section 4), run by `idp worker` with an `as_of` time.

Each job gives the same result when run twice with the same `as_of`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.notifications.models import OutboxMessage
from idp.policy import RegistrationPolicy
from idp.registration.messages import VERIFY_EMAIL
from idp.registration.models import ActivationKey


class LifecycleService:
    """Removes registrations whose email was never confirmed (more rules come with issue 7)."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: RegistrationPolicy,
        accounts: AccountService,
        audit: AuditLog,
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._accounts = accounts
        self._audit = audit

    def remove_unconfirmed(self, as_of: datetime | None = None) -> int:
        """`pending_email --link expired + grace--> removed`: free the username and email, and
        give the activation key back if it is still valid. Returns how many were removed."""
        as_of = as_of or self._clock.now()
        lifetime = timedelta(hours=self._policy.email_link_hours)
        grace = timedelta(days=self._policy.pending_email_grace_days)
        removed = 0
        for account in self._session.execute(self._overdue(as_of - lifetime - grace)).scalars():
            self._release_key(account, as_of)
            self._accounts.purge_unconfirmed(account)
            self._audit.record("lifecycle:account:removed", subject_id=account.id)
            removed += 1
        self._session.commit()
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
