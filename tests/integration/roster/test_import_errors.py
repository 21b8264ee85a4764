"""A refused import changes nothing and lists every error; unambiguous oddities only warn."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.roster.conftest import ImportRun, counts, persons, snapshot
from tests.roster_exports import district_11, user

pytestmark = pytest.mark.usefixtures("english")


def test_refused_import_lists_every_error_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path
) -> None:
    run_import(district_11().write(tmp_path / "first"))
    before = snapshot()
    export = district_11()
    export.extra_columns["users"] = ["nickname"]
    export.row("users", "u-ana")["agentSourcedIds"] = "u-maria,u-ghost"
    export.row("users", "u-ben")["identifier"] = "S1001"
    export.row("users", "u-jose")["role"] = "uncle"
    export.row("users", "u-carla")["identifier"] = ""
    export.row("users", "u-maria")["enabledUser"] = "yes"
    export.row("demographics", "u-ben")["birthDate"] = "1/05/2012"
    export.rows["users"].append(user("u-new", "parent", "G2009", "New Parent"))
    export.rows["enrollments"][0]["userSourcedId"] = "u-nobody"

    report = run_import(export.write(tmp_path / "second"))

    assert not report.is_applied
    assert report.error_lines() == [
        "demographics.csv:3:birthDate: '1/05/2012' is not a date written YYYY-MM-DD (a date"
        " like 1/05/2023 could mean January 5 or May 1).",
        "enrollments.csv:2:userSourcedId: No user has the sourcedId 'u-nobody' in users.csv"
        " or in an earlier import.",
        "users.csv:1:nickname: Unknown column. It is not part of OneRoster 1.1 users.csv;"
        " extension columns must start with metadata.",
        "users.csv:2:agentSourcedIds: No user has the sourcedId 'u-ghost' in users.csv or in"
        " an earlier import.",
        "users.csv:3:identifier: SIS Person ID 'S1001' is used again: it is already on line 2.",
        "users.csv:4:enabledUser: 'yes' is not allowed here. Use one of: false, true.",
        "users.csv:5:role: 'uncle' is not allowed here. Use one of: administrator, aide,"
        " guardian, parent, proctor, relative, student, teacher.",
        "users.csv:6:identifier: The SIS Person ID is empty. Every student and guardian needs"
        " one: the IdP recognises people by it.",
    ]
    assert report.error_count == 8
    assert snapshot() == before


def test_missing_required_column_is_refused_at_the_header(
    run_import: ImportRun, tmp_path: Path
) -> None:
    export = district_11()
    folder = export.write(tmp_path / "export")
    users = folder / "users.csv"
    lines = users.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = header.index("givenName")
    rows = [
        ",".join(cell for i, cell in enumerate(line.split(",")) if i != column) for line in lines
    ]
    users.write_text("\n".join(rows) + "\n", encoding="utf-8")

    report = run_import(folder)

    assert report.error_lines() == [
        "users.csv:1:givenName: This required column is missing from the header."
    ]
    assert snapshot() == {"schools": [], "persons": [], "relationships": [], "enrollments": []}


def test_line_with_too_few_values_is_refused(run_import: ImportRun, tmp_path: Path) -> None:
    folder = district_11().write(tmp_path / "export")
    with (folder / "orgs.csv").open("a", encoding="utf-8") as orgs:
        orgs.write("org-x,,,Broken\n")

    report = run_import(folder)

    assert report.error_lines() == [
        "orgs.csv:5: The line has 4 values but the header has 7 columns."
    ]
    assert snapshot()["persons"] == []


def test_unambiguous_oddities_are_imported_with_warnings(
    run_import: ImportRun, tmp_path: Path
) -> None:
    export = district_11()
    export.row("users", "u-ana")["enabledUser"] = "TRUE"
    export.row("users", "u-ben")["enabledUser"] = "True"
    export.row("users", "u-maria")["givenName"] = " Maria "
    export.row("users", "u-jose")["agentSourcedIds"] = "u-ana, u-ben"
    export.row("users", "u-ben")["agentSourcedIds"] = "u-maria,u-jose"
    folder = export.write(tmp_path / "export")
    users = folder / "users.csv"
    # A byte order mark and CRLF line ends, as spreadsheet programs write them.
    text = users.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", "\r\n")
    users.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    report = run_import(folder)

    assert report.error_lines() == []
    assert report.is_applied
    assert report.warning_lines() == [
        "users.csv:1: The file starts with a byte order mark; it was skipped.",
        "users.csv:2:enabledUser: 'TRUE' was read as 'true' (OneRoster values are"
        " case-sensitive). (2 lines)",
        "users.csv:4:givenName: Spaces around ' Maria ' were removed.",
        "users.csv:5:agentSourcedIds: Spaces around 'u-ana, u-ben' were removed.",
    ]
    assert counts(report)["relationships"] == (5, 0, 0)
    assert persons()["G2001"][3] == "Maria"


def test_dry_run_checks_everything_and_changes_nothing(
    run_import: ImportRun, tmp_path: Path
) -> None:
    report = run_import(district_11().write(tmp_path / "export"), dry_run=True)

    assert report.error_lines() == []
    assert not report.is_applied
    assert counts(report)["persons"] == (5, 0, 0)
    assert snapshot() == {"schools": [], "persons": [], "relationships": [], "enrollments": []}
