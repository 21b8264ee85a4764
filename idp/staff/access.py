"""Which staff may act for which students: district admins for all, others for their schools."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind
from idp.accounts.rules import can_receive_tokens_sql, username_key, username_matches_sql
from idp.roster.models import Enrollment, Relationship
from idp.staff.models import StaffAssignment


def authorized_staff(session: Session, username: str, student_ids: Iterable[int]) -> Account | None:
    """The active staff account `username` if it is assigned district-wide or to a school where
    one of the students is enrolled; None otherwise (unknown, inactive or another school)."""
    staff = session.execute(
        select(Account).where(
            username_matches_sql(Account.username, username_key(username)),
            Account.kind == AccountKind.STAFF,
            can_receive_tokens_sql(Account.state),
        )
    ).scalar_one_or_none()
    if staff is None:
        return None
    schools = select(Enrollment.school_id).where(
        Enrollment.person_id.in_(list(student_ids)), Enrollment.is_active.is_(True)
    )
    assignment = select(StaffAssignment.id).where(
        StaffAssignment.account_id == staff.id,
        (StaffAssignment.role == "district_admin") | StaffAssignment.school_id.in_(schools),
    )
    if session.execute(assignment.limit(1)).first() is None:
        return None
    return staff


def students_of(session: Session, account: Account) -> list[int]:
    """The roster students whose schools' staff may act on this account: a student's own
    Person, or the enrolled students related to the account's Person (a guardian's
    children); none for an account without a Person."""
    if account.person_id is None:
        return []
    if account.kind == AccountKind.STUDENT:
        return [account.person_id]
    query = select(Relationship.student_id).where(Relationship.guardian_id == account.person_id)
    enrolled = select(Enrollment.person_id).where(Enrollment.person_id.in_(query))
    return list(session.execute(enrolled).scalars())
