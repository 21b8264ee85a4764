"""The school's desk (DESIGN.md 5, "Staff console"): the use cases in which a staff member acts.

Each use case authorizes the staff member once for its action (idp/staff/access.py: the role
decides the action, policies/staff.toml [actions]; the assignment the schools), asks the capability
that owns the rule to do its part (roster: relationships; registration: activation keys and its
emails; lifecycle: account states; credentials: sign-in locks, security questions, district
passwords; recovery: a new staff account's link; the second factor), ends access through the
one path (DESIGN.md 7) when the act takes access away and writes the one audit event of the act
(who, on which account, why); the edge commits, and a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.ending import AccessEnding
from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.accounts.rules import (
    can_receive_tokens,
    can_receive_tokens_sql,
    username_key,
    username_matches_sql,
)
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.credentials.questions import SecurityQuestionService
from idp.credentials.service import SignInLocks
from idp.credentials.students import StudentSignInService
from idp.errors import DomainError
from idp.lifecycle import errors as lifecycle_errors
from idp.lifecycle.service import LifecycleService
from idp.notifications.outbox import Outbox
from idp.policy import DISTRICT_PASSWORD
from idp.policy.staff import DISTRICT_ADMIN, STAFF_ROLES, StaffPolicy
from idp.recovery.service import send_set_password_link
from idp.registration import messages
from idp.registration.errors import PersonNotFoundError, StaffNotAllowedError
from idp.registration.keys import ActivationKeyService, IssuedKey
from idp.roster import errors as roster_errors
from idp.roster.models import Relationship, School
from idp.roster.restrictions import REASON_MAX_LENGTH, GuardianRestrictions
from idp.staff import errors, policy_errors
from idp.staff.access import authorized_for_school, authorized_staff, students_of
from idp.staff.models import StaffAssignment
from idp.staff.rules import cleaned_reason
from idp.staff.second_factor import SecondFactorService

CANCEL_REASON_MAX_LENGTH = 500
DESK_REASON_MAX_LENGTH = 500  # the reason of the other desk actions (staff.toml [actions])
SIGNED_OUT_BY_STAFF = "signed_out_by_staff"  # the reason of its `oidc:access:ended` event
VIA_COMMAND_LINE = "command line"


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


@dataclass(frozen=True)
class RoleAssignment:
    """One staff role as the desk shows it: school code, or None for district-wide."""

    username: str
    role: str
    school: str | None


@dataclass(frozen=True)
class RoleChange:
    """What `grant` or `revoke` did: `is_changed` False when it was so already."""

    assignment: RoleAssignment
    is_changed: bool


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
        # of theirs (a stand-in, never added to the session: a key's guardian has none yet).
        guardian = Account(kind=AccountKind.GUARDIAN, person_id=person.id)
        students = students_of(self._session, guardian)
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
        if staff_username is None:
            account = self._live_account(account_id)
            # Nobody acts: a stand-in never added to the session, so the event has no actor.
            admin = Account(kind=AccountKind.STAFF)
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
        """A staff account (no roster Person, no role yet) without a usable password: the
        email gets a one-time link to choose one. Username and email rules as for guardians.
        `acting` as for `grant` (manage_staff, district-wide); None for the command line."""
        manager = self._manager(acting, None)
        new = NewAccount(
            kind=AccountKind.STAFF,
            state=AccountState.ACTIVE,
            username=username.strip(),
            email=email,
        )
        account = self._accounts.create(new)
        send_set_password_link(self._outbox, account)
        via = {} if manager is not None else {"via": VIA_COMMAND_LINE}
        actor_id = manager.id if manager is not None else None
        self._audit.record("staff:account:created", actor_id=actor_id, subject_id=account.id, **via)
        return account

    def grant(
        self, username: str, role: str, school_code: str | None, acting: str | None
    ) -> RoleChange:
        """Give the active staff account `username` the `role` at the school `school_code`
        (district-wide, no school, for district_admin); nothing changes if it holds it already.
        `acting` is the staff member doing it; None for the command line, which district IT
        runs on the server (trusted, like `idp roster import`)."""
        school = self._school(role, school_code, is_active_required=True)
        manager = self._manager(acting, school)  # before anything about the account is told
        account = self._staff_account(username)
        if not can_receive_tokens(account.state):
            raise policy_errors.StaffAccountInactiveError(username=account.username)
        assignment = self._assignment(account, role, school)
        shown = RoleAssignment(account.username or username, role, school_code_of(school))
        if assignment is not None:
            return RoleChange(shown, is_changed=False)
        school_id = school.id if school is not None else None
        self._session.add(StaffAssignment(account_id=account.id, school_id=school_id, role=role))
        self._session.flush()
        self._record_role("staff:role:granted", account, shown, manager)
        return RoleChange(shown, is_changed=True)

    def revoke(
        self, username: str, role: str, school_code: str | None, acting: str | None
    ) -> RoleChange:
        """Take the `role` at `school_code` away from the staff account `username` (any
        state); nothing changes if it does not hold it. The last active district admin keeps
        the role. `acting` as for `grant`."""
        school = self._school(role, school_code, is_active_required=False)
        manager = self._manager(acting, school)
        account = self._staff_account(username)
        assignment = self._assignment(account, role, school)
        shown = RoleAssignment(account.username or username, role, school_code_of(school))
        if assignment is None:
            return RoleChange(shown, is_changed=False)
        if role == DISTRICT_ADMIN and can_receive_tokens(account.state):
            self._keep_a_district_admin(account)
        self._session.delete(assignment)
        self._session.flush()
        self._record_role("staff:role:revoked", account, shown, manager)
        return RoleChange(shown, is_changed=True)

    def assignments(self, username: str | None = None) -> list[RoleAssignment]:
        """Every staff role, or those of the staff account `username`, by username."""
        query = (
            select(Account.username, StaffAssignment.role, School.sis_id)
            .join(Account, Account.id == StaffAssignment.account_id)
            .outerjoin(School, School.id == StaffAssignment.school_id)
        )
        if username is not None:
            query = query.where(StaffAssignment.account_id == self._staff_account(username).id)
        found = [
            RoleAssignment(row.username, row.role, row.sis_id)
            for row in self._session.execute(query)
        ]
        return sorted(
            found, key=lambda one: (username_key(one.username), one.role, one.school or "")
        )

    def _staff_account(self, username: str) -> Account:
        account = self._session.execute(
            select(Account).where(username_matches_sql(Account.username, username_key(username)))
        ).scalar_one_or_none()
        if account is None:
            raise policy_errors.StaffAccountNotFoundError(username=username)
        if account.kind != AccountKind.STAFF:
            raise policy_errors.NotAStaffAccountError(username=username)
        return account

    def _school(self, role: str, code: str | None, *, is_active_required: bool) -> School | None:
        """The school a role is held at: none for district_admin, one for the others."""
        if role not in STAFF_ROLES:  # the edges offer only these (click.Choice)
            raise ValueError(f"unknown staff role {role!r}")
        if role == DISTRICT_ADMIN:
            if code is not None:
                raise policy_errors.DistrictAdminSchoolError
            return None
        if code is None:
            raise policy_errors.SchoolRequiredError(role=role)
        query = select(School).where(School.sis_id == code.strip())
        if is_active_required:
            query = query.where(School.is_active.is_(True))
        school = self._session.execute(query).scalar_one_or_none()
        if school is None:
            raise policy_errors.SchoolNotFoundError(school=code)
        return school

    def _manager(self, acting: str | None, school: School | None) -> Account | None:
        """The staff member allowed manage_staff for `school` (None: district-wide), or None
        for the command line."""
        if acting is None:  # district IT on the server: trusted, audited `via: command line`
            return None
        school_id = school.id if school is not None else None
        manager = authorized_for_school(
            self._session, self._policy, acting, "manage_staff", school_id
        )
        if manager is None:
            raise policy_errors.StaffManagementNotAllowedError
        return manager

    def _assignment(
        self, account: Account, role: str, school: School | None
    ) -> StaffAssignment | None:
        at_school = (
            StaffAssignment.school_id.is_(None)
            if school is None
            else StaffAssignment.school_id == school.id
        )
        return self._session.execute(
            select(StaffAssignment).where(
                StaffAssignment.account_id == account.id,
                StaffAssignment.role == role,
                at_school,
            )
        ).scalar_one_or_none()

    def _keep_a_district_admin(self, account: Account) -> None:
        """Refuse to take the role from the last active district admin. The rows are locked
        (PostgreSQL) so that two admins revoking each other at once cannot both succeed: the
        second waits, then no longer counts the first."""
        holders = self._session.execute(
            select(StaffAssignment.account_id)
            .join(Account, Account.id == StaffAssignment.account_id)
            .where(StaffAssignment.role == DISTRICT_ADMIN, can_receive_tokens_sql(Account.state))
            .with_for_update(of=StaffAssignment)
        ).scalars()
        if all(holder == account.id for holder in holders):
            raise policy_errors.LastDistrictAdminError(username=account.username)

    def _record_role(
        self, event: str, account: Account, shown: RoleAssignment, manager: Account | None
    ) -> None:
        details: dict[str, Any] = {"role": shown.role, "school": shown.school}
        if manager is None:
            details["via"] = VIA_COMMAND_LINE
        actor_id = manager.id if manager is not None else None
        self._audit.record(event, actor_id=actor_id, subject_id=account.id, **details)

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


def school_code_of(school: School | None) -> str | None:
    """A school's code (its SIS id), or None for district-wide."""
    return school.sis_id if school is not None else None


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
