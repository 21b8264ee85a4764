"""The import report: `file:line:column: reason`, warnings grouped, errors beyond a cap counted."""

from __future__ import annotations

from idp.roster.oneroster.report import MAX_LISTED_ERRORS, ImportReport, Problem


def test_error_lines_are_sorted_by_place_and_name_file_line_and_column() -> None:
    report = ImportReport()
    report.error(Problem("required_value", "users.csv", 12, "givenName"))
    report.error(Problem("bad_date", "demographics.csv", 3, "birthDate", {"value": "1/05/2023"}))
    report.error(Problem("manifest_missing", "manifest.csv"))

    lines = report.error_lines()

    assert lines == [
        "demographics.csv:3:birthDate: '1/05/2023' is not a date written YYYY-MM-DD (a date"
        " like 1/05/2023 could mean January 5 or May 1).",
        "manifest.csv: manifest.csv is missing. It says which files the export holds and"
        " whether each is bulk or delta.",
        "users.csv:12:givenName: A value is required here.",
    ]


def test_warnings_of_one_kind_in_one_column_are_one_line_with_a_count() -> None:
    report = ImportReport()
    for line in (2, 3, 9):
        problem = Problem("case", "users.csv", line, "enabledUser")
        report.warn(Problem(problem.code, problem.file, problem.line, problem.column,
                            {"value": "TRUE", "canonical": "true"}))  # fmt: skip

    lines = report.warning_lines()

    assert lines == [
        "users.csv:2:enabledUser: 'TRUE' was read as 'true' (OneRoster values are"
        " case-sensitive). (3 lines)"
    ]


def test_errors_beyond_the_cap_are_counted_not_listed() -> None:
    report = ImportReport()
    for line in range(MAX_LISTED_ERRORS + 5):
        report.error(Problem("required_value", "users.csv", line + 2, "givenName"))

    lines = report.error_lines()

    assert report.error_count == MAX_LISTED_ERRORS + 5
    assert len(lines) == MAX_LISTED_ERRORS + 1
    assert lines[-1] == "… and 5 more errors"
