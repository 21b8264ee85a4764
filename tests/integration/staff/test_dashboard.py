"""Issue 16.7: the staff console's dashboard, one row per school within the staff member's
scope, counted with a few grouped statements (idp/staff/dashboard.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from idp.accounts.models import Account, AccountState
from idp.clock import FrozenClock
from idp.config import Settings
from idp.credentials.errors import (
    InvalidCredentialsError,
    InvalidStudentCredentialsError,
    SignInLockedError,
)
from idp.credentials.students import THROTTLE_NAMESPACE, StudentCredentials
from idp.credentials.throttle import FailureThrottle
from idp.extensions import db
from idp.registration.service import NewRegistration
from idp.roster.models import Person
from idp.services import Services
from idp.staff.dashboard import dashboard
from idp.staff.records import SchoolDashboard, SignInNames
from idp.staff.scope import StaffScope, staff_scope
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate
from tests.integration.registration.conftest import STRONG_PASSWORD

REASON = "Court order 2026-115"
COUNTS = (
    "eligible_guardians",
    "guardians_with_account",
    "waiting_for_email",
    "disabled_accounts",
    "locked_accounts",
    "keys_issued_in_week",
    "keys_redeemed_in_week",
)


@pytest.fixture
def district(app: Flask, services: Services) -> None:
    """Lakeview (DEMO-ES1): S-1, whose parents are G-1 (an account) and G-4 (restricted, a
    disabled account); S-2, whose parent G-2 has no account yet and whose relative G-3 is no
    legal guardian; S-4, no longer enrolled, with G-5. Riverside (DEMO-MS1): S-3, G-1's other
    child, and S-5 with G-6. Eastgate High (DEMO-HS2) has nobody and opens in 2027; Old Mill
    is no longer active. secretary1 and schooladmin1 work at Lakeview, districtadmin1 at all."""
    lakeview = make_school("DEMO-ES1", "Lakeview Elementary")
    riverside = make_school("DEMO-MS1", "Riverside Middle")
    make_school("DEMO-HS2", "Eastgate High")
    make_school("DEMO-OLD", "Old Mill").is_active = False
    people = {}
    for sis_id in ("S-1", "S-2", "S-4"):
        people[sis_id] = make_person("student", date(2016, 1, 1), sis_person_id=sis_id)
        enrolment = enroll(people[sis_id], lakeview)
    enrolment.is_active = False  # S-4 left
    for sis_id in ("S-3", "S-5"):
        people[sis_id] = make_person("student", date(2013, 5, 5), sis_person_id=sis_id)
        enroll(people[sis_id], riverside)
    for sis_id in ("G-1", "G-2", "G-3", "G-4", "G-5", "G-6"):
        people[sis_id] = make_person("guardian", sis_person_id=sis_id)
    for guardian, student, kind in [
        ("G-1", "S-1", "parent"),
        ("G-1", "S-3", "parent"),
        ("G-4", "S-1", "parent"),
        ("G-2", "S-2", "parent"),
        ("G-3", "S-2", "relative"),
        ("G-5", "S-4", "parent"),
        ("G-6", "S-5", "parent"),
    ]:
        relate(people[guardian], people[student], kind)
    _account(services, people["G-1"], "parentuser1")
    _account(services, people["G-4"], "parentuser4", AccountState.DISABLED)
    _account(services, people["G-5"], "parentuser5")
    make_staff(services, lakeview, "secretary1", "secretary")
    make_staff(services, lakeview, "schooladmin1", "school_admin")
    make_staff(services, None, "districtadmin1", "district_admin")
    services.staff.restrict_guardian("G-4", "S-1", "schooladmin1", REASON)


def _account(
    services: Services, person: Person, username: str, state: AccountState = AccountState.ACTIVE
) -> None:
    account = make_account(services, username, f"{username}@example.org", state=state)
    account.person_id = person.id
    db.session.commit()


def _register(services: Services, sis_person_id: str, username: str) -> None:
    """A key issued at the desk, then a registration waiting for its email confirmation."""
    issued = services.staff.issue_activation_key(sis_person_id, "districtadmin1", "passport")
    services.registration.register(
        NewRegistration(
            issued.activation_key_id, username, STRONG_PASSWORD, f"{username}@example.org"
        )
    )


def _scope(username: str) -> StaffScope:
    account = db.session.execute(db.select(Account).where(Account.username == username)).scalar()
    scope = staff_scope(db.session, account)
    assert scope is not None
    return scope


@pytest.fixture
def read(settings: Settings, clock: FrozenClock, services: Services) -> Any:
    """dashboard as the desk calls it: now, rollout.toml and the throttles' digests."""
    lockout, key = services.policies.credentials.lockout, settings.secret_key.encode()
    names = SignInNames(
        FailureThrottle(db.session, clock, lockout, key).digest,
        FailureThrottle(db.session, clock, lockout, key, THROTTLE_NAMESPACE).digest,
    )

    def run(staff: str | StaffScope) -> list[SchoolDashboard]:
        scope = _scope(staff) if isinstance(staff, str) else staff
        rollout = services.policies.rollout
        return dashboard(db.session, scope, now=clock.now(), rollout_policy=rollout, names=names)

    return run


