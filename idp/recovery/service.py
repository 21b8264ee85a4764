"""Forgot password (emailed link, security questions, new password), change password, and a new
staff account's first password (emailed link, new password).

The emailed link and the proof of correct answers are signed links bound to a fingerprint of
the current password hash: once the password changes, every earlier link stops working, so a
link is single use without any extra table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import LazyString
from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.links import SignedLinks
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials import rules as password_rules
from idp.credentials.errors import CurrentPasswordWrongError, SignInLockedError
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.throttle import FailureThrottle
from idp.notifications.outbox import Outbox
from idp.policy import PasswordPolicy, RecoveryPolicy
from idp.recovery.errors import (
    AnswersWrongError,
    RecoveryLockedError,
    ResetLinkExpiredError,
    ResetLinkInvalidError,
    SetPasswordLinkExpiredError,
    SetPasswordLinkInvalidError,
)

RESET_PURPOSE = "reset_password"
ANSWERED_PURPOSE = "reset_answered"  # proof that the questions were answered, for step 2
RESET_EMAIL = "password_reset"
CHANGED_EMAIL = "password_changed"
NEW_STAFF_PURPOSE = "set_password"  # a new staff account's first password
NEW_STAFF_EMAIL = "staff_set_password"


def password_fingerprint(account: Account) -> str:
    """Changes whenever the password does (not a secret: 64 bits of a hash of a hash)."""
    return hashlib.sha256((account.password_hash or "").encode()).hexdigest()[:16]


def send_set_password_link(outbox: Outbox, account: Account) -> None:
    """Queue the "choose your password" email of a new staff account: its one-time link is
    signed when the message is sent (RecoveryMessages.prepare_set_password), never stored."""
    assert account.email is not None  # noqa: S101 - staff accounts are created with one
    outbox.enqueue(NEW_STAFF_EMAIL, account.email, {}, locale=account.locale, account_id=account.id)


@dataclass(frozen=True)
class RecoverySetup:
    """Recovery's rules and keys."""

    policy: RecoveryPolicy
    passwords: PasswordPolicy
    links: SignedLinks
    answers_throttle: FailureThrottle  # wrong answers per account (namespace "recover:")
    sign_in_throttle: FailureThrottle  # wrong current passwords count as failed sign-ins
    set_password_hours: int  # lifecycle.toml email_link_hours: a new staff account's link


@dataclass(frozen=True)
class RecoveryDeps:
    """The services recovery works with."""

    accounts: AccountService
    hasher: SecretHasher
    questions: SecurityQuestionService
    outbox: Outbox
    audit: AuditLog
    access: AccessEnding  # the one path that ends sessions and tokens (oidc.logout)


