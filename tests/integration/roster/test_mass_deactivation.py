"""A bulk users.csv that would deactivate more than the policy's share of the roster stops.

`[roster] max_deactivation_share_percent` of policies/rollout.toml (10 as shipped); up to 10
deactivations of each kind always pass; --allow-mass-deactivation goes ahead.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from idp.clock import FrozenClock
from idp.extensions import db
from idp.policy import RosterPolicy
from idp.roster.cli import roster
from idp.roster.oneroster import ImportReport, RosterImporter
from idp.roster.oneroster.synth import write_synthetic_district
from tests.integration.roster.conftest import (
    ImportRun,
    counts,
    import_as_the_command_does,
    persons,
    snapshot,
)
from tests.roster_exports import Export

pytestmark = pytest.mark.usefixtures("english")

UsersChange = Callable[[list[dict[str, str]]], list[dict[str, str]]]
OTHER_DISTRICT_PERSONS = (
    "users.csv: This import would deactivate 50 of the 50 active students and guardians (100%),"
    " more than the 10% that rollout.toml allows (roster.max_deactivation_share_percent)."
    " Check that the export is this district's and complete; to import it anyway, run the"
    " import again with --allow-mass-deactivation."
)
OTHER_DISTRICT_RELATIONSHIPS = (
    "users.csv: This import would deactivate 60 of the 60 active guardian-student relationships"
    " (100%), more than the 10% that rollout.toml allows"
    " (roster.max_deactivation_share_percent). Check that the export is this district's and"
    " complete; to import it anyway, run the import again with --allow-mass-deactivation."
)


def _policy(share_percent: int) -> RosterPolicy:
    return RosterPolicy(
        person_id_column="identifier",
        is_parent_legal_guardian=True,
        is_guardian_legal_guardian=True,
        max_deactivation_share_percent=share_percent,
    )


def _district(folder: Path, change: UsersChange | None = None) -> Path:
    """The synthetic district of 30 students: 50 persons, 60 relationships, one school."""
    write_synthetic_district(folder, 30, seed=5)
    if change is not None:
        path = folder / "users.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header, rows = list(reader.fieldnames or ()), list(reader)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header)
            writer.writeheader()
            writer.writerows(change(rows))
    return folder


def _another_district(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Same schools, but every person is someone else (other SIS Person IDs)."""
    return [{**row, "identifier": "X" + row["identifier"]} for row in rows]


def _disable(count: int) -> UsersChange:
    def change(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{**row, "enabledUser": "false"} if n < count else row for n, row in enumerate(rows)]

    return change


def _without_agents(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**row, "agentSourcedIds": ""} for row in rows]


@pytest.fixture
def import_with(app: Flask, clock: FrozenClock) -> Callable[..., ImportReport]:
    """Import with a given roster policy, and --allow-mass-deactivation or not."""

    def run(path: Path, policy: RosterPolicy | None = None, **options: bool) -> ImportReport:
        policy = policy or app.extensions["idp.policies"].rollout.roster
        importer = RosterImporter(cast(Session, db.session), clock, policy)
        return import_as_the_command_does(importer, path, **options)

    return run


@pytest.fixture
def imported(run_import: ImportRun, tmp_path: Path) -> None:
    """The synthetic district is imported already."""
    assert run_import(_district(tmp_path / "first")).is_applied


@pytest.mark.usefixtures("imported")
def test_bulk_export_of_another_district_is_refused_with_the_counts_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path
) -> None:
    before = snapshot()

    report = run_import(_district(tmp_path / "other", _another_district))

    assert not report.is_applied
    assert report.error_lines() == [OTHER_DISTRICT_PERSONS, OTHER_DISTRICT_RELATIONSHIPS]
    assert snapshot() == before


@pytest.mark.usefixtures("imported")
def test_empty_bulk_users_file_counts_as_deactivating_everyone(
    run_import: ImportRun, tmp_path: Path
) -> None:
    before = snapshot()
    empty = Export(rows={"users": []}).write(tmp_path / "empty")

    report = run_import(empty)

    assert report.error_lines() == [OTHER_DISTRICT_PERSONS, OTHER_DISTRICT_RELATIONSHIPS]
    assert snapshot() == before


