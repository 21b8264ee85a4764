"""The school's desk (DESIGN.md 5, "Staff console"): the use cases in which a staff member acts.

Each use case authorizes the staff member once for its action (idp/staff/access.py: the role
decides the action, policies/staff.toml [actions]; the assignment the schools), asks the capability
that owns the rule to do its part (roster: relationships; registration: activation keys and its
emails; lifecycle: account states; credentials: sign-in locks, security questions, district
passwords; the second factor), ends access through the one path (DESIGN.md 7) when the act
takes access away and writes the one audit event of the act (who, on which account, why); the
edge commits, and a refusal changes nothing. District IT's part, staff accounts and their roles,
is idp/staff/roles.py (StaffAccounts): StaffService hands those use cases on, so that the edges
reach every staff use case through `services.staff`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.models import RELEASED_STATES, Account, AccountKind
from idp.accounts.service import AccountService
from idp.audit.service import AuditLog
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInLocks
from idp.credentials.students import StudentSignInService
from idp.errors import DomainError
from idp.lifecycle import errors as lifecycle_errors
from idp.lifecycle.service import LifecycleService
from idp.notifications.outbox import Outbox
from idp.policy import DISTRICT_PASSWORD
from idp.policy.staff import StaffPolicy
from idp.registration import messages
from idp.registration.errors import PersonNotFoundError, StaffNotAllowedError
from idp.registration.keys import ActivationKeyService, IssuedKey
from idp.roster import errors as roster_errors
from idp.roster.models import Relationship
from idp.roster.restrictions import REASON_MAX_LENGTH, GuardianRestrictions
from idp.staff import errors
from idp.staff.access import authorized_staff, students_of, students_of_person
from idp.staff.roles import RoleAssignment, RoleChange, StaffAccounts
from idp.staff.rules import cleaned_reason
from idp.staff.second_factor import SecondFactorService

CANCEL_REASON_MAX_LENGTH = 500
DESK_REASON_MAX_LENGTH = 500  # the reason of the other desk actions (staff.toml [actions])
SIGNED_OUT_BY_STAFF = "signed_out_by_staff"  # the reason of its `oidc:access:ended` event


@dataclass(frozen=True)
class StaffDeps:
    """The capabilities the staff desk composes."""

    restrictions: GuardianRestrictions
    keys: ActivationKeyService
    lifecycle: LifecycleService
    audit: AuditLog
    access: AccessEnding  # the one path that ends access (oidc.logout.LogoutService)
    accounts: AccountService
    student_sign_in: StudentSignInService
    sign_in_locks: SignInLocks
    outbox: Outbox
    questions: SecurityQuestionService
    second_factor: SecondFactorService
    staff_accounts: StaffAccounts  # district IT's part: staff accounts and their roles


class StaffService:
    """The desk's acts on guardians, students and staff (restrictions, activation keys,
    cancellation, re-enabling, sign-in locks, emails sent again, security questions,
    district passwords, signing out, second factors), and staff accounts and roles."""

    def __init__(self, session: Session, policy: StaffPolicy, deps: StaffDeps) -> None:
        self._session = session
        self._policy = policy
        self._restrictions = deps.restrictions
        self._keys = deps.keys
        self._lifecycle = deps.lifecycle
        self._audit = deps.audit
        self._access = deps.access
        self._accounts = deps.accounts
        self._students = deps.student_sign_in
        self._locks = deps.sign_in_locks
        self._outbox = deps.outbox
        self._questions = deps.questions
        self._second_factor = deps.second_factor
        self._staff_accounts = deps.staff_accounts

    def restrict_guardian(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Restrict the relationship, end the guardian's access everywhere."""
        relationship, staff, reason = self._relationship_act(
            "restrict_guardian", (guardian_person_id, student_person_id), staff_username, reason
        )
        self._restrictions.restrict(relationship, staff, reason)
        self._record_relationship("roster:relationship:restricted", relationship, staff, reason)
        for account in self._restrictions.guardian_accounts(relationship):
            self._access.end_access(
                account, "guardian_restricted", student_id=relationship.student_id
            )
        return relationship

    def lift_restriction(
        self, guardian_person_id: str, student_person_id: str, staff_username: str, reason: str
    ) -> Relationship:
        """Lift the restriction; the child shows again from the next sign-in."""
        relationship, staff, reason = self._relationship_act(
            "lift_restriction", (guardian_person_id, student_person_id), staff_username, reason
        )
        self._restrictions.lift(relationship)
        self._record_relationship("roster:relationship:lifted", relationship, staff, reason)
        return relationship

    def _relationship_act(
        self, action: str, person_ids: tuple[str, str], staff_username: str, reason: str
    ) -> tuple[Relationship, Account, str]:
        """The relationship (guardian, student Person IDs) a restriction or its lifting is
        about, the staff member allowed the `action` for its student, and the checked reason;
        or the refusal."""
        relationship = self._restrictions.find(*person_ids)
        refusal = roster_errors.RestrictionNotAllowedError
        staff = self._authorized(staff_username, action, [relationship.student_id], refusal)
        return relationship, staff, _restriction_reason(reason)

    def issue_activation_key(
        self, sis_person_id: str, staff_username: str, id_type: str
    ) -> IssuedKey:
        """Issue a key to the guardian after a photo-ID check (revoking any earlier one),
        or raise why not."""
        guardian = self._keys.eligible_guardian(sis_person_id, id_type)
        staff = self._authorized(
            staff_username, "issue_activation_key", guardian.student_ids, StaffNotAllowedError
        )
        issued = self._keys.create_activation_key(guardian.person, staff, id_type)
        self._audit.record(
            "registration:key:issued",
            actor_id=staff.id,
            person_id=guardian.person.id,
            id_type=id_type,
        )
        return issued

    def revoke_activation_key(
        self, sis_person_id: str, staff_username: str, reason: str | None = None
    ) -> list[int]:
        """Revoke the guardian's activation key that could still register (a letter lost or
        given to the wrong person); return the ids of the keys revoked."""
        cleaned = _desk_reason(reason, is_required=False)
        person = self._keys.find_person(sis_person_id)
        if person is None:
            raise PersonNotFoundError
        # Whose schools' staff may act: those of the guardian's students, as for an account
        # of theirs (a key's guardian has none yet).
        students = students_of_person(self._session, person.id, AccountKind.GUARDIAN)
        staff = self._authorized(staff_username, "revoke_activation_key", students, _NOT_ALLOWED)
        keys = self._keys.outstanding_keys(person.id)
        if not keys:
            raise errors.NoActivationKeyError
        self._keys.revoke(keys)
        key_ids = [key.id for key in keys]
        self._record(
            "registration:key:revoked", staff, None, cleaned, person_id=person.id, key_ids=key_ids
        )
        return key_ids

    def find_account(self, identifier: str) -> Account:
        """The live account a username (any case) or a student's student ID names, for the
        command line; the console passes account ids. A username is tried first."""
        account = self._accounts.find_by_username(identifier) if identifier.strip() else None
        if account is None:
            account = self._students.account_of(identifier)
        if account is None or account.state in RELEASED_STATES:
            raise errors.DeskAccountNotFoundError
        return account

    def re_enable_account(self, account_id: int, staff_username: str, reason: str) -> Account:
        """Turn an account the lifecycle disabled back on, after staff checked the owner's
        identity (`reason` says how); a new idle period starts now."""
        cleaned = _desk_reason(reason, is_required=True)
        account, staff = self._target(account_id, staff_username, "re_enable_account")
        if not self._lifecycle.re_enable(account):
            raise errors.AccountNotDisabledError
        self._record("lifecycle:account:re_enabled", staff, account, cleaned)
        return account

    def clear_sign_in_lock(
        self, account_id: int, staff_username: str, reason: str | None = None
    ) -> Account:
        """End the account's sign-in lock (too many failures) before it runs out."""
        cleaned = _desk_reason(reason, is_required=False)
        account, staff = self._target(account_id, staff_username, "clear_sign_in_lock")
        if not self._locks.clear(account):
            raise errors.SignInNotLockedError
        self._record("credentials:sign_in_lock:cleared", staff, account, cleaned)
        return account

    def resend_verification(self, account_id: int, staff_username: str) -> Account:
        """Send the email confirmation link again to a registration still waiting for it."""
        account, staff = self._target(account_id, staff_username, "resend_verification")
        if not messages.is_waiting_for_email(account):
            raise errors.NotWaitingForEmailError
        messages.send_verify_email(self._outbox, account)
        self._record("registration:email:resent", staff, account, None)
        return account

    def resend_account_ready(self, account_id: int, staff_username: str) -> Account:
        """Send the "your account is ready" email again to an active account."""
        account, staff = self._target(account_id, staff_username, "resend_account_ready")
        if not messages.is_ready_to_use(account):
            raise errors.AccountNotReadyError
        messages.send_account_ready(self._outbox, account)
        self._record("registration:account_ready:resent", staff, account, None)
        return account

    def send_username_reminder(self, account_id: int, staff_username: str) -> Account:
        """Email the account's username to its address, as "Forgot username" does (at most
        one reminder per address in REMINDER_INTERVAL_MINUTES is really sent)."""
        account, staff = self._target(account_id, staff_username, "send_username_reminder")
        if not messages.has_username_to_remind(account):
            raise errors.NoUsernameToRemindError
        assert account.email is not None  # noqa: S101 - has_username_to_remind checked it
        messages.send_username_reminder(self._outbox, account.email, account.locale)
        self._record("registration:username_reminder:requested", staff, account, None)
        return account

    def reset_security_questions(
        self, account_id: int, staff_username: str, reason: str
    ) -> Account:
        """Remove a guardian's security answers after an identity check (`reason`): new
        questions are asked before their next sign-in goes on to an app."""
        cleaned = _desk_reason(reason, is_required=True)
        account, staff = self._target(account_id, staff_username, "reset_security_questions")
        if not self._questions.reset_answers(account):
            raise errors.NoSecurityQuestionsError
        self._record("credentials:security_questions:reset", staff, account, cleaned)
        return account

    def set_student_password(
        self, account_id: int, staff_username: str, new_password: str
    ) -> Account:
        """Set a student's district password (accounts.toml students.login =
        "district_password"); the student's sessions and app tokens end."""
        if self._students.login != DISTRICT_PASSWORD:
            raise errors.DistrictPasswordNotUsedError
        account, staff = self._target(account_id, staff_username, "set_student_password")
        if account.kind != AccountKind.STUDENT:
            raise errors.NotAStudentAccountError
        self._students.set_account_password(account, new_password)
        self._access.end_access(account, "password_reset")
        self._record("credentials:student_password:set", staff, account, None)  # no password
        return account

    def sign_out_everywhere(
        self, account_id: int, staff_username: str, reason: str | None = None
    ) -> Account:
        """End every session and app token of the account (a shared or lost device), through
        the one path that ends access: every app it signed in to is told."""
        cleaned = _desk_reason(reason, is_required=False)
        account, staff = self._target(account_id, staff_username, "sign_out_everywhere")
        self._access.end_access(account, SIGNED_OUT_BY_STAFF)
        self._record("oidc:account:signed_out", staff, account, cleaned)
        return account

    def reset_second_factor(
        self, account_id: int, staff_username: str | None, reason: str
    ) -> Account:
        """Remove a staff member's lost authenticator app and recovery codes (a district
        admin, staff.toml reset_second_factor): they set up a new one at the next sign-in.
        `staff_username` None is the command line, district IT on the server (trusted)."""
        admin: Account | None = None  # the command line: nobody acts, audited `via` it
        if staff_username is None:
            account = self._live_account(account_id)
        else:
            account, admin = self._target(account_id, staff_username, "reset_second_factor")
        if account.kind != AccountKind.STAFF:
            raise errors.NotStaffAccountError
        self._second_factor.reset(account, admin, reason)  # checks the reason, audits once
        return account

    def cancel_account(self, username: str, staff_username: str, reason: str) -> Account:
        """Cancel the account on the school's word: access ends at once and the email may
        register again from the start."""
        cleaned = cleaned_reason(reason, CANCEL_REASON_MAX_LENGTH)
        if cleaned is None:
            raise lifecycle_errors.CancelReasonRequiredError(max_length=CANCEL_REASON_MAX_LENGTH)
        account = self._lifecycle.find_cancellable(username)
        students = students_of(self._session, account)
        refusal = lifecycle_errors.CancelNotAllowedError
        staff = self._authorized(staff_username, "cancel_account", students, refusal)
        if account.kind == AccountKind.STAFF:  # no school desk closes a staff account
            raise lifecycle_errors.CancelNotAllowedError
        self._lifecycle.cancel(account)
        self._access.end_access(account, "cancelled")
        self._audit.record(
            "lifecycle:account:cancelled", actor_id=staff.id, subject_id=account.id, reason=cleaned
        )
        return account

    def create_staff_account(self, username: str, email: str, acting: str | None) -> Account:
        """A staff account without a usable password, its link to choose one emailed
        (StaffAccounts.create_staff_account)."""
        return self._staff_accounts.create_staff_account(username, email, acting)

    def send_set_password_link(self, username: str, acting: str | None) -> Account:
        """Email a staff account still without a password a new link to choose one
        (StaffAccounts.send_set_password_link); `acting` None: the command line."""
        return self._staff_accounts.send_set_password_link(username, acting)

    def grant(
        self, username: str, role: str, school_code: str | None, acting: str | None
    ) -> RoleChange:
        """Give a staff account a role (StaffAccounts.grant); `acting` None: the command line."""
        return self._staff_accounts.grant(username, role, school_code, acting)

    def revoke(
        self, username: str, role: str, school_code: str | None, acting: str | None
    ) -> RoleChange:
        """Take a role from a staff account (StaffAccounts.revoke)."""
        return self._staff_accounts.revoke(username, role, school_code, acting)

    def assignments(self, username: str | None = None) -> list[RoleAssignment]:
        """Every staff role, or those of the staff account `username` (StaffAccounts)."""
        return self._staff_accounts.assignments(username)

    def _target(self, account_id: int, staff_username: str, action: str) -> tuple[Account, Account]:
        """The live account `account_id`, its row locked, and the staff member allowed
        `action` for it; or the refusal, the same whichever school the person is at."""
        account = self._live_account(account_id)
        students = students_of(self._session, account)
        return account, self._authorized(staff_username, action, students, _NOT_ALLOWED)

    def _live_account(self, account_id: int) -> Account:
        """The account `account_id`, its row locked, unless cancelled, deleted or removed."""
        account = self._session.get(Account, account_id, with_for_update=True)
        if account is None or account.state in RELEASED_STATES:
            raise errors.DeskAccountNotFoundError
        return account

    def _record(
        self, event: str, staff: Account, account: Account | None, reason: str | None, **data: Any
    ) -> None:
        """The one audit event of a desk action: who, on which account, why (if said)."""
        if reason is not None:
            data["reason"] = reason
        subject_id = account.id if account is not None else None
        self._audit.record(event, actor_id=staff.id, subject_id=subject_id, **data)

    def _authorized(
        self, username: str, action: str, student_ids: Iterable[int], refusal: type[DomainError]
    ) -> Account:
        """The staff account allowed `action` for these students, or `refusal` raised."""
        staff = authorized_staff(self._session, self._policy, username, action, student_ids)
        if staff is None:
            raise refusal
        return staff

    def _record_relationship(
        self, event: str, relationship: Relationship, staff: Account, reason: str
    ) -> None:
        # The issue asks for the legal reason in the audit trail: it is staff's own wording of
        # a court order or school decision, not a secret.
        details: dict[str, Any] = {
            "guardian_person_id": relationship.guardian_id,
            "student_person_id": relationship.student_id,
            "relationship_id": relationship.id,
            "reason": reason,
        }
        self._audit.record(event, actor_id=staff.id, **details)


_NOT_ALLOWED = errors.DeskActionNotAllowedError


def _desk_reason(reason: str | None, *, is_required: bool) -> str | None:
    """Staff's reason for a desk action on one line, None when an optional one is left out;
    or the refusal (missing when required, or too long)."""
    if not is_required and (reason is None or not reason.strip()):
        return None
    cleaned = cleaned_reason(reason or "", DESK_REASON_MAX_LENGTH)
    if cleaned is None:
        raise errors.DeskReasonRequiredError(max_length=DESK_REASON_MAX_LENGTH)
    return cleaned


def _restriction_reason(reason: str) -> str:
    cleaned = cleaned_reason(reason, REASON_MAX_LENGTH)
    if cleaned is None:
        raise roster_errors.RestrictionReasonRequiredError(max_length=REASON_MAX_LENGTH)
    return cleaned
