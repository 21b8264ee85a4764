"""Sign-in with username and password, with lockout that also counts unknown names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn, Protocol

from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.rules import can_receive_tokens, username_key
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.bridge.errors import UpgradeRequiredError
from idp.bridge.marker import BridgedSignIn
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
from idp.credentials.queries import SIGN_IN_LOOKUP
from idp.credentials.students import StudentSignInService
from idp.credentials.throttle import FailureThrottle
from idp.policy import LockoutPolicy


@dataclass(frozen=True)
class SignInSetup:
    """What sign-in is configured with: lockout policy, hasher and keys."""

    lockout: LockoutPolicy
    hasher: SecretHasher
    name_key: bytes = field(repr=False)  # HMAC key for sign-in names in the throttle table
    provisioning_minutes: int  # the promise repeated to a user whose account is being made
    link_hours: int = 48  # lifecycle.toml email_link_hours: how long a revalidation link works


class LegacySignIn(Protocol):
    """The legacy Infinite Campus check (idp.bridge), tried when no portal account has the name."""

    def check(self, login_name: str, password: str) -> BridgedSignIn | None:
        """None for a wrong name or password; raises BridgeUnavailableError when it cannot
        check, and a DomainError when a right password still cannot lead to an upgrade."""


class SignInService:
    """Checks a username and password. Owns its transaction: failures must be kept."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        setup: SignInSetup,
        accounts: AccountService,
        audit: AuditLog,
        bridge: LegacySignIn,
    ) -> None:
        """`bridge` accepts IC credentials in the same form (DESIGN.md 5)."""
        self._session = session
        self._clock = clock
        self._throttle = FailureThrottle(session, clock, setup.lockout, setup.name_key)
        self._hasher = setup.hasher
        self._provisioning_minutes = setup.provisioning_minutes
        self._link_hours = setup.link_hours
        self._accounts = accounts
        self._audit = audit
        self._bridge = bridge

    def sign_in(self, login_name: str, password: str) -> Account:
        """Return the active account for these credentials, or raise a domain error. A failure
        is recorded (counted, audited) before its error, which keeps it (keeps_changes)."""
        now = self._clock.now()
        params = {
            "username": username_key(login_name),
            "name_digest": self._throttle.digest(login_name),
        }
        found = self._session.execute(SIGN_IN_LOOKUP, params).one()
        standing = self._throttle.standing_of(found.name_digest is not None, found.locked_until)
        if standing.locked_minutes is not None:
            raise SignInLockedError(minutes=standing.locked_minutes)
        account: Account | None = found.Account if login_name.strip() else None
        if account is None and login_name.strip():
            self._sign_in_bridged(self._bridge, login_name, password)
        if not self._hasher.verify(account.password_hash if account else None, password):
            self._record_failure(login_name, account)
            raise InvalidCredentialsError
        assert account is not None  # noqa: S101 - verify() is False without an account
        if standing.has_record:
            self._throttle.clear(login_name)
        self._refuse_inactive(account)
        if self._hasher.needs_rehash(account.password_hash or ""):
            account.password_hash = self._hasher.hash(password)
        self._accounts.touch_activity(account, now)
        self._audit.record("credentials:sign_in:succeeded", subject_id=account.id)
        return account

    def locked_until(self, account: Account) -> datetime | None:
        """Until when sign-in with the account's username is locked; None when it is not."""
        return self._throttle.locked_until(account.username) if account.username else None

    def clear_lock(self, account: Account) -> bool:
        """End the sign-in lock of the account's username before it runs out, forgetting the
        failures and the locks in a row; False, and nothing changes, when it is not locked."""
        if self.locked_until(account) is None:
            return False
        assert account.username is not None  # noqa: S101 - only a username is locked
        self._throttle.clear(account.username)
        return True

    def _refuse_inactive(self, account: Account) -> None:
        """Only reached with the right password, so the state is not an enumeration leak."""
        state = account.state
        if can_receive_tokens(state):
            return
        self._audit.record("credentials:sign_in:refused", subject_id=account.id, state=state)
        if state == AccountState.PENDING_EMAIL:
            raise AccountPendingEmailError
        if state == AccountState.PROVISIONING:
            raise AccountProvisioningError(minutes=self._provisioning_minutes)
        if state == AccountState.DISABLED:
            raise AccountDisabledError(account.id, hours=self._link_hours)
        raise AccountNotActiveError

    def _sign_in_bridged(self, bridge: LegacySignIn, login_name: str, password: str) -> NoReturn:
        """No portal account has this name: the IC check decides. A wrong IC password counts
        as any failure; an IC check that cannot be made (BridgeUnavailableError) counts none."""
        upgrade = bridge.check(login_name, password)
        if upgrade is None:
            self._record_failure(login_name, None)
            raise InvalidCredentialsError
        self._throttle.clear(login_name)
        raise UpgradeRequiredError(upgrade)

    def _record_failure(self, login_name: str, account: Account | None) -> None:
        subject_id = account.id if account else None
        self._audit.record("credentials:sign_in:failed", subject_id=subject_id)
        if self._throttle.record_failure(login_name):
            self._audit.record("credentials:sign_in:locked", subject_id=subject_id)


class SignInLocks:
    """Each account's sign-in lock where its sign-in counts the failures: a student's student
    ID (StudentSignInService), anyone else's username (SignInService). The staff desk clears
    it; the console's person page shows it."""

    def __init__(self, sign_in: SignInService, students: StudentSignInService) -> None:
        self._sign_in = sign_in
        self._students = students

    def locked_until(self, account: Account) -> datetime | None:
        """Until when the account's sign-in is locked; None when it is not."""
        return self._of(account).locked_until(account)

    def clear(self, account: Account) -> bool:
        """End the account's sign-in lock now; False, and nothing changes, if not locked."""
        return self._of(account).clear_lock(account)

    def _of(self, account: Account) -> SignInService | StudentSignInService:
        return self._students if account.kind == AccountKind.STUDENT else self._sign_in
