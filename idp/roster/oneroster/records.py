"""Rows of orgs.csv, classes.csv, enrollments.csv and demographics.csv, checked and staged.

Orgs and classes are few (even a large district has thousands, not millions): they stay in
memory, so an enrolment's school is resolved while its line is read. Each reader is built
once per file and then called per row; the common case (a right value) costs a comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from idp.roster.oneroster.spec import ENROLLMENT_ROLES, LIMITS, ORG_TYPES
from idp.roster.oneroster.staging import FROM_ENROLLMENTS, Stager
from idp.roster.oneroster.table import Table

RowReader = Callable[[list[str]], None]
_ID = LIMITS["sourced_id"]
_ENROLLMENT_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "beginDate",
    "endDate",
)


@dataclass
class ReadState:
    """What reading one file leaves for the next ones."""

    stager: Stager
    version: str
    person_id_column: str
    # Whether orgs.csv is a bulk file: then an org it lacks does not exist.
    is_orgs_complete: bool
    # sourcedId -> org type, for every org of orgs.csv.
    orgs: dict[str, str] = field(default_factory=dict)
    # sourcedIds of the schools an enrolment may name (orgs.csv, plus known schools).
    schools: set[str] = field(default_factory=set)
    # class sourcedId -> the sourcedId of its school.
    classes: dict[str, str] = field(default_factory=dict)
    # sourcedId and school identifier -> first line, to report duplicates.
    org_lines: dict[str, int] = field(default_factory=dict)
    school_id_lines: dict[str, int] = field(default_factory=dict)

    def org_reference(self, table: Table, org: str, column: str) -> str | None:
        """The school `org` names (None if it names another kind of org or none, reported)."""
        if org in self.schools:
            return org
        if org in self.orgs:
            return None  # a district, department...: not an enrolment
        if self.is_orgs_complete:
            table.error("unknown_org", column, value=org)
        else:
            table.warn("unknown_org_delta", column, value=org)
        return None


def _is_repeated(table: Table, seen: dict[str, int], key: str, column: str, code: str) -> bool:
    first_line = seen.setdefault(key, table.line)
    if first_line != table.line:
        table.error(code, column, value=key, first_line=first_line)
        return True
    return False


def org_reader(table: Table, state: ReadState) -> RowReader:
    """orgs.csv: every org is remembered by type; schools are staged with their identifier."""
    fetch = table.fetcher(("sourcedId", "status", "dateLastModified", "name", "type", "identifier"))

    def read(row: list[str]) -> None:
        raw_id, status, modified, name, raw_type, identifier = fetch(row)
        is_deleted = table.is_deleted(status, modified)
        sourced_id = table.required(raw_id, "sourcedId", _ID)
        checked_name = table.required(name, "name", LIMITS["school_name"])
        org_type = table.token(raw_type, "type", ORG_TYPES)
        if sourced_id is None:
            return
        if _is_repeated(table, state.org_lines, sourced_id, "sourcedId", "duplicate_sourced_id"):
            return
        state.orgs[sourced_id] = org_type or ""
        if org_type == "school":
            school_id = _school_identifier(table, state, identifier)
            if school_id and not is_deleted:
                state.schools.add(sourced_id)
            if school_id and checked_name and is_deleted is not None:
                row_data = (table.line, sourced_id, school_id, checked_name, is_deleted)
                state.stager.add("roster_org", row_data)

    return read


def _school_identifier(table: Table, state: ReadState, identifier: str) -> str | None:
    """A school's identifier: the SIS school id the IdP (and rollout.toml) knows it by."""
    if not identifier:
        table.error("school_identifier", "identifier")
        return None
    checked = table.required(identifier, "identifier", LIMITS["school_sis_id"])
    if checked is None:
        return None
    if _is_repeated(table, state.school_id_lines, checked, "identifier", "duplicate_org_id"):
        return None
    return checked


def class_reader(table: Table, state: ReadState) -> RowReader:
    """classes.csv: only which school a class belongs to matters (to place an enrolment)."""
    fetch = table.fetcher(("sourcedId", "status", "dateLastModified", "schoolSourcedId"))

    def read(row: list[str]) -> None:
        sourced_id, status, modified, school = fetch(row)
        is_deleted = table.is_deleted(status, modified)
        checked_id = table.required(sourced_id, "sourcedId", _ID)
        checked_school = table.required(school, "schoolSourcedId", _ID)
        if checked_id and checked_school and not is_deleted:
            state.classes[checked_id] = checked_school

    return read


def enrollment_reader(table: Table, state: ReadState) -> RowReader:
    """enrollments.csv: a student's enrolment is staged with its school; others are checked."""
    fetch = table.fetcher(_ENROLLMENT_COLUMNS)
    roles = ENROLLMENT_ROLES[state.version]

    def read(row: list[str]) -> None:
        sourced_id, status, modified, class_id, school, user, role, begin, end = fetch(row)
        is_deleted = table.is_deleted(status, modified)
        table.required(sourced_id, "sourcedId", _ID)
        checked_class = table.required(class_id, "classSourcedId", _ID)
        checked_school = table.required(school, "schoolSourcedId", _ID)
        checked_user = table.required(user, "userSourcedId", _ID)
        if role not in roles:
            role = table.token(role, "role", roles) or ""
        if begin or end:
            table.date(begin, "beginDate")
            table.date(end, "endDate")
        if role != "student" or not (checked_user and checked_school) or is_deleted is None:
            return  # staff and guardian enrolments give no portal access
        resolved = _enrolment_school(table, state, checked_school, checked_class)
        if resolved is not None:
            row_data = (table.line, FROM_ENROLLMENTS, checked_user, resolved, is_deleted)
            state.stager.add("roster_enrol", row_data)

    return read


def _enrolment_school(
    table: Table, state: ReadState, school: str, class_id: str | None
) -> str | None:
    """The school of an enrolment: its schoolSourcedId, else the school of its class."""
    if school in state.schools:
        return school
    class_school = state.classes.get(class_id or "")
    if class_school in state.schools:
        return class_school
    if state.orgs.get(school) == "school":
        return None  # a school refused on its own line, or one that is tobedeleted
    if school in state.orgs:
        table.error("not_a_school", "schoolSourcedId", value=school, type=state.orgs[school])
    elif state.is_orgs_complete:
        table.error("unknown_org", "schoolSourcedId", value=school)
    else:
        table.warn("unknown_org_delta", "schoolSourcedId", value=school)
    return None


def demographic_reader(table: Table, state: ReadState) -> RowReader:
    """demographics.csv: the birth date of the user with the same sourcedId."""
    fetch = table.fetcher(("sourcedId", "status", "dateLastModified", "birthDate"))

    def read(row: list[str]) -> None:
        sourced_id, status, modified, birth_date = fetch(row)
        is_deleted = table.is_deleted(status, modified)
        checked_id = table.required(sourced_id, "sourcedId", _ID)
        checked_date = table.date(birth_date, "birthDate")
        # A deleted or empty row never clears a birth date: students sign in with it.
        if checked_id and checked_date and not is_deleted:
            state.stager.add("roster_demo", (table.line, checked_id, checked_date))

    return read
