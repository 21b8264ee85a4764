"""Sign-in with username and password, with lockout that also counts unknown names."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.errors import (
    AccountDisabledError,
    AccountNotActiveError,
    AccountPendingEmailError,
    AccountProvisioningError,
    InvalidCredentialsError,
    SignInLockedError,
)
from idp.credentials.hashing import SecretHasher
from idp.credentials.models import SignInThrottle
from idp.policy import LockoutPolicy


@dataclass(frozen=True)
class SignInSetup:
    """What sign-in is configured with: lockout policy, hasher and keys."""

    lockout: LockoutPolicy
    hasher: SecretHasher
    name_key: bytes = field(repr=False)  # HMAC key for sign-in names in the throttle table
    provisioning_minutes: int  # the promise repeated to a user whose account is being made


class SignInService:
    """Checks a username and password. Owns its transaction: failures must be kept."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        setup: SignInSetup,
        accounts: AccountService,
        audit: AuditLog,
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = setup.lockout
        self._hasher = setup.hasher
        self._name_key = setup.name_key
        self._provisioning_minutes = setup.provisioning_minutes
        self._accounts = accounts
        self._audit = audit

    def sign_in(self, login_name: str, password: str) -> Account:
        """Return the active account for these credentials, or raise a domain error."""
        now = self._clock.now()
        digest = self._name_digest(login_name)
        self._refuse_if_locked(digest, now)
        account = self._accounts.find_by_username(login_name) if login_name.strip() else None
        if not self._hasher.verify(account.password_hash if account else None, password):
            self._record_failure(digest, now, account)
            raise InvalidCredentialsError
        assert account is not None  # noqa: S101 - verify() is False without an account
        self._clear_failures(digest)
        self._refuse_inactive(account)
        if self._hasher.needs_rehash(account.password_hash or ""):
            account.password_hash = self._hasher.hash(password)
        account.last_activity_at = now
        self._audit.record("credentials:sign_in:succeeded", subject_id=account.id)
        self._session.commit()
        return account

    def _name_digest(self, login_name: str) -> str:
        normalised = login_name.strip().lower().encode()
        return hmac.new(self._name_key, normalised, hashlib.sha256).hexdigest()

    def _refuse_if_locked(self, digest: str, now: datetime) -> None:
        row = self._session.get(SignInThrottle, digest)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            minutes = max(1, math.ceil((row.locked_until - now).total_seconds() / 60))
            raise SignInLockedError(minutes=minutes)

    def _refuse_inactive(self, account: Account) -> None:
        """Only reached with the right password, so the state is not an enumeration leak."""
        state = account.state
        if state == AccountState.ACTIVE:
            return
        self._audit.record("credentials:sign_in:refused", subject_id=account.id, state=state)
        self._session.commit()
        if state == AccountState.PENDING_EMAIL:
            raise AccountPendingEmailError
        if state == AccountState.PROVISIONING:
            raise AccountProvisioningError(minutes=self._provisioning_minutes)
        if state == AccountState.DISABLED:
            raise AccountDisabledError
        raise AccountNotActiveError

    def _record_failure(self, digest: str, now: datetime, account: Account | None) -> None:
        row = self._locked_throttle_row(digest, now)
        if row.window_started_at + timedelta(minutes=self._policy.window_minutes) <= now:
            row.failure_count = 0
            row.window_started_at = now
        row.failure_count += 1
        subject_id = account.id if account else None
        self._audit.record("credentials:sign_in:failed", subject_id=subject_id)
        if row.failure_count >= self._policy.lock_after_failures:
            row.locked_until = now + timedelta(minutes=self._policy.lock_minutes)
            row.failure_count = 0
            row.window_started_at = now
            self._audit.record("credentials:sign_in:locked", subject_id=subject_id)
        self._session.commit()

    def _locked_throttle_row(self, digest: str, now: datetime) -> SignInThrottle:
        row = self._session.get(SignInThrottle, digest, with_for_update=True)
        if row is not None:
            return row
        try:
            with self._session.begin_nested():
                row = SignInThrottle(name_digest=digest, failure_count=0, window_started_at=now)
                self._session.add(row)
        except IntegrityError:
            # Another request created it first: take that one, locked.
            row = self._session.get(SignInThrottle, digest, with_for_update=True)
        assert row is not None  # noqa: S101 - it exists either way by now
        return row

    def _clear_failures(self, digest: str) -> None:
        row = self._session.get(SignInThrottle, digest)
        if row is not None:
            self._session.delete(row)
