"""Recovery's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.throttle import FailureThrottle
from idp.notifications.outbox import Outbox
from idp.policy import LockoutPolicy, PasswordPolicy, RecoveryPolicy
from idp.recovery.messages import RecoveryMessages
from idp.recovery.service import RecoveryDeps, RecoveryService, RecoverySetup
from idp.registration.messages import EmailLinks


@dataclass(frozen=True)
class RecoveryServices:
    """What recovery offers: forgot and change password, and their emails."""

    recovery: RecoveryService
    messages: RecoveryMessages


def build_recovery(
    *,
    session: Session,
    clock: Clock,
    policy: RecoveryPolicy,
    passwords: PasswordPolicy,
    lockout: LockoutPolicy,
    name_key: bytes,
    links: EmailLinks,
    accounts: AccountService,
    hasher: SecretHasher,
    questions: SecurityQuestionService,
    outbox: Outbox,
    audit: AuditLog,
    access: AccessEnding,
) -> RecoveryServices:
    """Forgot and change password (security questions, emailed links), and their emails."""
    setup = RecoverySetup(
        policy=policy,
        passwords=passwords,
        links=links.signer,
        answers_throttle=FailureThrottle(session, clock, lockout, name_key, "recover:"),
        sign_in_throttle=FailureThrottle(session, clock, lockout, name_key),
        set_password_hours=links.policy.email_link_hours,
    )
    deps = RecoveryDeps(
        accounts=accounts,
        hasher=hasher,
        questions=questions,
        outbox=outbox,
        audit=audit,
        access=access,
    )
    return RecoveryServices(
        recovery=RecoveryService(session, clock, setup, deps),
        messages=RecoveryMessages(session, links, policy.reset_link_minutes),
    )
