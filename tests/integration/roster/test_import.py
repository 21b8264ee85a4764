"""OneRoster 1.1 and 1.2 imports: what lands in the roster, and a re-import that changes nothing."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from idp.policy import RosterPolicy
from idp.roster.oneroster import Progress
from tests.integration.roster.conftest import (
    ImportRun,
    counts,
    persons,
    relationships,
    snapshot,
)
from tests.roster_exports import Export, district_11, district_12

EXPECTED_RELATIONSHIPS = {
    ("G2001", "S1001", "parent", True, True),
    ("G2001", "S1002", "parent", True, True),
    ("G2002", "S1001", "relative", False, True),
    ("G2003", "S1002", "guardian", True, True),
}
EXPECTED_ENROLLMENTS = [("S1001", "DEMO-ES1", "03", True), ("S1002", "DEMO-MS1", "07", True)]

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize("export", [district_11, district_12], ids=["1.1", "1.2"])
def test_imports_schools_students_guardians_relationships_and_enrolments(
    run_import: ImportRun, tmp_path: Path, export: Callable[[], Export]
) -> None:
    folder = export().write(tmp_path / "export")

    report = run_import(folder)

    assert report.error_lines() == []
    assert report.is_applied
    assert counts(report) == {
        "schools": (2, 0, 0),
        "persons": (5, 0, 0),
        "relationships": (4, 0, 0),
        "enrollments": (2, 0, 0),
    }
    assert report.staff_ignored == 1
    people = persons()
    assert set(people) == {"S1001", "S1002", "G2001", "G2002", "G2003"}
    assert people["S1001"][1:6] == ("u-ana", "student", "Ana", "Lopez", date(2016, 4, 17))
    assert people["G2001"][2:7] == ("guardian", "Maria", "Lopez", None, "555-0101")
    assert relationships() == EXPECTED_RELATIONSHIPS
    assert snapshot()["enrollments"] == EXPECTED_ENROLLMENTS
    assert [row[:2] for row in snapshot()["schools"]] == [
        ("DEMO-ES1", "org-es1"),
        ("DEMO-MS1", "org-ms1"),
    ]


@pytest.mark.parametrize("export", [district_11, district_12], ids=["1.1", "1.2"])
def test_reimport_of_the_same_files_changes_nothing(
    run_import: ImportRun, tmp_path: Path, export: Callable[[], Export]
) -> None:
    folder = export().write(tmp_path / "export")
    run_import(folder)
    before = snapshot()

    report = run_import(folder)

    assert report.is_applied
    assert set(counts(report).values()) == {(0, 0, 0)}
    assert snapshot() == before


def test_imports_a_zip_with_the_files_in_a_folder(run_import: ImportRun, tmp_path: Path) -> None:
    folder = district_11().write(tmp_path / "export")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.iterdir():
            zipped.write(path, f"oneroster/{path.name}")

    report = run_import(archive)

    assert report.is_applied
    assert relationships() == EXPECTED_RELATIONSHIPS


def test_policy_decides_whether_parents_and_guardians_are_legal_guardians(
    run_import: ImportRun, tmp_path: Path
) -> None:
    folder = district_11().write(tmp_path / "export")
    policy = RosterPolicy(
        person_id_column="identifier",
        is_parent_legal_guardian=False,
        is_guardian_legal_guardian=True,
    )

    run_import(folder, policy=policy)

    assert {(g, s, legal) for g, s, _, legal, _ in relationships()} == {
        ("G2001", "S1001", False),
        ("G2001", "S1002", False),
        ("G2002", "S1001", False),
        ("G2003", "S1002", True),
    }


def test_person_id_comes_from_the_column_the_policy_names(
    run_import: ImportRun, tmp_path: Path
) -> None:
    export = district_11()
    export.extra_columns["users"] = ["metadata.sisPersonId"]
    for row in export.rows["users"]:
        row["metadata.sisPersonId"] = "X" + row["identifier"] if row["identifier"] else ""
    folder = export.write(tmp_path / "export")
    policy = RosterPolicy(
        person_id_column="metadata.sisPersonId",
        is_parent_legal_guardian=True,
        is_guardian_legal_guardian=True,
    )

    report = run_import(folder, policy=policy)

    assert report.error_lines() == []
    assert set(persons()) == {"XS1001", "XS1002", "XG2001", "XG2002", "XG2003"}


def test_person_is_matched_by_person_id_when_every_sourced_id_changes(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()
    upgraded = district_11()
    renamed = {row["sourcedId"]: "new-" + row["sourcedId"] for row in upgraded.rows["users"]}
    for row in upgraded.rows["users"]:
        row["sourcedId"] = renamed[row["sourcedId"]]
        row["agentSourcedIds"] = ",".join(
            renamed[agent] for agent in row.get("agentSourcedIds", "").split(",") if agent
        )
    for row in upgraded.rows["enrollments"]:
        row["userSourcedId"] = renamed[row["userSourcedId"]]
    for row in upgraded.rows["demographics"]:
        row["sourcedId"] = renamed[row["sourcedId"]]

    report = run_import(upgraded.write(tmp_path / "second"))

    assert counts(report)["persons"] == (0, 5, 0)
    assert counts(report)["relationships"] == (0, 0, 0)
    after = persons()
    assert set(after) == {row[0] for row in before["persons"]}
    assert after["S1001"][1] == "new-u-ana"
    assert relationships() == EXPECTED_RELATIONSHIPS
    assert snapshot()["enrollments"] == EXPECTED_ENROLLMENTS


def test_first_grade_of_several_is_kept_and_a_grade_change_updates_the_enrolment(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    export = district_11()
    export.row("users", "u-ana")["grades"] = "04,03"

    report = run_import(export.write(tmp_path / "second"))

    assert counts(report)["enrollments"] == (0, 1, 0)
    assert ("S1001", "DEMO-ES1", "04", True) in snapshot()["enrollments"]


def test_import_reports_its_progress(run_import: ImportRun, tmp_path: Path) -> None:
    folder = district_11().write(tmp_path / "export")
    seen: list[Progress] = []

    run_import(folder, progress=seen.append)

    assert [progress.stage for progress in seen] == [
        "checks",
        "schools",
        "persons",
        "relationships",
        "enrollments",
    ]
    assert seen[-1].rows == 14  # 3 orgs, 1 class, 6 users, 2 enrolments, 2 birth dates
