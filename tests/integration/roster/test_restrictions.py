"""Recording and lifting guardian-rights restrictions: who may, what is kept, what is refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.clock import FrozenClock
from idp.errors import DomainError
from idp.extensions import db
from idp.roster import errors
from idp.roster.models import Relationship
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate

REASON = "Court order 2026-114"


@dataclass
class Family:
    """A guardian with an account, one child, and that child's school secretary."""

    account: Account
    relationship: Relationship
    secretary: Account


@pytest.fixture
def family(app: Flask, services: Services) -> Family:
    """Guardian G-1 (parentuser1), student S-A at Lakeview Elementary, secretary1 there."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student", sis_person_id="S-A")
    enroll(student, school)
    guardian = make_person("guardian", sis_person_id="G-1")
    relationship = relate(guardian, student)
    account = make_account(services)
    account.person_id = guardian.id
    db.session.commit()
    return Family(account, relationship, make_staff(services, school, role="school_admin"))


def _events(name: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.event == name)).scalars())


def test_restriction_records_when_who_and_why(
    services: Services, family: Family, clock: FrozenClock
) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "secretary1", f"  {REASON} ")

    db.session.refresh(family.relationship)
    assert family.relationship.restricted_at == clock.now()
    assert family.relationship.restricted_by_account_id == family.secretary.id
    assert family.relationship.restriction_reason == REASON
    (event,) = _events("roster:relationship:restricted")
    assert event.actor_account_id == family.secretary.id
    assert event.data["reason"] == REASON
    assert event.data["relationship_id"] == family.relationship.id
    (ended,) = _events("oidc:access:ended")
    assert ended.subject_account_id == family.account.id
    assert ended.data["reason"] == "guardian_restricted"


def test_lift_clears_the_restriction_and_is_audited(services: Services, family: Family) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "secretary1", REASON)

    services.staff.lift_restriction("G-1", "S-A", "secretary1", "Order set aside")

    db.session.refresh(family.relationship)
    assert family.relationship.restricted_at is None
    assert family.relationship.restriction_reason is None
    (event,) = _events("roster:relationship:lifted")
    assert (event.actor_account_id, event.data["reason"]) == (
        family.secretary.id,
        "Order set aside",
    )


def test_a_district_admin_may_restrict_at_any_school(services: Services, family: Family) -> None:
    make_staff(services, None, "districtadmin1", "district_admin")

    services.staff.restrict_guardian("G-1", "S-A", "districtadmin1", REASON)

    db.session.refresh(family.relationship)
    assert family.relationship.restricted_at is not None


@pytest.mark.parametrize(
    ("guardian", "student", "staff", "reason", "error"),
    [
        ("G-1", "S-NONE", "secretary1", REASON, errors.RelationshipNotFoundError),
        ("G-NONE", "S-A", "secretary1", REASON, errors.RelationshipNotFoundError),
        ("G-1", "S-A", "secretary1", "   ", errors.RestrictionReasonRequiredError),
        ("G-1", "S-A", "secretary1", "x" * 501, errors.RestrictionReasonRequiredError),
        ("G-1", "S-A", "nobody", REASON, errors.RestrictionNotAllowedError),
        ("G-1", "S-A", "secretary2", REASON, errors.RestrictionNotAllowedError),
    ],
)
def test_refused_restriction_changes_nothing(
    services: Services,
    family: Family,
    guardian: str,
    student: str,
    staff: str,
    reason: str,
    error: type[DomainError],
) -> None:
    make_staff(services, make_school("DEMO-MS1", "Riverside Middle"), "secretary2", "school_admin")

    with pytest.raises(error):
        services.staff.restrict_guardian(guardian, student, staff, reason)

    db.session.rollback()
    db.session.refresh(family.relationship)
    assert family.relationship.restricted_at is None
    assert _events("roster:relationship:restricted") == []
    assert _events("oidc:access:ended") == []


def test_a_second_restriction_is_refused_and_keeps_the_first_reason(
    services: Services, family: Family
) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "secretary1", REASON)

    with pytest.raises(errors.AlreadyRestrictedError):
        services.staff.restrict_guardian("G-1", "S-A", "secretary1", "Another reason")

    db.session.rollback()
    db.session.refresh(family.relationship)
    assert family.relationship.restriction_reason == REASON


def test_lifting_an_unrestricted_relationship_is_refused(
    services: Services, family: Family
) -> None:
    with pytest.raises(errors.NotRestrictedError):
        services.staff.lift_restriction("G-1", "S-A", "secretary1", "Nothing to lift")


def test_cli_restricts_and_lifts(app: Flask, family: Family) -> None:
    runner = app.test_cli_runner()
    people = ["--guardian", "G-1", "--student", "S-A", "--staff", "secretary1"]

    restricted = runner.invoke(main, ["roster", "restrict", *people, "--reason", REASON])
    again = runner.invoke(main, ["roster", "restrict", *people, "--reason", REASON])
    lifted = runner.invoke(main, ["roster", "lift", *people, "--reason", "Order ended"])

    assert restricted.exit_code == 0, restricted.output
    assert restricted.output.startswith("restricted G-1 -> S-A at ")
    assert (again.exit_code, "already_restricted" in again.output) == (1, True)
    assert (lifted.exit_code, lifted.output.strip()) == (0, "lifted G-1 -> S-A")
    db.session.refresh(family.relationship)
    assert family.relationship.restricted_at is None