def _counts(rows: list[SchoolDashboard]) -> dict[str, dict[str, int]]:
    return {row.sis_id: {name: getattr(row, name) for name in COUNTS} for row in rows}


def _lock(services: Services) -> None:
    """parentuser1 (G-1: Lakeview and Riverside) and student S-5 (Riverside) locked."""
    for _ in range(services.policies.credentials.lockout.lock_after_failures):
        with pytest.raises((InvalidCredentialsError, SignInLockedError)):
            services.sign_in.sign_in("parentuser1", "not the password")
    for _ in range(services.policies.accounts.students.lockout.lock_after_failures):
        with pytest.raises((InvalidStudentCredentialsError, SignInLockedError)):
            services.student_sign_in.sign_in(StudentCredentials("s-5", date(2000, 1, 1)))


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.usefixtures("district")
def test_a_district_admin_sees_every_active_school_by_name(read: Any) -> None:
    rows = read("districtadmin1")

    assert [(row.sis_id, row.name) for row in rows] == [
        ("DEMO-HS2", "Eastgate High"),
        ("DEMO-ES1", "Lakeview Elementary"),
        ("DEMO-MS1", "Riverside Middle"),
    ]


@pytest.mark.usefixtures("district")
def test_a_secretary_sees_their_school_only(read: Any) -> None:
    assert [row.sis_id for row in read("secretary1")] == ["DEMO-ES1"]


@pytest.mark.usefixtures("district")
def test_the_rollout_dates_come_from_rollout_toml(read: Any) -> None:
    rows = read("districtadmin1")

    assert [(row.sis_id, row.portal_open_from, row.is_portal_open) for row in rows] == [
        ("DEMO-HS2", date(2027, 8, 15), False),
        ("DEMO-ES1", date(2024, 8, 15), True),
        ("DEMO-MS1", date(2024, 8, 15), True),
    ]


@pytest.mark.usefixtures("district")
def test_the_guardians_and_accounts_are_counted_per_school(services: Services, read: Any) -> None:
    _register(services, "G-2", "parkfamily2")

    counts = _counts(read("districtadmin1"))

    assert counts["DEMO-HS2"] == dict.fromkeys(COUNTS, 0)
    # G-1 and G-2 (G-3 is a relative, G-4 restricted, G-5's child no longer enrolled).
    assert counts["DEMO-ES1"] == {
        "eligible_guardians": 2,
        "guardians_with_account": 1,
        "waiting_for_email": 1,
        "disabled_accounts": 1,  # G-4: restricted, still the parent of a pupil
        "locked_accounts": 0,
        "keys_issued_in_week": 1,
        "keys_redeemed_in_week": 1,
    }
    assert counts["DEMO-MS1"] == {
        "eligible_guardians": 2,
        "guardians_with_account": 1,
        "waiting_for_email": 0,
        "disabled_accounts": 0,
        "locked_accounts": 0,
        "keys_issued_in_week": 0,
        "keys_redeemed_in_week": 0,
    }


@pytest.mark.usefixtures("district")
def test_keys_are_counted_for_the_last_seven_days(
    services: Services, clock: FrozenClock, read: Any
) -> None:
    services.staff.issue_activation_key("G-6", "districtadmin1", "passport")
    clock.advance(days=8)
    _register(services, "G-2", "parkfamily2")

    counts = _counts(read("districtadmin1"))

    assert [counts[school]["keys_issued_in_week"] for school in ("DEMO-ES1", "DEMO-MS1")] == [1, 0]


@pytest.mark.usefixtures("district")
def test_locked_sign_in_names_are_counted_per_school(services: Services, read: Any) -> None:
    _lock(services)

    counts = _counts(read("districtadmin1"))

    assert [counts[school]["locked_accounts"] for school in ("DEMO-ES1", "DEMO-MS1")] == [1, 2]


@pytest.mark.usefixtures("district")
def test_a_lock_that_ran_out_is_no_longer_counted(
    services: Services, clock: FrozenClock, read: Any
) -> None:
    _lock(services)
    clock.advance(minutes=30)  # past credentials.toml and accounts.toml first_lock_minutes

    counts = _counts(read("districtadmin1"))

    assert [counts[school]["locked_accounts"] for school in ("DEMO-ES1", "DEMO-MS1")] == [0, 0]


@pytest.mark.usefixtures("district")
def test_the_dashboard_reads_the_same_few_statements_for_one_school_or_all(
    services: Services, read: Any
) -> None:
    _register(services, "G-2", "parkfamily2")
    _lock(services)
    one, every = _scope("secretary1"), _scope("districtadmin1")
    with _statements() as for_one:
        read(one)

    with _statements() as for_every:
        read(every)

    assert len(for_one) == len(for_every) == 6
    assert all(statement.lstrip().upper().startswith("SELECT") for statement in for_every)


def test_a_staff_member_without_a_school_gets_no_rows(app: Flask, read: Any) -> None:
    scope = StaffScope(account_id=1, username="nobody99", roles=frozenset(), school_ids=frozenset())

    assert read(scope) == []
