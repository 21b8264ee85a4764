"""The staff console's dashboard (issue 16.7): one row of rollout figures per school within the
staff member's StaffScope.

Reads only. Each call runs a fixed number of statements whatever the size of the district,
each grouped once per page by school.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.credentials.models import SignInThrottle
from idp.policy import RolloutPolicy
from idp.registration.models import ActivationKey
from idp.roster import rules as roster_rules
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.staff.models import StaffAssignment
from idp.staff.records import SchoolDashboard, SignInNames
from idp.staff.scope import StaffScope

WEEK = timedelta(days=7)
# registration/keys.py _refuse_live_account: a guardian in these states "has an account".
HOLDING_STATES = (AccountState.ACTIVE, AccountState.PROVISIONING, AccountState.DISABLED)


def dashboard(
    session: Session,
    scope: StaffScope,
    *,
    now: datetime,
    rollout_policy: RolloutPolicy,
    names: SignInNames,
) -> list[SchoolDashboard]:
    """One row per active school of the scope (district admins: every one), by name."""
    query = select(School.id, School.sis_id, School.name).where(School.is_active.is_(True))
    if scope.school_ids is not None:
        query = query.where(School.id.in_(sorted(scope.school_ids)))
    schools = session.execute(query.order_by(School.name, School.id)).all()
    ids = [row.id for row in schools]
    if not ids:
        return []
    counts: dict[str, dict[int, int]] = {name: {} for name in _COUNTS}
    counts.update(_guardian_counts(session, ids))
    counts.update(_disabled_counts(session, ids))
    counts.update(_key_counts(session, ids, now - WEEK))
    counts["locked_accounts"] = _locked_counts(session, ids, now, names)
    opening = {school.sis_id: school.enabled_from for school in rollout_policy.schools}
    return [
        SchoolDashboard(
            school_id=row.id,
            sis_id=row.sis_id,
            name=row.name,
            portal_open_from=opening.get(row.sis_id),
            is_portal_open=rollout_policy.is_enabled(row.sis_id, now.date()),
            **{name: per_school.get(row.id, 0) for name, per_school in counts.items()},
        )
        for row in schools
    ]


_COUNTS = (
    "eligible_guardians",
    "guardians_with_account",
    "waiting_for_email",
    "disabled_accounts",
    "locked_accounts",
    "keys_issued_in_week",
    "keys_redeemed_in_week",
)


def _students(ids: list[int]) -> Select[int, int]:
    """(school_id, person_id) of the active students actively enrolled at the schools."""
    enrolment = roster_rules.active_enrolment_sql(Person)
    return (
        select(Enrollment.school_id, Enrollment.person_id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.school_id.in_(ids), enrolment.enrolment, enrolment.student)
    )


def _guardians(ids: list[int], relationship: ColumnElement[bool]) -> Select[int, int]:
    """(school_id, person_id) of the guardians related by `relationship` to those students."""
    students = _students(ids).subquery()
    return (
        select(students.c.school_id, Relationship.guardian_id.label("person_id"))
        .join(Relationship, Relationship.student_id == students.c.person_id)
        .where(relationship)
        .distinct()
    )


def _per_school(session: Session, query: Select[Any]) -> dict[str, dict[int, int]]:
    """{label: {school_id: count}} for each labelled count of a query grouped by school_id."""
    counts: dict[str, dict[int, int]] = {}
    for row in session.execute(query):
        for name, value in row._mapping.items():
            if name != "school_id":
                counts.setdefault(name, {})[row.school_id] = int(value)
    return counts


def _guardian_counts(session: Session, ids: list[int]) -> dict[str, dict[int, int]]:
    """Eligible guardians (registration/keys.py eligible_guardian, the rollout date aside),
    and how many of them hold an account or a registration waiting for its email."""
    guardian = aliased(Person)
    eligible = _guardians(ids, roster_rules.gives_access_sql(Relationship))
    eligible = eligible.join(guardian, guardian.id == Relationship.guardian_id)
    found = eligible.where(guardian.role == "guardian", guardian.is_active.is_(True)).subquery()
    state, guardian_id = Account.state, found.c.person_id
    live = [Account.person_id == guardian_id, Account.kind == AccountKind.GUARDIAN]
    query = (
        select(found.c.school_id, func.count(distinct(guardian_id)).label("eligible_guardians"))
        .add_columns(
            func.count(distinct(case((state.in_(HOLDING_STATES), guardian_id)))).label(
                "guardians_with_account"
            ),
            func.count(distinct(case((state == AccountState.PENDING_EMAIL, guardian_id)))).label(
                "waiting_for_email"
            ),
        )
        .outerjoin(Account, and_(*live, state.not_in(RELEASED_STATES)))
        .group_by(found.c.school_id)
    )
    return _per_school(session, query)


def _members(ids: list[int]) -> Any:
    """(school_id, account_id, student_id, username) of the schools' students (account or
    not), their guardians' and the schools' staff's accounts; released accounts left out."""
    students = _students(ids).subquery()
    guardians = _guardians(ids, Relationship.is_active.is_(True)).subquery()
    live = Account.state.not_in(RELEASED_STATES)
    student_account = [
        Account.person_id == students.c.person_id,
        Account.kind == AccountKind.STUDENT,
    ]
    return union_all(
        select(students.c.school_id, Account.id.label("account_id"))
        .add_columns(Person.sis_person_id.label("student_id"), null().label("username"))
        .join(Person, Person.id == students.c.person_id)
        .outerjoin(Account, and_(*student_account, live)),
        select(guardians.c.school_id, Account.id, null(), Account.username)
        .join(Account, Account.person_id == guardians.c.person_id)
        .where(Account.kind == AccountKind.GUARDIAN, live),
        select(StaffAssignment.school_id, Account.id, null(), Account.username)
        .join(Account, Account.id == StaffAssignment.account_id)
        .where(StaffAssignment.school_id.in_(ids), live),
    ).subquery("members")


