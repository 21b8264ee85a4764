"""`idp staff grant|revoke|list` (issue 16.1): district IT gives and takes away staff roles.

Each test runs the real command group through Flask's CLI runner, one unit of work per command.
"""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.accounts.models import Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.cli import main
from idp.extensions import db
from idp.roster.models import School
from idp.services import Services
from idp.staff import policy_errors
from idp.staff.models import StaffAssignment
from tests.builders import make_account, make_school, make_staff


@pytest.fixture
def school(app: Flask) -> School:
    """Lakeview Elementary (DEMO-ES1)."""
    row = make_school("DEMO-ES1", "Lakeview Elementary")
    db.session.commit()
    return row


@pytest.fixture
def clerk(services: Services) -> Account:
    """An active staff account without any role yet."""
    return make_account(services, "staffclerk1", "clerk1@school.example", kind=AccountKind.STAFF)


def _idp(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["staff", *args])


def _roles(account: Account) -> list[tuple[str, int | None]]:
    query = select(StaffAssignment.role, StaffAssignment.school_id).where(
        StaffAssignment.account_id == account.id
    )
    return [(row.role, row.school_id) for row in db.session.execute(query)]


def _events(name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def test_grant_gives_a_role_at_a_school_and_audits_it(
    app: Flask, school: School, clerk: Account
) -> None:
    result = _idp(
        app, "grant", "--username", "StaffClerk1", "--role", "secretary", "--school", "DEMO-ES1"
    )

    event = _events("staff:role:granted")[0]
    assert result.exit_code == 0, result.output
    assert result.output == "granted: staffclerk1\tsecretary\tDEMO-ES1\n"
    assert _roles(clerk) == [("secretary", school.id)]
    assert (event.actor_account_id, event.subject_account_id) == (None, clerk.id)
    assert event.data == {"role": "secretary", "school": "DEMO-ES1", "via": "command line"}


def test_the_first_district_admin_comes_from_the_command_line(app: Flask, clerk: Account) -> None:
    result = _idp(app, "grant", "--username", "staffclerk1", "--role", "district_admin")

    assert result.exit_code == 0, result.output
    assert result.output == "granted: staffclerk1\tdistrict_admin\tdistrict\n"
    assert _roles(clerk) == [("district_admin", None)]


def test_granting_twice_is_one_row_and_says_so(app: Flask, school: School, clerk: Account) -> None:
    args = ("grant", "--username", "staffclerk1", "--role", "school_admin", "--school", "DEMO-ES1")
    _idp(app, *args)

    again = _idp(app, *args)

    assert again.exit_code == 0, again.output
    assert again.output == "already held (nothing changed): staffclerk1\tschool_admin\tDEMO-ES1\n"
    assert _roles(clerk) == [("school_admin", school.id)]
    assert len(_events("staff:role:granted")) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--username", "staffclerk1", "--role", "district_admin", "--school", "DEMO-ES1"],
            "idp: district_admin_has_no_school: A district administrator works for every school."
            " Leave the school out.",
            id="district-admin-with-school",
        ),
        pytest.param(
            ["--username", "staffclerk1", "--role", "secretary"],
            "idp: staff_school_required: The role secretary is held at one school. Give the"
            " school's code.",
            id="secretary-without-school",
        ),
        pytest.param(
            ["--username", "staffclerk1", "--role", "secretary", "--school", "NOPE-1"],
            "idp: staff_school_not_found: No active school has the code NOPE-1.",
            id="unknown-school",
        ),
        pytest.param(
            ["--username", "nobody123", "--role", "district_admin"],
            "idp: staff_account_not_found: No account has the username nobody123.",
            id="unknown-username",
        ),
        pytest.param(
            ["--username", "parentuser1", "--role", "district_admin"],
            "idp: not_a_staff_account: parentuser1 is not a staff account.",
            id="guardian-account",
        ),
        pytest.param(
            ["--username", "staffgone1", "--role", "district_admin"],
            "idp: staff_account_inactive: The staff account staffgone1 is not active.",
            id="disabled-staff-account",
        ),
    ],
)
def test_a_refused_grant_exits_1_with_the_reason_and_changes_nothing(
    app: Flask, services: Services, school: School, clerk: Account, args: list[str], expected: str
) -> None:
    make_account(services)  # parentuser1, a guardian
    make_account(
        services, "staffgone1", "gone1@school.example", state=AccountState.DISABLED,
        kind=AccountKind.STAFF,
    )  # fmt: skip

    result = _idp(app, "grant", *args)

    assert result.exit_code == 1
    assert expected in result.output
    assert db.session.execute(select(StaffAssignment)).first() is None
    assert _events("staff:role:granted") == []


def test_an_unknown_role_is_refused_by_the_command_line(app: Flask, clerk: Account) -> None:
    result = _idp(app, "grant", "--username", "staffclerk1", "--role", "principal")

    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert _roles(clerk) == []


