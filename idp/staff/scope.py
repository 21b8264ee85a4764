"""Whom a staff member may see at the desk (issue 16.2): persons enrolled at, or guardians of
students enrolled at, the schools where they hold a role, and staff holding a role at those
schools; a district admin sees everyone. Another school's person is "not found" (a 404 at the
console), never "forbidden": the desk does not tell which persons exist elsewhere.

Seeing is not acting: each action is authorized again by its role (idp/staff/access.py,
staff.toml [actions]).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.accounts.rules import can_receive_tokens_sql
from idp.policy.staff import DISTRICT_ADMIN
from idp.roster.models import Enrollment, Person, Relationship
from idp.staff.models import StaffAssignment


@dataclass(frozen=True)
class StaffScope:
    """A signed-in staff member and the schools they work for; `school_ids` None: district-wide."""

    account_id: int
    username: str
    roles: frozenset[str]
    school_ids: frozenset[int] | None

    @property
    def is_district_wide(self) -> bool:
        """A district admin: every school."""
        return self.school_ids is None

    def students_sql(self) -> Select[Any]:
        """The Person ids of the students actively enrolled at the scope's schools."""
        query = select(Enrollment.person_id).where(Enrollment.is_active.is_(True))
        if self.school_ids is not None:
            query = query.where(Enrollment.school_id.in_(sorted(self.school_ids)))
        return query

    def guardians_sql(self) -> Select[Any]:
        """The Person ids of the guardians of those students (active relationships,
        restricted ones included: the desk must see a restriction to lift it)."""
        return select(Relationship.guardian_id).where(
            Relationship.is_active.is_(True), Relationship.student_id.in_(self.students_sql())
        )

    def staff_sql(self) -> Select[Any]:
        """The account ids of staff holding a role at the scope's schools."""
        query = select(StaffAssignment.account_id)
        if self.school_ids is not None:
            query = query.where(StaffAssignment.school_id.in_(sorted(self.school_ids)))
        return query

    def persons_condition(self, person_id: Any) -> ColumnElement[bool]:
        """SQL: the roster Person `person_id` is within the scope."""
        if self.school_ids is None:
            return true()
        if not self.school_ids:
            return false()
        # Correlated: a few index probes per person. The uncorrelated `IN` built every student
        # and guardian of the schools first: at a million persons PostgreSQL read the whole
        # relationship table for each check of one person (about 190 ms instead of 0.3 ms).
        students = self.students_sql().where(Enrollment.person_id == person_id)
        guardians = self.guardians_sql().where(Relationship.guardian_id == person_id)
        return or_(
            students.correlate_except(Enrollment).exists(),
            guardians.correlate_except(Relationship).exists(),
        )

    def accounts_condition(self) -> ColumnElement[bool]:
        """SQL on `Account`: the account is within the scope (its Person is, or it is staff
        of the scope's schools). Accounts without a Person (IC bridge before linking) are seen
        by district admins only."""
        if self.school_ids is None:
            return true()
        if not self.school_ids:
            return false()
        return or_(self.persons_condition(Account.person_id), Account.id.in_(self.staff_sql()))


def staff_scope(
    session: Session, account: Account, roles: Iterable[str] | None = None
) -> StaffScope | None:
    """The scope of an active staff account with at least one role (of `roles`, when given:
    the schools where it holds a role that may do one action); None otherwise (not staff,
    not active, or no such role: such an account has no desk, or may not do that action)."""
    if account.kind != AccountKind.STAFF or account.username is None:
        return None
    query = (
        select(StaffAssignment.role, StaffAssignment.school_id)
        .join(Account, Account.id == StaffAssignment.account_id)
        .where(StaffAssignment.account_id == account.id, can_receive_tokens_sql(Account.state))
    )
    if roles is not None:
        query = query.where(StaffAssignment.role.in_(list(roles)))
    rows = session.execute(query).all()
    if not rows:
        return None
    held = frozenset(row.role for row in rows)
    schools = (
        None
        if DISTRICT_ADMIN in held
        else frozenset(row.school_id for row in rows if row.school_id is not None)
    )
    return StaffScope(account.id, account.username, held, schools)


def can_see_account(session: Session, scope: StaffScope, account_id: int) -> bool:
    """Whether the account `account_id` exists and is within the scope."""
    found = session.execute(
        select(Account.id).where(Account.id == account_id, scope.accounts_condition())
    ).first()
    return found is not None


def can_see_person(session: Session, scope: StaffScope, person_id: int) -> bool:
    """Whether the roster Person `person_id` exists and is within the scope."""
    found = session.execute(
        select(Person.id).where(Person.id == person_id, scope.persons_condition(Person.id))
    ).first()
    return found is not None
