"""District IT's side of the desk (issues 16.1, 16.5): staff accounts and their roles.

A staff account has no roster Person; it is created without a usable password (its owner
chooses one with an emailed one-time link, which district IT may send again while the account
has none) and gets roles (policies/staff.toml) at a school, or
district-wide for district_admin. Each use case is done by a staff member allowed manage_staff
(`acting`), or by the command line (`acting=None`): district IT on the server, trusted, audited
`via: "command line"`. StaffService (idp/staff/service.py) offers these use cases to the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.rules import (
    can_receive_tokens,
    can_receive_tokens_sql,
    username_key,
    username_matches_sql,
)
from idp.accounts.service import AccountService, NewAccount
from idp.audit.service import AuditLog
from idp.notifications.outbox import Outbox
from idp.policy.staff import DISTRICT_ADMIN, STAFF_ROLES, StaffPolicy
from idp.recovery.service import send_set_password_link
from idp.roster.models import School
from idp.staff import errors, policy_errors
from idp.staff.access import VIA_COMMAND_LINE, authorized_for_school
from idp.staff.models import StaffAssignment


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


class StaffAccounts:
    """Staff accounts (created, sent their set-password link again) and their roles (granted,
    revoked, listed)."""

    def __init__(
        self,
        session: Session,
        policy: StaffPolicy,
        accounts: AccountService,
        audit: AuditLog,
        outbox: Outbox,
    ) -> None:
        self._session = session
        self._policy = policy
        self._accounts = accounts
        self._audit = audit
        self._outbox = outbox

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
        self._record("staff:account:created", account, manager, {})
        return account

    def send_set_password_link(self, username: str, acting: str | None) -> Account:
        """Email the active staff account `username`, still without a password, a new
        one-time link to choose one: the first one expired or got lost, and forgot-password
        needs security questions, which a new staff account has none of. `acting` as for
        `create_staff_account`."""
        manager = self._manager(acting, None)  # before anything about the account is told
        account = self._staff_account(username)
        if account.state != AccountState.ACTIVE or account.email is None:
            raise errors.StaffAccountCannotGetLinkError
        if account.password_hash is not None:
            raise errors.StaffPasswordAlreadySetError
        send_set_password_link(self._outbox, account)
        self._record("staff:set_password_link:sent", account, manager, {})
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
        self._record(event, account, manager, {"role": shown.role, "school": shown.school})

    def _record(
        self, event: str, account: Account, manager: Account | None, details: dict[str, Any]
    ) -> None:
        """The one audit event: by the manager, or `via` the command line (no actor)."""
        if manager is None:
            details["via"] = VIA_COMMAND_LINE
        actor_id = manager.id if manager is not None else None
        self._audit.record(event, actor_id=actor_id, subject_id=account.id, **details)


def school_code_of(school: School | None) -> str | None:
    """A school's code (its SIS id), or None for district-wide."""
    return school.sis_id if school is not None else None
