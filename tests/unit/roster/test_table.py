"""One CSV file: header checks and cleaned values, every problem at file:line:column."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.source import ByteCounter, FolderSource, open_text
from idp.roster.oneroster.spec import ORGS, USERS, FileSpec
from idp.roster.oneroster.table import FileContext, Table

ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"


def _table(text: str, spec: FileSpec = ORGS, mode: str = "bulk") -> tuple[Table, ImportReport]:
    report = ImportReport()
    context = FileContext(spec, "1.1", mode, report)
    return Table(context, io.StringIO(text)), report


def _problems(report: ImportReport) -> list[tuple[str, str]]:
    errors = [(problem.location(), problem.code) for problem in report.errors]
    warnings = [(group.first.location(), group.first.code) for group in report.warnings.values()]
    return errors + warnings


def test_complete_header_is_readable_without_problems() -> None:
    table, report = _table(ORGS_HEADER + "\n")

    assert table.read_header()
    assert _problems(report) == []


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (ORGS_HEADER + ",nickname", ("orgs.csv:1:nickname", "unknown_column")),
        (ORGS_HEADER + ",", ("orgs.csv:1", "unnamed_column")),
        (ORGS_HEADER + ",name", ("orgs.csv:1:name", "duplicate_column")),
    ],
)
def test_header_problems_are_errors_at_line_1(header: str, problem: tuple[str, str]) -> None:
    table, report = _table(header + "\n")

    table.read_header()

    assert _problems(report) == [problem]


def test_extension_columns_are_accepted() -> None:
    table, report = _table(ORGS_HEADER + ",metadata.district.code\n")

    assert table.read_header()
    assert report.errors == []


def test_missing_required_column_makes_the_file_unreadable() -> None:
    table, report = _table("sourcedId,status,dateLastModified,name,identifier,parentSourcedId\n")

    assert not table.read_header()
    assert _problems(report) == [("orgs.csv:1:type", "missing_column")]


def test_missing_optional_column_is_read_as_empty_with_a_warning() -> None:
    table, report = _table("sourcedId,name,type\nx,Name,school\n")

    assert table.read_header()
    assert sorted(_problems(report)) == [
        ("orgs.csv:1:dateLastModified", "optional_column"),
        ("orgs.csv:1:identifier", "optional_column"),
        ("orgs.csv:1:parentSourcedId", "optional_column"),
        ("orgs.csv:1:status", "optional_column"),
    ]
    assert table.fetcher(("sourcedId", "identifier"))(next(table.rows())) == ("x", "")


def test_surrounding_spaces_are_removed_with_a_warning_at_the_cell() -> None:
    table, report = _table(ORGS_HEADER + "\norg-1,,, Lakeview ,school,ES1,\n")
    table.read_header()
    fetch = table.fetcher(("sourcedId", "name", "identifier"))

    values = fetch(next(table.rows()))

    assert values == ("org-1", "Lakeview", "ES1")
    assert _problems(report) == [("orgs.csv:2:name", "spaces")]


def test_line_with_another_number_of_values_is_an_error_and_skipped() -> None:
    table, report = _table(ORGS_HEADER + "\norg-1,,,Lakeview\norg-2,,,Ridge,school,ES2,\n")
    table.read_header()

    rows = list(table.rows())

    assert [row[0] for row in rows] == ["org-2"]
    assert _problems(report) == [("orgs.csv:2", "field_count")]
    assert table.is_damaged


@pytest.mark.parametrize(
    ("status", "mode", "expected", "problems"),
    [
        ("", "bulk", False, []),
        ("active", "delta", False, []),
        ("tobedeleted", "delta", True, []),
        ("active", "bulk", False, [("users.csv:2:status", "bulk_filled")]),
        ("Active", "delta", False, [("users.csv:2:status", "case")]),
        ("inactive", "delta", None, [("users.csv:2:status", "not_one_of")]),
    ],
)
def test_status_says_whether_the_row_is_deleted(
    status: str, mode: str, expected: bool | None, problems: list[tuple[str, str]]
) -> None:
    table, report = _table(",".join(USERS.columns["1.1"]) + "\n", USERS, mode)
    table.read_header()
    table.line = 2

    assert table.is_deleted(status, "") is expected
    assert _problems(report) == problems


def test_bom_is_reported_and_crlf_lines_are_read(tmp_path: Path) -> None:
    (tmp_path / "orgs.csv").write_bytes(
        b"\xef\xbb\xbf" + (ORGS_HEADER + "\r\norg-1,,,Lakeview,school,ES1,\r\n").encode()
    )

    report = ImportReport()

    with open_text(FolderSource(tmp_path), "orgs.csv", ByteCounter()) as (text, has_bom):
        table = Table(FileContext(ORGS, "1.1", "bulk", report), text)
        readable = table.read_header()
        rows = list(table.rows())

    assert has_bom
    assert readable
    assert rows == [["org-1", "", "", "Lakeview", "school", "ES1", ""]]
    assert report.errors == []
