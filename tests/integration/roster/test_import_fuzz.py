"""Fuzzing the whole import on the database: a report every time, and a refusal changes nothing.

Damaged files and damaged ZIP archives of a valid export are imported over an imported
district. `RosterImporter.run` must return a report (never raise, whatever the bytes), and a
report with errors must leave the roster exactly as it was. Bounded for CI (each example is
an import in its own transaction).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from tests.integration.roster.conftest import ImportRun, snapshot
from tests.roster_exports import district_11
from tests.unit.roster.export_strategies import (
    DAMAGED_DEFLATE_ZIP,
    NAMELESS_MEMBER_ZIP,
    NUL_IN_A_NAME,
    damaged_export,
    damaged_zip,
)

# The app and its database are the test's own (function-scoped): every example imports on it.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def imported(run_import: ImportRun) -> None:
    """The hand-built district is imported already, so that a refusal has something to keep."""
    with tempfile.TemporaryDirectory() as folder:
        assert run_import(district_11().write(Path(folder))).is_applied


def _import_and_compare(run_import: ImportRun, path: Path) -> None:
    before = snapshot()

    report = run_import(path)

    assert report.is_applied is not report.has_errors
    if report.has_errors:
        assert snapshot() == before
    assert all(line for line in report.error_lines())


@pytest.mark.usefixtures("imported")
@FUZZ
@given(files=damaged_export())
@example(files=NUL_IN_A_NAME)
def test_damaged_export_is_imported_or_refused_without_change(
    run_import: ImportRun, files: dict[str, bytes]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            (Path(folder) / name).write_bytes(content)

        _import_and_compare(run_import, Path(folder))


@pytest.mark.usefixtures("imported")
@FUZZ
@given(archive=damaged_zip())
@example(archive=DAMAGED_DEFLATE_ZIP)
@example(archive=NAMELESS_MEMBER_ZIP)
def test_damaged_zip_is_imported_or_refused_without_change(
    run_import: ImportRun, archive: bytes
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.zip"
        path.write_bytes(archive)

        _import_and_compare(run_import, path)
