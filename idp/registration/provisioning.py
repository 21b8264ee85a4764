"""Provisioning: a confirmed registration becomes an active account, and the guardian is told.

Run by `idp worker` next to the outbox. Several workers may run: each account is claimed with
`FOR UPDATE SKIP LOCKED` (PostgreSQL) and committed on its own by the worker, so a crash loses
nothing and no account is provisioned twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.notifications.outbox import Outbox
from idp.registration.messages import send_account_ready
from idp.roster.access import GuardianAccess
from idp.roster.models import Person


class ProvisioningService:
    """Moves `provisioning` accounts to `active` and queues "your account is ready"."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        access: GuardianAccess,
        outbox: Outbox,
        audit: AuditLog,
    ) -> None:
        self._session = session
        self._clock = clock
        self._access = access
        self._outbox = outbox
        self._audit = audit

    def provision_next(self, as_of: datetime | None = None) -> bool:
        """Provision the next account waiting, if any: the worker commits each one on its own
        (idp/cli.py), so a crash loses nothing. Whether there was one."""
        account = self._claim_next()
        if account is None:
            return False
        self._provision(account, as_of or self._clock.now())
        return True

    def _claim_next(self) -> Account | None:
        query = (
            select(Account)
            .where(Account.state == AccountState.PROVISIONING)
            .order_by(Account.state_changed_at, Account.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self._session.execute(query).scalar_one_or_none()

    def _provision(self, account: Account, as_of: datetime) -> None:
        person = self._session.get(Person, account.person_id) if account.person_id else None
        students: tuple[int, ...] = ()
        if person is not None and account.kind == AccountKind.GUARDIAN:
            # What the guardian may see is computed from the roster at every token; counted here
            # so the audit trail shows what the account started with.
            students = self._access.visible_student_ids(person, as_of.date())
        account.state, account.state_changed_at = AccountState.ACTIVE, as_of
        send_account_ready(self._outbox, account)
        self._audit.record(
            "registration:account:provisioned", subject_id=account.id, student_count=len(students)
        )