def _disabled_counts(session: Session, ids: list[int]) -> dict[str, dict[int, int]]:
    members = _members(ids)
    query = (
        select(members.c.school_id)
        .add_columns(func.count(distinct(members.c.account_id)).label("disabled_accounts"))
        .join(Account, Account.id == members.c.account_id)
        .where(Account.state == AccountState.DISABLED)
        .group_by(members.c.school_id)
    )
    return _per_school(session, query)


def _key_counts(session: Session, ids: list[int], since: datetime) -> dict[str, dict[int, int]]:
    """Keys issued and keys redeemed (a registration started with them) since `since`, to
    the guardians of each school's students (a family of two schools counts at both)."""
    guardians = _guardians(ids, Relationship.is_active.is_(True)).subquery()
    issued, used = ActivationKey.issued_at >= since, ActivationKey.used_at >= since
    query = (
        select(guardians.c.school_id)
        .add_columns(
            func.count(distinct(case((issued, ActivationKey.id)))).label("keys_issued_in_week"),
            func.count(distinct(case((used, ActivationKey.id)))).label("keys_redeemed_in_week"),
        )
        .join(ActivationKey, ActivationKey.person_id == guardians.c.person_id)
        .where(or_(issued, used))
        .group_by(guardians.c.school_id)
    )
    return _per_school(session, query)


def _locked_counts(
    session: Session, ids: list[int], now: datetime, names: SignInNames
) -> dict[int, int]:
    """Names locked now (FailureThrottle.standing), per school. The throttle keeps only HMAC
    digests: the schools' names are digested here and matched, read only when some name
    is locked (sign_in_throttle has no index on locked_until: a scan of a small table)."""
    query = select(SignInThrottle.name_digest).where(SignInThrottle.locked_until > now)
    locked = set(session.execute(query).scalars())
    if not locked:
        return {}
    members = _members(ids)
    query = select(members.c.school_id, members.c.student_id, members.c.username).distinct()
    found: dict[int, set[str]] = {}
    for row in session.execute(query):
        digest = names.digest(row.student_id, row.username)
        if digest is not None and digest in locked:
            found.setdefault(row.school_id, set()).add(digest)
    return {school_id: len(digests) for school_id, digests in found.items()}