@pytest.mark.usefixtures("imported")
def test_mass_deactivation_goes_ahead_when_allowed(
    import_with: Callable[..., ImportReport], tmp_path: Path
) -> None:
    other = _district(tmp_path / "other", _another_district)

    report = import_with(other, allow_mass_deactivation=True)

    assert report.is_applied
    assert counts(report)["persons"] == (50, 0, 50)
    assert counts(report)["relationships"] == (60, 0, 60)
    assert not any(row[7] for sis_id, row in persons().items() if not sis_id.startswith("X"))


@pytest.mark.usefixtures("imported")
def test_dry_run_is_refused_the_same_way(
    import_with: Callable[..., ImportReport], tmp_path: Path
) -> None:
    report = import_with(_district(tmp_path / "other", _another_district), dry_run=True)

    assert report.error_lines() == [OTHER_DISTRICT_PERSONS, OTHER_DISTRICT_RELATIONSHIPS]


def test_first_import_into_an_empty_roster_is_not_refused(
    import_with: Callable[..., ImportReport], tmp_path: Path
) -> None:
    report = import_with(_district(tmp_path / "first"), _policy(0))

    assert report.is_applied
    assert counts(report)["persons"] == (50, 0, 0)


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(("disabled", "is_applied"), [(15, True), (16, False)])
def test_deactivating_the_policy_share_passes_and_one_more_is_refused(
    import_with: Callable[..., ImportReport], tmp_path: Path, disabled: int, is_applied: bool
) -> None:
    # 15 of 50 is 30%: not more than the 30% allowed. enabledUser false deactivates too.
    export = _district(tmp_path / "second", _disable(disabled))

    report = import_with(export, _policy(30))

    assert report.is_applied is is_applied
    assert [problem.params for problem in report.errors] == (
        [] if is_applied else [{"count": "16", "total": "50", "percent": "32", "limit": "30"}]
    )


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(("disabled", "is_applied"), [(10, True), (11, False)])
def test_up_to_ten_deactivations_pass_whatever_their_share(
    import_with: Callable[..., ImportReport], tmp_path: Path, disabled: int, is_applied: bool
) -> None:
    # Even with a share of 0%: on a small school one family leaving is a large share.
    report = import_with(_district(tmp_path / "second", _disable(disabled)), _policy(0))

    assert report.is_applied is is_applied
    assert [problem.code for problem in report.errors] == (
        [] if is_applied else ["mass_deactivation_persons"]
    )


@pytest.mark.usefixtures("imported")
def test_relationships_deactivated_past_the_share_are_refused_on_their_own(
    run_import: ImportRun, tmp_path: Path
) -> None:
    report = run_import(_district(tmp_path / "second", _without_agents))

    assert [(problem.code, problem.params) for problem in report.errors] == [
        (
            "mass_deactivation_relationships",
            {"count": "60", "total": "60", "percent": "100", "limit": "10"},
        )
    ]


@pytest.mark.usefixtures("imported")
def test_delta_users_file_is_not_measured(run_import: ImportRun, tmp_path: Path) -> None:
    # A delta file names each person it deactivates, line by line.
    with (_district(tmp_path / "first") / "users.csv").open(encoding="utf-8") as handle:
        rows = [{**row, "status": "tobedeleted"} for row in csv.DictReader(handle)]
    delta = Export(rows={"users": rows[:30]}, modes={"users": "delta"})

    report = run_import(delta.write(tmp_path / "delta"))

    assert report.is_applied
    assert counts(report)["persons"] == (0, 0, 30)


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize("options", [[], ["--dry-run"]], ids=["import", "dry run"])
def test_cli_refuses_with_the_counts_and_exit_1(
    app: Flask, tmp_path: Path, options: list[str]
) -> None:
    other = _district(tmp_path / "other", _another_district)

    result = app.test_cli_runner().invoke(roster, ["import", *options, str(other)])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-3:] == [
        OTHER_DISTRICT_PERSONS,
        OTHER_DISTRICT_RELATIONSHIPS,
        "Import refused: 2 errors. Nothing was changed; correct the files and run it again.",
    ]
    assert result.stdout == ""


@pytest.mark.usefixtures("imported")
def test_cli_goes_ahead_with_allow_mass_deactivation(app: Flask, tmp_path: Path) -> None:
    other = _district(tmp_path / "other", _another_district)

    result = app.test_cli_runner().invoke(
        roster, ["import", "--allow-mass-deactivation", str(other)]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:3] == [
        "persons: 50 created, 0 updated, 50 deactivated",
        "relationships: 60 created, 0 updated, 60 deactivated",
    ]