class RecoveryService:
    """Use cases of the FAQ's "Forgot password" and "Change password". The edge commits each
    one (idp/unit_of_work.py)."""

    def __init__(
        self, session: Session, clock: Clock, setup: RecoverySetup, deps: RecoveryDeps
    ) -> None:
        self._session = session
        self._clock = clock
        self._setup = setup
        self._deps = deps
        # Stands in for an unknown name in the security-answer query, which then runs for
        # every name (request_reset). Never added to the session; no account has id 0.
        self._nobody = Account(id=0)

    def request_reset(self, username: str) -> None:
        """Queue the reset link for an account that can recover; the caller says the same
        thing either way, and the work is the same too: a known and an unknown name answered
        in 16 and 9 ms before (issue 14). Every name runs the same statements: the account,
        its security answers, one outbox row and one audit event. A name that cannot recover
        queues a message naming no one, which the mailer skips (prepare_reset: no account)."""
        account = self._deps.accounts.find_by_username(username)
        chosen = self._deps.questions.chosen_keys(account or self._nobody)
        if account is not None and self._is_recoverable(account, chosen):
            assert account.email is not None  # noqa: S101 - _is_recoverable checked it
            self._deps.outbox.enqueue(
                RESET_EMAIL, account.email, {}, locale=account.locale, account_id=account.id
            )
            self._deps.audit.record("recovery:reset:requested", subject_id=account.id)
        else:
            self._deps.outbox.enqueue(RESET_EMAIL, "", {})
            subject_id = account.id if account is not None else None
            self._deps.audit.record("recovery:reset:refused", subject_id=subject_id)

    def open_link(self, token: str) -> Account:
        """The account a reset link may recover, or the reason it cannot."""
        return self._account_of(token, RESET_PURPOSE)

    def questions_for(self, account: Account) -> list[tuple[str, LazyString]]:
        """The account's questions and their texts, in a random order."""
        return self._deps.questions.questions_to_ask(account)

    def check_answers(self, token: str, answers: Mapping[str, str]) -> str:
        """Step 1: the answers; returns the proof that step 2 (new password) needs."""
        account = self.open_link(token)
        name = str(account.id)
        minutes = self._setup.answers_throttle.locked_minutes(name)
        if minutes is not None:
            raise RecoveryLockedError(minutes=minutes)
        required = self._deps.questions.policy.required_correct
        if self._deps.questions.count_correct(account, answers) < required:
            self._deps.audit.record("recovery:answers:failed", subject_id=account.id)
            if self._setup.answers_throttle.record_failure(name):
                self._deps.audit.record("recovery:answers:locked", subject_id=account.id)
            raise AnswersWrongError
        self._setup.answers_throttle.clear(name)
        return self._setup.links.make(account.id, ANSWERED_PURPOSE, password_fingerprint(account))

    def reset_password(self, proof: str, new_password: str) -> Account:
        """Step 2: set the new password, end every session and token, tell the owner."""
        account = self._account_of(proof, ANSWERED_PURPOSE)
        self._set_password(account, new_password, "password_reset", keep_sid=None)
        return account

    def open_set_password_link(self, token: str) -> Account:
        """The new staff account an emailed "choose your password" link is for, while it has
        no password yet; or why the link cannot be used."""
        hours = self._setup.set_password_hours
        reading = self._setup.links.read(token, NEW_STAFF_PURPOSE, hours * 3600)
        account = self._session.get(Account, reading.account_id) if reading else None
        if (
            reading is None
            or account is None
            or not _can_choose_first_password(account)
            or reading.bound_to != password_fingerprint(account)
        ):
            raise SetPasswordLinkInvalidError
        if reading.is_expired:
            raise SetPasswordLinkExpiredError(hours=hours)
        return account

    def set_first_password(self, token: str, new_password: str) -> Account:
        """Choose the first password with that link, which then stops working (it is bound
        to the account having none)."""
        account = self.open_set_password_link(token)
        self._set_password(account, new_password, "password_set", keep_sid=None)
        return account

    def change_password(
        self, account: Account, current: str, new_password: str, keep_sid: str | None
    ) -> None:
        """Preferences: the current password, then the new one; other sessions end."""
        self.verify_password(account, current)
        self._set_password(account, new_password, "password_changed", keep_sid)

    def change_questions(self, account: Account, password: str, answers: Mapping[str, str]) -> None:
        """Preferences: new security questions, after the password is typed again."""
        self.verify_password(account, password)
        self._deps.questions.set_answers(account, answers, password)

    def verify_password(self, account: Account, password: str) -> None:
        """Re-authentication before a sensitive change; failures count as failed sign-ins."""
        name = account.username or str(account.id)
        minutes = self._setup.sign_in_throttle.locked_minutes(name)
        if minutes is not None:
            raise SignInLockedError(minutes=minutes)
        if not self._deps.hasher.verify(account.password_hash, password):
            self._setup.sign_in_throttle.record_failure(name)
            self._deps.audit.record("recovery:password:reauth_failed", subject_id=account.id)
            raise CurrentPasswordWrongError
        self._setup.sign_in_throttle.clear(name)

    def _set_password(
        self, account: Account, new_password: str, reason: str, keep_sid: str | None
    ) -> None:
        password_rules.check_password(new_password, self._setup.passwords, account.username)
        account.password_hash = self._deps.hasher.hash(new_password)
        self._deps.access.end_access(account, reason, keep_sid=keep_sid)
        if account.email is not None:
            self._deps.outbox.enqueue(
                CHANGED_EMAIL, account.email, {}, locale=account.locale, account_id=account.id
            )
        self._deps.audit.record(
            f"recovery:password:{reason.removeprefix('password_')}", subject_id=account.id
        )

    def _account_of(self, token: str, purpose: str) -> Account:
        max_age = self._setup.policy.reset_link_minutes * 60
        reading = self._setup.links.read(token, purpose, max_age)
        if reading is None:
            raise ResetLinkInvalidError
        account = self._session.get(Account, reading.account_id)
        if account is None or not self._can_recover(account):
            raise ResetLinkInvalidError
        if reading.bound_to != password_fingerprint(account):
            raise ResetLinkInvalidError
        if reading.is_expired:
            raise ResetLinkExpiredError(minutes=self._setup.policy.reset_link_minutes)
        return account

    def _can_recover(self, account: Account) -> bool:
        return self._is_recoverable(account, self._deps.questions.chosen_keys(account))

    @staticmethod
    def _is_recoverable(account: Account, chosen_keys: list[str]) -> bool:
        """Active guardians and staff with an email and their questions chosen. Students have
        no email: the page tells them to ask their school."""
        return (
            account.state == AccountState.ACTIVE
            and account.kind != AccountKind.STUDENT
            and account.email is not None
            and bool(chosen_keys)
        )


def _can_choose_first_password(account: Account) -> bool:
    """An active staff account created without a password (StaffService.create_staff_account)."""
    return (
        account.state == AccountState.ACTIVE
        and account.kind == AccountKind.STAFF
        and account.password_hash is None
    )
