"""The credentials capability's one factory: every collaborator given at construction
(issue 15.2)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.hashing import SecretHasher
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import LegacySignIn, SignInService, SignInSetup
from idp.credentials.students import StudentSignInService, StudentSignInSetup
from idp.policy import CredentialsPolicy, RegistrationPolicy, RolloutPolicy, StudentsPolicy


@dataclass(frozen=True)
class CredentialServices:
    """What the credentials capability offers: portal and student sign-in, and the
    security questions (asked by recovery)."""

    sign_in: SignInService
    student_sign_in: StudentSignInService
    questions: SecurityQuestionService


def build_credentials(
    *,
    session: Session,
    clock: Clock,
    policy: CredentialsPolicy,
    students: StudentsPolicy,
    rollout: RolloutPolicy,
    registration: RegistrationPolicy,
    hasher: SecretHasher,
    name_key: bytes,
    accounts: AccountService,
    audit: AuditLog,
    bridge: LegacySignIn,
) -> CredentialServices:
    """Portal sign-in, which also accepts IC credentials through the bridge (DESIGN.md 5);
    student sign-in (accounts.toml [students]) with its own lockout; security questions."""
    setup = SignInSetup(
        lockout=policy.lockout,
        hasher=hasher,
        name_key=name_key,
        provisioning_minutes=registration.provisioning_promise_minutes,
        link_hours=registration.email_link_hours,
    )
    sign_in = SignInService(session, clock, setup, accounts, audit, bridge)
    student_setup = StudentSignInSetup(
        policy=students,
        rollout=rollout,
        passwords=policy.passwords,
        hasher=hasher,
        name_key=name_key,
    )
    return CredentialServices(
        sign_in=sign_in,
        student_sign_in=StudentSignInService(session, clock, student_setup, accounts, audit),
        questions=SecurityQuestionService(session, clock, policy.security_questions, hasher, audit),
    )
