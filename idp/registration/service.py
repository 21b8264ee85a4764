"""Guardian registration: key check, account creation, email confirmation, username reminder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts import rules as account_rules
from idp.accounts.errors import EmailInvalidError, UsernameInvalidError, UsernameTakenError
from idp.accounts.links import SignedLinks
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials import rules as password_rules
from idp.credentials.hashing import SecretHasher
from idp.credentials.throttle import FailureThrottle
from idp.errors import DomainError
from idp.notifications.models import OutboxMessage
from idp.notifications.outbox import Outbox
from idp.policy import PasswordPolicy, RegistrationPolicy
from idp.registration import rules
from idp.registration.errors import (
    ActivationLockedError,
    InvalidActivationError,
    LinkExpiredError,
    LinkInvalidError,
    LinkUsedError,
    NothingToResendError,
    RegistrationExpiredError,
    ResendTooSoonError,
)
from idp.registration.keys import ActivationKeyService
from idp.registration.messages import (
    VERIFY_EMAIL,
    VERIFY_PURPOSE,
    send_username_reminder,
    send_verify_email,
)

# A new confirmation link at most this often per registration (the page is also rate-limited
# per IP): enough for "I never got it", too little to flood someone's mailbox.
RESEND_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class NewRegistration:
    """Step 2 of the registration form, after step 1 proved a usable key."""

    activation_key_id: int
    username: str
    password: str = field(repr=False)
    email: str
    locale: str = "en"


@dataclass(frozen=True)
class RegistrationSetup:
    """Registration's collaborators that are not per-request."""

    registration: RegistrationPolicy
    passwords: PasswordPolicy
    throttle: FailureThrottle  # failures per Person ID (namespace "register:")
    links: SignedLinks


class RegistrationService:
    """The FAQ's "Account Registration/Creation" use cases. Each method owns its transaction."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        setup: RegistrationSetup,
        services: tuple[ActivationKeyService, AccountService, SecretHasher, Outbox, AuditLog],
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = setup.registration
        self._passwords = setup.passwords
        self._throttle = setup.throttle
        self._links = setup.links
        self._keys, self._accounts, self._hasher, self._outbox, self._audit = services

    def check_key(self, sis_person_id: str, typed_key: str) -> int:
        """Step 1: the id of the usable key for this Person ID, or one generic refusal."""
        minutes = self._throttle.locked_minutes(sis_person_id)
        if minutes is not None:
            raise ActivationLockedError(minutes=minutes)
        key_id = self._matching_key_id(sis_person_id, typed_key)
        if key_id is None:
            self._throttle.record_failure(sis_person_id)
            raise InvalidActivationError(days=self._policy.activation_key_days)
        self._throttle.clear(sis_person_id)
        return key_id

    def register(self, new: NewRegistration) -> Account:
        """Step 2: create the account in `pending_email` and queue the confirmation email.

        All or nothing: a refusal is a DomainError, on which the edge rolls back every change
        (idp/unit_of_work.py), including the replacement of an earlier unconfirmed registration
        of the same guardian.
        """
        key = self._keys.usable_key(new.activation_key_id, lock=True)
        if key is None:
            raise RegistrationExpiredError
        password_rules.check_password(new.password, self._passwords, new.username)
        self._remove_unconfirmed(key.person_id)
        account = self._accounts.create(
            NewAccount(
                kind=AccountKind.GUARDIAN,
                state=AccountState.PENDING_EMAIL,
                username=new.username.strip(),
                email=new.email,
                person_id=key.person_id,
                password_hash=self._hasher.hash(new.password),
                locale=new.locale,
            )
        )
        key.used_at, key.used_by_account_id = self._clock.now(), account.id
        send_verify_email(self._outbox, account)
        self._audit.record("registration:registration:started", subject_id=account.id)
        return account

    def check_username(self, username: str) -> DomainError | None:
        """The live check of step 2: why this username cannot be chosen, or None if it can.
        "Already taken" may be said: the visitor has proved a valid key (FAQ)."""
        usernames = self._accounts.username_policy
        if not account_rules.is_valid_username(
            username.strip(), usernames.min_length, usernames.max_length
        ):
            return UsernameInvalidError(min=usernames.min_length, max=usernames.max_length)
        if self._accounts.is_username_taken(username):
            return UsernameTakenError()
        return None

    def verify_email(self, token: str) -> Account:
        """Confirm the email with a link: the account moves to `provisioning`."""
        reading = self._links.read(token, VERIFY_PURPOSE, self._policy.email_link_hours * 3600)
        if reading is None:
            raise LinkInvalidError
        account = self._session.get(Account, reading.account_id, with_for_update=True)
        if account is None or account.email is None:
            raise LinkInvalidError
        if account.state != AccountState.PENDING_EMAIL:
            raise LinkUsedError
        if reading.is_expired:
            raise LinkExpiredError(account.id)
        now = self._clock.now()
        account.state, account.state_changed_at = AccountState.PROVISIONING, now
        account.email_verified_at = now
        self._audit.record("registration:email:verified", subject_id=account.id)
        return account

    def resend_for_link(self, token: str) -> Account:
        """A new link for the registration a genuine (even expired) link was made for."""
        reading = self._links.read(token, VERIFY_PURPOSE, self._policy.email_link_hours * 3600)
        if reading is None:
            raise LinkInvalidError
        return self.resend_verification(reading.account_id)

    def resend_verification(self, account_id: int) -> Account:
        """Send a new confirmation link to a registration still waiting for one."""
        account = self._session.get(Account, account_id, with_for_update=True)
        if account is None or account.state != AccountState.PENDING_EMAIL:
            raise NothingToResendError
        wait = self._seconds_before_resend(account)
        if wait > 0:
            raise ResendTooSoonError(seconds=wait)
        send_verify_email(self._outbox, account)
        self._audit.record("registration:email:resent", subject_id=account.id)
        return account

    def request_username_reminder(self, email: str, locale: str) -> None:
        """Queue a reminder for whoever holds this email. Same work whether or not anyone does:
        the lookup happens when the message is sent, so the page has no timing oracle."""
        email = account_rules.normalize_email(email)
        if not account_rules.is_valid_email(email):
            raise EmailInvalidError
        send_username_reminder(self._outbox, email, locale)

    def _matching_key_id(self, sis_person_id: str, typed_key: str) -> int | None:
        normalized = rules.normalize_key(typed_key)
        person = self._keys.find_person(sis_person_id)
        if normalized is None or person is None:
            return None
        key = self._keys.find_by_digest(person, rules.key_digest(normalized))
        usable = self._keys.usable_key(key.id) if key is not None else None
        return usable.id if usable is not None else None

    def _remove_unconfirmed(self, person_id: int) -> None:
        """An earlier registration that never confirmed its email is replaced by this one."""
        query = select(Account).where(
            Account.person_id == person_id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state == AccountState.PENDING_EMAIL,
        )
        for old in self._session.execute(query.with_for_update()).scalars():
            self._accounts.purge_unconfirmed(old)
            self._audit.record("registration:registration:replaced", subject_id=old.id)

    def _seconds_before_resend(self, account: Account) -> int:
        last = self._session.execute(
            select(func.max(OutboxMessage.created_at)).where(
                OutboxMessage.account_id == account.id, OutboxMessage.template == VERIFY_EMAIL
            )
        ).scalar_one_or_none()
        if last is None:
            return 0
        ready_at = last + timedelta(seconds=RESEND_INTERVAL_SECONDS)
        return max(0, int((ready_at - self._clock.now()).total_seconds()))
