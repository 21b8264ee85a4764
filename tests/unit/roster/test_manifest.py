"""manifest.csv: the version, and bulk, delta or absent per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.roster.oneroster.manifest import Manifest, read_manifest
from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.source import ByteCounter, FolderSource
from idp.roster.oneroster.spec import ORGS


def _read(folder: Path, manifest: str, *files: str) -> tuple[Manifest | None, ImportReport]:
    folder.mkdir(exist_ok=True)
    if manifest:
        (folder / "manifest.csv").write_text("propertyName,value\n" + manifest, encoding="utf-8")
    for name in files:
        (folder / name).write_text("sourcedId\n", encoding="utf-8")
    report = ImportReport()
    return read_manifest(FolderSource(folder), report, ByteCounter()), report


def _problems(report: ImportReport) -> list[tuple[str, str]]:
    errors = [(problem.location(), problem.code) for problem in report.errors]
    warnings = [(group.first.location(), group.first.code) for group in report.warnings.values()]
    return errors + warnings


def test_modes_of_the_files_the_idp_reads(tmp_path: Path) -> None:
    manifest, report = _read(
        tmp_path,
        "oneroster.version,1.1\nfile.users,bulk\nfile.orgs,delta\nfile.courses,bulk\n",
        "users.csv",
        "orgs.csv",
    )

    assert manifest == Manifest("1.1", {"users": "bulk", "orgs": "delta"})
    assert _problems(report) == []


def test_missing_manifest_is_refused(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "", "users.csv")

    assert manifest is None
    assert _problems(report) == [("manifest.csv", "manifest_missing")]


@pytest.mark.parametrize("version", ["1.0", "2", ""])
def test_unsupported_version_is_refused(tmp_path: Path, version: str) -> None:
    manifest, report = _read(tmp_path, f"oneroster.version,{version}\n")

    assert manifest is None
    assert _problems(report) == [("manifest.csv:2:value", "bad_version")]


def test_mode_that_is_not_bulk_delta_or_absent_is_refused(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.1\nfile.users,full\n", "users.csv")

    assert manifest is not None
    assert _problems(report) == [("manifest.csv:3:value", "not_one_of")]


def test_file_present_but_not_in_the_manifest_is_refused(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.1\n", "users.csv")

    assert manifest == Manifest("1.1", {})
    assert _problems(report) == [("manifest.csv", "not_in_manifest")]


def test_mode_in_another_letter_case_is_read_with_a_warning(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.1\nfile.users,Bulk\n", "users.csv")

    assert manifest == Manifest("1.1", {"users": "bulk"})
    assert _problems(report) == [("manifest.csv:3:value", "case")]


def test_listed_file_that_is_missing_is_refused(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.1\nfile.users,bulk\n")

    assert manifest == Manifest("1.1", {})
    assert _problems(report) == [("manifest.csv:3:value", "file_missing")]


def test_file_present_but_absent_in_the_manifest_is_not_read(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.1\nfile.orgs,absent\n", "orgs.csv")

    assert manifest is not None
    assert not manifest.is_read(ORGS)
    assert _problems(report) == [("orgs.csv", "absent_but_present")]


def test_bad_mode_of_a_file_the_idp_does_not_read_only_warns(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.2\nfile.scoreScales,\n")

    assert manifest == Manifest("1.2", {})
    assert _problems(report) == [("manifest.csv:3:value", "unread_mode")]


def test_version_1_2_users_need_roles(tmp_path: Path) -> None:
    manifest, report = _read(tmp_path, "oneroster.version,1.2\nfile.users,bulk\n", "users.csv")

    assert manifest is not None
    assert _problems(report) == [("manifest.csv", "roles_missing")]
