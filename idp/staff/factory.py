"""The staff desk's one factory: every collaborator given at construction (issue 15.2)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInLocks, SignInService
from idp.credentials.students import StudentSignInService
from idp.lifecycle.service import LifecycleService
from idp.notifications.outbox import Outbox
from idp.policy.staff import StaffPolicy
from idp.registration.keys import ActivationKeyService
from idp.roster.restrictions import GuardianRestrictions
from idp.staff.roles import StaffAccounts
from idp.staff.second_factor import SecondFactorService
from idp.staff.service import StaffDeps, StaffService


def build_staff(
    *,
    session: Session,
    clock: Clock,
    policy: StaffPolicy,
    activation_keys: ActivationKeyService,
    lifecycle: LifecycleService,
    audit: AuditLog,
    access: AccessEnding,
    accounts: AccountService,
    sign_in: SignInService,
    student_sign_in: StudentSignInService,
    outbox: Outbox,
    questions: SecurityQuestionService,
    second_factor: SecondFactorService,
) -> StaffService:
    """The school's desk: the use cases in which a staff member acts, each authorized once,
    composed from the capabilities that own the rules; `policy` (staff.toml) says which role
    may do which action."""
    deps = StaffDeps(
        restrictions=GuardianRestrictions(session, clock),
        keys=activation_keys,
        lifecycle=lifecycle,
        audit=audit,
        access=access,
        accounts=accounts,
        student_sign_in=student_sign_in,
        sign_in_locks=SignInLocks(sign_in, student_sign_in),
        outbox=outbox,
        questions=questions,
        second_factor=second_factor,
        staff_accounts=StaffAccounts(session, policy, accounts, audit, outbox),
    )
    return StaffService(session, policy, deps)
