"""Reading rows of users, enrollments and demographics: what is staged, what is reported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from idp.roster.oneroster.records import (
    ReadState,
    demographic_reader,
    enrollment_reader,
    org_reader,
)
from idp.roster.oneroster.report import ImportReport
from idp.roster.oneroster.spec import DEMOGRAPHICS, ENROLLMENTS, ORGS, USERS, FileSpec
from idp.roster.oneroster.table import FileContext, Table
from idp.roster.oneroster.users import UserReader
from tests.roster_exports import user


class FakeStager:
    """Collects staged rows per table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)


def _read(spec: FileSpec, rows: list[dict[str, str]], state: ReadState | None = None) -> Any:
    """Read `rows` of `spec` in a 1.1 bulk file; the state, staged rows and problems."""
    report = ImportReport()
    state = state or _state()
    header = list(spec.columns["1.1"])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(column, "") for column in header] for row in rows)
    text.seek(0)
    extra = ("identifier",) if spec is USERS else ()
    table = Table(FileContext(spec, "1.1", "bulk", report, extra), text)
    table.read_header()
    readers = {"orgs": org_reader, "users": UserReader, "enrollments": enrollment_reader,
               "demographics": demographic_reader}  # fmt: skip
    read = readers[spec.key](table, state)
    for row in table.rows():
        read(row)
    errors = [(problem.location(), problem.code) for problem in report.errors]
    return state, state.stager.rows, errors


def _state() -> ReadState:
    state = ReadState(FakeStager(), "1.1", "identifier", is_orgs_complete=True)
    state.orgs.update({"org-d": "district", "org-es1": "school", "org-dep": "department"})
    state.schools.add("org-es1")
    state.classes.update({"cls-1": "org-es1", "cls-dep": "org-dep"})
    return state


def test_user_is_staged_with_rank_first_grade_agents_and_school() -> None:
    row = user("u-ana", "student", "S1001", "Ana Lopez", grades="03,04",
               agentSourcedIds="u-maria", orgSourcedIds="org-d")  # fmt: skip
    row["orgSourcedIds"] = "org-es1,org-d"

    _, staged, errors = _read(USERS, [row])

    assert errors == []
    assert staged["roster_user"] == [
        (2, "u-ana", "S1001", 1, "Ana", "Lopez", None, "03", "u-maria", True, False)
    ]
    assert staged["roster_enrol"] == [(2, 2, "u-ana", "org-es1", False)]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"role": "uncle"}, ("users.csv:2:role", "not_one_of")),
        ({"enabledUser": "yes"}, ("users.csv:2:enabledUser", "not_one_of")),
        ({"agentSourcedIds": "u-ana"}, ("users.csv:2:agentSourcedIds", "self_agent")),
        ({"givenName": ""}, ("users.csv:2:givenName", "required_value")),
        ({"identifier": "S" * 65}, ("users.csv:2:identifier", "too_long")),
        ({"orgSourcedIds": "org-gone"}, ("users.csv:2:orgSourcedIds", "unknown_org")),
    ],
)
def test_wrong_user_values_are_errors_at_their_cell(
    change: dict[str, str], error: tuple[str, str]
) -> None:
    row = {**user("u-ana", "student", "S1001", "Ana Lopez"), **change}

    _, _, errors = _read(USERS, [row])

    assert errors == [error]


def test_enrolment_at_a_department_takes_the_school_of_its_class() -> None:
    rows = [{"sourcedId": "e1", "classSourcedId": "cls-1", "schoolSourcedId": "org-dep",
             "userSourcedId": "u-ana", "role": "student"}]  # fmt: skip

    _, staged, errors = _read(ENROLLMENTS, rows)

    assert errors == []
    assert staged["roster_enrol"] == [(2, 1, "u-ana", "org-es1", False)]


def test_enrolment_without_any_school_is_refused() -> None:
    rows = [{"sourcedId": "e1", "classSourcedId": "cls-dep", "schoolSourcedId": "org-dep",
             "userSourcedId": "u-ana", "role": "student"}]  # fmt: skip

    _, staged, errors = _read(ENROLLMENTS, rows)

    assert errors == [("enrollments.csv:2:schoolSourcedId", "not_a_school")]
    assert staged == {}


def test_teacher_enrolment_is_checked_but_not_staged() -> None:
    rows = [{"sourcedId": "e1", "classSourcedId": "cls-1", "schoolSourcedId": "org-es1",
             "userSourcedId": "u-t", "role": "teacher", "beginDate": "2024-13-01"}]  # fmt: skip

    _, staged, errors = _read(ENROLLMENTS, rows)

    assert errors == [("enrollments.csv:2:beginDate", "bad_date")]
    assert staged == {}


@pytest.mark.parametrize("birth_date", ["1/05/2023", "2016-02-30", "17.04.2016"])
def test_ambiguous_or_impossible_birth_date_is_refused(birth_date: str) -> None:
    _, staged, errors = _read(DEMOGRAPHICS, [{"sourcedId": "u-ana", "birthDate": birth_date}])

    assert errors == [("demographics.csv:2:birthDate", "bad_date")]
    assert staged == {}


def test_school_needs_an_identifier_and_a_unique_one() -> None:
    rows = [
        {"sourcedId": "o1", "name": "One", "type": "school", "identifier": "ES1"},
        {"sourcedId": "o2", "name": "Two", "type": "school", "identifier": ""},
        {"sourcedId": "o3", "name": "Three", "type": "school", "identifier": "ES1"},
        {"sourcedId": "o1", "name": "Again", "type": "district"},
        {"sourcedId": "o4", "name": "Four", "type": "School", "identifier": "ES4"},
    ]

    state, staged, errors = _read(ORGS, rows, ReadState(FakeStager(), "1.1", "identifier", True))

    assert errors == [
        ("orgs.csv:3:identifier", "school_identifier"),
        ("orgs.csv:4:identifier", "duplicate_org_id"),
        ("orgs.csv:5:sourcedId", "duplicate_sourced_id"),
    ]
    assert staged["roster_org"] == [(2, "o1", "ES1", "One", False), (6, "o4", "ES4", "Four", False)]
    assert state.schools == {"o1", "o4"}
