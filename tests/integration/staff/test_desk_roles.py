"""Issue 16.2: the role decides the desk's actions (policies/staff.toml [actions]), the
assignment the schools. A secretary may no longer cancel, restrict or lift; the command line's
`--staff` names a real staff account with the right role, and a refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import Account, AccountState
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.extensions import db
from idp.roster.models import Relationship
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, make_staff, relate

REASON = "Court order 2026-115"


@dataclass
class Desk:
    """A guardian with an account and one child at Lakeview Elementary."""

    account: Account
    relationship: Relationship


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    """G-1 (parentuser1), parent of S-A at DEMO-ES1; secretary1 and schooladmin1 work there,
    otheradmin1 is a school admin at DEMO-MS1, districtadmin1 works district-wide."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student", sis_person_id="S-A")
    enroll(student, school)
    guardian = make_person("guardian", sis_person_id="G-1")
    relationship = relate(guardian, student)
    account = make_account(services)
    account.person_id = guardian.id
    db.session.commit()
    make_staff(services, school, "secretary1", "secretary")
    make_staff(services, school, "schooladmin1", "school_admin")
    make_staff(services, make_school("DEMO-MS1", "Riverside Middle"), "otheradmin1", "school_admin")
    make_staff(services, None, "districtadmin1", "district_admin")
    return Desk(account, relationship)


def _idp(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, list(args))


def _cancel(app: Flask, staff: str) -> Result:
    return _idp(
        app, "accounts", "cancel", "--username", "parentuser1", "--staff", staff, "--reason", REASON
    )


def _restrict(app: Flask, staff: str) -> Result:
    return _idp(
        app,
        "roster",
        "restrict",
        "--guardian",
        "G-1",
        "--student",
        "S-A",
        "--staff",
        staff,
        "--reason",
        REASON,
    )


def _lift(app: Flask, staff: str) -> Result:
    return _idp(
        app,
        "roster",
        "lift",
        "--guardian",
        "G-1",
        "--student",
        "S-A",
        "--staff",
        staff,
        "--reason",
        REASON,
    )


def _events(name: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.event == name)).scalars())


def _restricted(desk: Desk) -> bool:
    db.session.refresh(desk.relationship)
    return desk.relationship.restricted_at is not None


@pytest.mark.parametrize("staff", ["secretary1", "otheradmin1", "nobody99"])
def test_cancel_by_a_wrong_role_or_school_is_refused_and_changes_nothing(
    app: Flask, desk: Desk, staff: str
) -> None:
    result = _cancel(app, staff)

    db.session.expire_all()
    assert result.exit_code == 1
    assert "idp: cancel_not_allowed:" in result.output
    assert desk.account.state == AccountState.ACTIVE
    assert _events("lifecycle:account:cancelled") == []


@pytest.mark.parametrize("staff", ["schooladmin1", "districtadmin1"])
def test_school_and_district_admins_cancel(app: Flask, desk: Desk, staff: str) -> None:
    result = _cancel(app, staff)

    db.session.expire_all()
    assert result.exit_code == 0, result.output
    assert desk.account.state == AccountState.CANCELLED


@pytest.mark.parametrize("staff", ["secretary1", "otheradmin1", "nobody99"])
def test_restrict_by_a_wrong_role_or_school_is_refused_and_changes_nothing(
    app: Flask, desk: Desk, staff: str
) -> None:
    result = _restrict(app, staff)

    assert result.exit_code == 1
    assert "idp: restriction_not_allowed:" in result.output
    assert not _restricted(desk)
    assert _events("roster:relationship:restricted") == []


def test_a_school_admin_restricts(app: Flask, desk: Desk) -> None:
    result = _restrict(app, "schooladmin1")

    assert result.exit_code == 0, result.output
    assert _restricted(desk)


@pytest.mark.parametrize("staff", ["secretary1", "otheradmin1", "nobody99"])
def test_lift_by_a_wrong_role_or_school_is_refused_and_changes_nothing(
    app: Flask, services: Services, desk: Desk, staff: str
) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "schooladmin1", REASON)

    result = _lift(app, staff)

    assert result.exit_code == 1
    assert "idp: restriction_not_allowed:" in result.output
    assert _restricted(desk)
    assert _events("roster:relationship:lifted") == []


def test_a_school_admin_lifts(app: Flask, services: Services, desk: Desk) -> None:
    services.staff.restrict_guardian("G-1", "S-A", "schooladmin1", REASON)

    result = _lift(app, "schooladmin1")

    assert result.exit_code == 0, result.output
    assert not _restricted(desk)


def test_a_role_taken_away_no_longer_acts(app: Flask, desk: Desk) -> None:
    _idp(
        app,
        "staff",
        "revoke",
        "--username",
        "schooladmin1",
        "--role",
        "school_admin",
        "--school",
        "DEMO-ES1",
    )

    result = _cancel(app, "schooladmin1")

    assert result.exit_code == 1
    assert "cancel_not_allowed" in result.output
