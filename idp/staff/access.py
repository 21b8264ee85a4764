"""Which staff may do which desk action for which students: the role decides the action
(staff.toml [actions]), the assignment the schools (district admins: all)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.accounts.rules import can_receive_tokens_sql, username_key, username_matches_sql
from idp.policy.staff import DISTRICT_ADMIN, StaffPolicy
from idp.roster.models import Enrollment, Relationship
from idp.staff.models import StaffAssignment

# What the audit event of a use case run by the command line says instead of an actor: district
# IT on the server, trusted (`acting=None`, `staff_username=None`), acts as nobody.
VIA_COMMAND_LINE = "command line"


def active_staff(session: Session, username: str) -> Account | None:
    """The active staff account `username`, or None (unknown, inactive, not staff)."""
    return session.execute(
        select(Account).where(
            username_matches_sql(Account.username, username_key(username)),
            Account.kind == AccountKind.STAFF,
            can_receive_tokens_sql(Account.state),
        )
    ).scalar_one_or_none()


def authorized_staff(
    session: Session, policy: StaffPolicy, username: str, action: str, student_ids: Iterable[int]
) -> Account | None:
    """The active staff account `username` if it holds a role that staff.toml allows `action`,
    district-wide or at a school where one of the students is actively enrolled; None
    otherwise (unknown, inactive, another school or a role not allowed)."""
    schools = select(Enrollment.school_id).where(
        Enrollment.person_id.in_(list(student_ids)), Enrollment.is_active.is_(True)
    )
    return _holding(session, policy, username, action, StaffAssignment.school_id.in_(schools))


def authorized_for_school(
    session: Session, policy: StaffPolicy, username: str, action: str, school_id: int | None
) -> Account | None:
    """The active staff account `username` if it holds a role that staff.toml allows `action`,
    district-wide or at the school `school_id` (None: only district-wide counts); or None."""
    at_school = StaffAssignment.school_id == school_id if school_id is not None else None
    return _holding(session, policy, username, action, at_school)


def _holding(
    session: Session,
    policy: StaffPolicy,
    username: str,
    action: str,
    at_school: ColumnElement[bool] | None,
) -> Account | None:
    staff = active_staff(session, username)
    if staff is None:
        return None
    district_wide = StaffAssignment.role == DISTRICT_ADMIN
    where = district_wide if at_school is None else district_wide | at_school
    assignment = select(StaffAssignment.id).where(
        StaffAssignment.account_id == staff.id,
        StaffAssignment.role.in_(policy.roles_for(action)),
        where,
    )
    if session.execute(assignment.limit(1)).first() is None:
        return None
    return staff


def students_of(session: Session, account: Account) -> list[int]:
    """The roster students whose schools' staff may act on this account: those of its
    Person (students_of_person); none for an account without a Person."""
    if account.person_id is None:
        return []
    return students_of_person(session, account.person_id, account.kind)


def students_of_person(session: Session, person_id: int, kind: str) -> list[int]:
    """The roster students whose schools' staff may act on the Person `person_id` as the
    owner of an account of `kind` (an AccountKind), whether they have one or not yet (a
    guardian holding an activation key): a student themselves, or the enrolled students
    related to the Person (a guardian's children)."""
    if kind == AccountKind.STUDENT:
        return [person_id]
    query = select(Relationship.student_id).where(Relationship.guardian_id == person_id)
    enrolled = select(Enrollment.person_id).where(Enrollment.person_id.in_(query))
    return list(session.execute(enrolled).scalars())
