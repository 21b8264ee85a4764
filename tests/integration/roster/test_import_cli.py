"""`idp roster import` and `idp roster synth` (through Flask's CLI runner)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from idp.roster.cli import ProgressPrinter, roster
from idp.roster.oneroster import Progress
from tests.integration.roster.conftest import snapshot
from tests.roster_exports import district_11

IDP = str(Path(sys.executable).parent / "idp")


def test_import_prints_what_it_did(app: Flask, tmp_path: Path) -> None:
    folder = district_11().write(tmp_path / "export")

    result = app.test_cli_runner().invoke(roster, ["import", str(folder)])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:5] == [
        "schools: 2 created, 0 updated, 0 deactivated",
        "persons: 5 created, 0 updated, 0 deactivated",
        "relationships: 4 created, 0 updated, 0 deactivated",
        "enrolments: 2 created, 0 updated, 0 deactivated",
        "1 staff user was not imported (staff accounts are made in the IdP).",
    ]
    assert result.stdout.splitlines()[5].startswith("Import done in ")
    assert len(snapshot()["persons"]) == 5


def test_import_with_errors_prints_each_and_exits_1(app: Flask, tmp_path: Path) -> None:
    export = district_11()
    export.row("demographics", "u-ana")["birthDate"] = "17/04/2016"
    export.row("users", "u-ben")["role"] = "pupil"
    folder = export.write(tmp_path / "export")

    result = app.test_cli_runner().invoke(roster, ["import", str(folder)])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-3:] == [
        "demographics.csv:2:birthDate: '17/04/2016' is not a date written YYYY-MM-DD (a date"
        " like 1/05/2023 could mean January 5 or May 1).",
        "users.csv:3:role: 'pupil' is not allowed here. Use one of: administrator, aide,"
        " guardian, parent, proctor, relative, student, teacher.",
        "Import refused: 2 errors. Nothing was changed; correct the files and run it again.",
    ]
    assert result.stdout == ""
    assert snapshot()["persons"] == []


def test_dry_run_validates_and_changes_nothing(app: Flask, tmp_path: Path) -> None:
    folder = district_11().write(tmp_path / "export")

    result = app.test_cli_runner().invoke(roster, ["import", "--dry-run", str(folder)])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Dry run: the files are valid; nothing was changed."
    assert snapshot()["persons"] == []


def test_synth_writes_a_district_that_imports_cleanly(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    runner = app.test_cli_runner()
    synth = runner.invoke(roster, ["synth", "--students", "30", "--out", str(out), "--seed", "5"])

    result = runner.invoke(roster, ["import", str(out)])

    assert synth.stdout == (
        f"Wrote 30 students, 20 guardians, 60 relationships and 1 schools to {out}.\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:3] == [
        "persons: 50 created, 0 updated, 0 deactivated",
        "relationships: 60 created, 0 updated, 0 deactivated",
    ]


def test_synth_gives_the_same_files_for_the_same_seed(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    for name in ("one", "two"):
        runner.invoke(roster, ["synth", "--students", "40", "--out", str(tmp_path / name)])

    files = sorted(path.name for path in (tmp_path / "one").iterdir())

    assert files == [
        "classes.csv",
        "demographics.csv",
        "enrollments.csv",
        "manifest.csv",
        "orgs.csv",
        "users.csv",
    ]
    assert all(
        (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        for name in files
    )


@pytest.mark.parametrize(
    ("progress", "line"),
    [
        (
            Progress("users.csv", 250_000, 40, 100),
            "users.csv: 250,000 rows read, 25,000 rows/s, 40% of the files read,"
            " reading done in about 15 s",
        ),
        (Progress("relationships", 900_000, 100, 100), "relationships… (10 s)"),
    ],
)
@pytest.mark.usefixtures("english")
def test_progress_line_gives_rate_and_eta_while_reading(progress: Progress, line: str) -> None:
    assert ProgressPrinter.describe(progress, 10.0) == line


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(("interval", "printed"), [(0.0, 3), (3600.0, 0)])
def test_progress_is_printed_at_most_once_per_interval(interval: float, printed: int) -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, interval_seconds=interval)

    for rows in (10, 20, 30):
        printer(Progress("users.csv", rows, rows, 100))

    assert len(stream.getvalue().splitlines()) == printed


def test_idp_lists_the_roster_commands() -> None:
    result = subprocess.run(
        [IDP, "roster", "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "import" in result.stdout
    assert "synth" in result.stdout
