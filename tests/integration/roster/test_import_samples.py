"""Real-world OneRoster exports with real defects (catalyst/moodle-enrol_oneroster fixtures).

The files are GPL test fixtures of another project: they are read from the shared folder and
never copied into this repository (see its SOURCE.md). Each one is refused with
`file:line:column` errors, and the database keeps what an earlier import put there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from idp.config import PROJECT_ROOT
from tests.integration.roster.conftest import ImportRun, snapshot
from tests.roster_exports import district_11

pytestmark = pytest.mark.usefixtures("english")

_SHARED = "oneroster-samples/catalyst-moodle-enrol_oneroster"
# ../shared beside the project (the team's layout), else the workplace's /work/shared.
SAMPLES = next(
    (
        folder
        for folder in (PROJECT_ROOT.parent / "shared" / _SHARED, Path("/work/shared") / _SHARED)
        if folder.is_dir()
    ),
    PROJECT_ROOT.parent / "shared" / _SHARED,
)


def _require_samples(folder: str) -> None:
    """Skip on a machine without the shared samples; in CI (CI=true) that is a failure."""
    if (SAMPLES / folder).is_dir():
        return
    message = f"{SAMPLES} is not on this machine (the files are not in the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


_DEPARTMENT = "Org 'org-sch-222-456' is a department, not a school"
_ENROLLED_AT_DEPARTMENT = [
    (f"enrollments.csv:{line}:schoolSourcedId", _DEPARTMENT) for line in (3, 4, 6, 7)
]
_NO_PERSON_ID = "The SIS Person ID is empty"
_FIELD_COUNT = "The line has 9 values but the header has 11 columns."
_NOT_ISO = "is not an ISO 8601 date and time"
_UNKNOWN_COLUMN = "Unknown column. It is not part of OneRoster 1.2"

EXPECTED_ERRORS = {
    # Students enrolled at a department (the only org), whose classes name it too.
    "Test_full_data_set": _ENROLLED_AT_DEPARTMENT,
    # The same, and students and a parent without an identifier (the SIS Person ID).
    "Test_minimal_data_set": _ENROLLED_AT_DEPARTMENT
    + [(f"users.csv:{line}:identifier", _NO_PERSON_ID) for line in (3, 4, 6, 7)],
    # Its one school has no identifier, so the IdP cannot tell which school it is.
    "oneroster_test_data": [("orgs.csv:2:identifier", "The school has no identifier.")],
    # roles.csv: two unnamed header cells, `dataLastModified`, rows shorter than the header;
    # users.csv: misspelt `preffered…` columns, dates written 1/05/2023.
    "v1p2_full_dataset": [
        *_ENROLLED_AT_DEPARTMENT,
        ("roles.csv:1", "Column 10 of the header has no name."),
        ("roles.csv:1", "Column 11 of the header has no name."),
        ("roles.csv:1:dataLastModified", _UNKNOWN_COLUMN),
        *((f"roles.csv:{line}", _FIELD_COUNT) for line in range(2, 9)),
        ("users.csv:1:prefferedFamilyName", _UNKNOWN_COLUMN),
        ("users.csv:1:prefferedGivenName", _UNKNOWN_COLUMN),
        ("users.csv:1:prefferedMiddleName", _UNKNOWN_COLUMN),
        *((f"users.csv:{line}:dateLastModified", _NOT_ISO) for line in (2, 4, 5, 6, 7)),
    ],
}


@pytest.mark.parametrize("folder", sorted(EXPECTED_ERRORS))
def test_sample_export_is_refused_with_its_defects_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path, folder: str
) -> None:
    _require_samples(folder)
    run_import(district_11().write(tmp_path / "district"))
    before = snapshot()

    report = run_import(SAMPLES / folder)

    lines = report.error_lines()
    assert not report.is_applied
    assert len(lines) == len(EXPECTED_ERRORS[folder])
    for line, (location, reason) in zip(lines, EXPECTED_ERRORS[folder], strict=True):
        assert line.startswith(f"{location}: ")
        assert reason in line
    assert snapshot() == before


@pytest.mark.parametrize(
    "warning",
    [
        "users.csv:2:enabledUser: 'TRUE' was read as 'true' (OneRoster values are"
        " case-sensitive). (6 lines)",
        "users.csv:2:dateLastModified: '2023-05-01' has no time of day; it was read as that"
        " date (ISO 8601 asks for a date and time). (5 lines)",
        "users.csv:2:status: A bulk file should leave this column empty; the value was read"
        " as given. (5 lines)",
        "users.csv:3:agentSourcedIds: User 'usr-222-123456' is a teacher: links to staff are"
        " not guardian relationships and were ignored. (4 lines)",
    ],
)
def test_full_data_set_warns_about_values_with_one_meaning(
    run_import: ImportRun, warning: str
) -> None:
    _require_samples("Test_full_data_set")

    report = run_import(SAMPLES / "Test_full_data_set")

    assert warning in report.warning_lines()
