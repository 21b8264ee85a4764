"""Bulk and delta files: what a file no longer lists goes inactive, restrictions stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.roster.models import Person, Relationship
from idp.services import Services
from tests.builders import make_staff
from tests.integration.roster.conftest import ImportRun, counts, persons, relationships, snapshot
from tests.roster_exports import Export, district_11, user

pytestmark = pytest.mark.usefixtures("english")


def _without_agent(export: Export, sourced_id: str, agent: str) -> None:
    row = export.row("users", sourced_id)
    row["agentSourcedIds"] = ",".join(
        item for item in row["agentSourcedIds"].split(",") if item != agent
    )


def test_bulk_file_without_a_relationship_deactivates_it(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    export = district_11()
    _without_agent(export, "u-ben", "u-maria")
    _without_agent(export, "u-maria", "u-ben")

    report = run_import(export.write(tmp_path / "second"))

    assert counts(report)["relationships"] == (0, 0, 1)
    assert ("G2001", "S1002", "parent", True, False) in relationships()
    assert ("G2001", "S1001", "parent", True, True) in relationships()


def test_relationship_present_again_is_reactivated(run_import: ImportRun, tmp_path: Path) -> None:
    export = district_11()
    _without_agent(export, "u-carla", "u-ben")
    run_import(district_11().write(tmp_path / "first"))
    run_import(export.write(tmp_path / "second"))

    report = run_import(district_11().write(tmp_path / "third"))

    assert counts(report)["relationships"] == (0, 1, 0)
    assert ("G2003", "S1002", "guardian", True, True) in relationships()


def test_bulk_users_file_without_a_person_deactivates_person_relationships_and_enrolment(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    export = district_11()
    export.rows["users"] = [row for row in export.rows["users"] if row["sourcedId"] != "u-ben"]
    _without_agent(export, "u-maria", "u-ben")
    _without_agent(export, "u-carla", "u-ben")
    export.rows["demographics"].pop()

    report = run_import(export.write(tmp_path / "second"))

    assert report.error_lines() == []
    assert counts(report)["persons"] == (0, 0, 1)
    assert counts(report)["relationships"] == (0, 0, 2)
    assert counts(report)["enrollments"] == (0, 0, 1)
    assert persons()["S1002"][7] is False  # kept, inactive: the account stays, access goes
    assert ("S1002", "DEMO-MS1", "07", False) in snapshot()["enrollments"]


def test_bulk_orgs_file_without_a_school_deactivates_it(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    export = district_11()
    export.rows["orgs"] = [row for row in export.rows["orgs"] if row["sourcedId"] != "org-ms1"]
    export.row("users", "u-ben")["orgSourcedIds"] = "org-es1"

    report = run_import(export.write(tmp_path / "second"))

    assert counts(report)["schools"] == (0, 0, 1)
    assert ("DEMO-MS1", "org-ms1", "Riverside Middle", False) in snapshot()["schools"]
    assert ("S1002", "DEMO-ES1", "07", True) in snapshot()["enrollments"]
    assert ("S1002", "DEMO-MS1", "07", False) in snapshot()["enrollments"]


def test_delta_tobedeleted_user_deactivates_them_and_their_links(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    delta = Export(
        rows={
            "users": [{**user("u-ben", "student", "S1002", "Ben Lopez"), "status": "tobedeleted"}]
        },
        modes={"users": "delta"},
    )

    report = run_import(delta.write(tmp_path / "delta"))

    assert report.error_lines() == []
    assert counts(report)["persons"] == (0, 0, 1)
    assert counts(report)["relationships"] == (0, 0, 2)
    assert persons()["S1002"][7] is False
    assert persons()["S1001"][7] is True  # a delta file leaves everyone else as they are
    assert ("G2001", "S1001", "parent", True, True) in relationships()


def test_delta_tobedeleted_enrolment_deactivates_only_that_enrolment(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    delta = Export(
        rows={
            "enrollments": [
                {"sourcedId": "enr-1", "status": "tobedeleted", "classSourcedId": "cls-es1",
                 "schoolSourcedId": "org-es1", "userSourcedId": "u-ana", "role": "student"}
            ]
        },
        modes={"enrollments": "delta"},
    )  # fmt: skip

    report = run_import(delta.write(tmp_path / "delta"))

    assert report.error_lines() == []
    assert counts(report)["enrollments"] == (0, 0, 1)
    assert ("S1001", "DEMO-ES1", "03", False) in snapshot()["enrollments"]
    assert ("S1002", "DEMO-MS1", "07", True) in snapshot()["enrollments"]


def test_delta_adds_a_guardian_linked_to_a_student_of_an_earlier_import(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    delta = Export(
        rows={
            "users": [user("u-omar", "guardian", "G2004", "Omar Lopez", agentSourcedIds="u-ana")]
        },
        modes={"users": "delta"},
    )

    report = run_import(delta.write(tmp_path / "delta"))

    assert report.error_lines() == []
    assert counts(report)["persons"] == (1, 0, 0)
    assert ("G2004", "S1001", "guardian", True, True) in relationships()
    assert len(relationships()) == 5


def test_reimport_keeps_a_restriction_recorded_in_the_idp(
    run_import: ImportRun, services: Services, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    make_staff(services, None, "districtadmin", role="district_admin")
    services.staff.restrict_guardian("G2001", "S1002", "districtadmin", "Court order 2026-114")
    export = district_11()
    _without_agent(export, "u-ben", "u-maria")
    _without_agent(export, "u-maria", "u-ben")
    run_import(export.write(tmp_path / "removed"))

    report = run_import(district_11().write(tmp_path / "added-again"))

    assert counts(report)["relationships"] == (0, 1, 0)
    restricted = db.session.execute(
        select(Relationship)
        .join(Person, Person.id == Relationship.student_id)
        .where(Person.sis_person_id == "S1002", Relationship.kind == "parent")
    ).scalar_one()
    assert restricted.is_active is True
    assert restricted.restricted_at is not None
    assert restricted.restriction_reason == "Court order 2026-114"
    assert restricted.restricted_by_account_id is not None


def test_disabled_user_and_bulk_tobedeleted_row_leave_the_person_inactive(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    export = district_11()
    export.row("users", "u-jose")["enabledUser"] = "false"
    export.row("users", "u-carla")["status"] = "tobedeleted"

    report = run_import(export.write(tmp_path / "second"))

    assert counts(report)["persons"] == (0, 1, 1)
    assert persons()["G2002"][7] is False
    assert persons()["G2003"][7] is False
    assert ("G2003", "S1002", "guardian", True, False) in relationships()
    assert report.warning_lines() == [
        "users.csv:6:status: A bulk file should leave this column empty; the value was read"
        " as given."
    ]