def test_revoke_takes_the_role_away_and_audits_it(
    app: Flask, services: Services, school: School
) -> None:
    staff = make_staff(services, school, "secretary1", "secretary")

    result = _idp(
        app, "revoke", "--username", "secretary1", "--role", "secretary", "--school", "DEMO-ES1"
    )

    event = _events("staff:role:revoked")[0]
    assert result.exit_code == 0, result.output
    assert result.output == "revoked: secretary1\tsecretary\tDEMO-ES1\n"
    assert _roles(staff) == []
    assert event.subject_account_id == staff.id
    assert event.data == {"role": "secretary", "school": "DEMO-ES1", "via": "command line"}


def test_revoking_a_role_not_held_changes_nothing_and_says_so(
    app: Flask, services: Services, school: School
) -> None:
    staff = make_staff(services, school, "secretary1", "secretary")

    result = _idp(
        app, "revoke", "--username", "secretary1", "--role", "school_admin", "--school", "DEMO-ES1"
    )

    assert result.exit_code == 0, result.output
    assert result.output == "not held (nothing changed): secretary1\tschool_admin\tDEMO-ES1\n"
    assert _roles(staff) == [("secretary", school.id)]
    assert _events("staff:role:revoked") == []


def test_the_last_district_admin_keeps_the_role(app: Flask, services: Services) -> None:
    admin = make_staff(services, None, "districtadmin1", "district_admin")

    result = _idp(app, "revoke", "--username", "districtadmin1", "--role", "district_admin")

    assert result.exit_code == 1
    assert "idp: last_district_admin: districtadmin1 is the last district administrator." in (
        result.output
    )
    assert _roles(admin) == [("district_admin", None)]
    assert _events("staff:role:revoked") == []


def test_a_district_admin_may_go_once_another_active_one_remains(
    app: Flask, services: Services
) -> None:
    first = make_staff(services, None, "districtadmin1", "district_admin")
    make_staff(services, None, "districtadmin2", "district_admin")

    result = _idp(app, "revoke", "--username", "districtadmin1", "--role", "district_admin")

    assert result.exit_code == 0, result.output
    assert _roles(first) == []


def test_a_disabled_district_admin_does_not_count_as_the_one_remaining(
    app: Flask, services: Services
) -> None:
    make_staff(services, None, "districtadmin1", "district_admin")
    gone = make_staff(services, None, "districtadmin2", "district_admin")
    gone.state = AccountState.DISABLED
    db.session.commit()

    result = _idp(app, "revoke", "--username", "districtadmin1", "--role", "district_admin")

    assert result.exit_code == 1
    assert "last_district_admin" in result.output


def test_list_prints_every_role_with_its_school_or_district(
    app: Flask, services: Services, school: School
) -> None:
    make_staff(services, None, "districtadmin1", "district_admin")
    make_staff(services, school, "secretary1", "secretary")
    make_staff(services, make_school("DEMO-MS1", "Riverside Middle"), "admin2ms1", "school_admin")

    everyone = _idp(app, "list")
    one = _idp(app, "list", "--username", "Secretary1")

    assert everyone.exit_code == 0, everyone.output
    assert everyone.output == (
        "admin2ms1\tschool_admin\tDEMO-MS1\n"
        "districtadmin1\tdistrict_admin\tdistrict\n"
        "secretary1\tsecretary\tDEMO-ES1\n"
    )
    assert one.output == "secretary1\tsecretary\tDEMO-ES1\n"


def test_list_of_a_staff_account_without_roles_says_so(app: Flask, clerk: Account) -> None:
    result = _idp(app, "list", "--username", "staffclerk1")

    assert result.exit_code == 0
    assert result.output == "no staff roles\n"


def test_a_staff_member_may_grant_only_with_a_role_allowed_to_manage_staff(
    services: Services, school: School, clerk: Account
) -> None:
    make_staff(services, school, "schooladmin1", "school_admin")

    with pytest.raises(policy_errors.StaffManagementNotAllowedError):
        services.staff.grant("staffclerk1", "secretary", "DEMO-ES1", acting="schooladmin1")

    assert _roles(clerk) == []


def test_a_district_admin_granting_is_the_audited_actor(
    services: Services, school: School, clerk: Account
) -> None:
    admin = make_staff(services, None, "districtadmin1", "district_admin")

    services.staff.grant("staffclerk1", "secretary", "DEMO-ES1", acting="districtadmin1")

    event = _events("staff:role:granted")[0]
    assert (event.actor_account_id, event.subject_account_id) == (admin.id, clerk.id)
    assert event.data == {"role": "secretary", "school": "DEMO-ES1"}


def test_an_account_holds_the_district_admin_role_at_most_once(app: Flask, clerk: Account) -> None:
    """NULL schools escape the unique constraint: a partial unique index keeps two grants at
    once from making two district-admin rows."""
    db.session.add(StaffAssignment(account_id=clerk.id, school_id=None, role="district_admin"))
    db.session.commit()
    db.session.add(StaffAssignment(account_id=clerk.id, school_id=None, role="district_admin"))

    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
