"""Rows of users.csv and (OneRoster 1.2) roles.csv, checked and staged.

A user's SIS Person ID comes from the column named by the rollout policy
(`[roster] person_id_column`); people are matched across imports by it, never by sourcedId.
Whether a link between two users is right, and whether a referenced user exists, is checked
later in SQL over the staged rows (a million users do not fit in a dict cheaply).
"""

from __future__ import annotations

from idp.roster.oneroster.records import ReadState, RowReader
from idp.roster.oneroster.spec import LIMITS, RANKS, ROLE_TYPES, STUDENT_RANK, USER_ROLES
from idp.roster.oneroster.staging import FROM_ROLES, FROM_USERS
from idp.roster.oneroster.table import Table
from idp.roster.oneroster.values import BadValue, boolean

_ID, _NAME = LIMITS["sourced_id"], LIMITS["name"]
_USER_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "role",
    "givenName",
    "familyName",
    "phone",
    "grades",
    "agentSourcedIds",
    "orgSourcedIds",
)
_ROLE_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "roleType",
    "role",
    "orgSourcedId",
    "beginDate",
    "endDate",
)
_RANKS_11 = {role: RANKS[role] for role in USER_ROLES["1.1"]}


class UserReader:
    """users.csv: each user is staged with their rank, agents and (1.1) schools."""

    def __init__(self, table: Table, state: ReadState) -> None:
        self.table = table
        self.state = state
        self.person_id_column = state.person_id_column
        self.fetch = table.fetcher((*_USER_COLUMNS, state.person_id_column))
        # OneRoster 1.2 users.csv has no role: roles.csv ranks the users (in SQL).
        self.has_role_column = state.version == "1.1"

    def __call__(self, row: list[str]) -> None:
        """Check and stage one row."""
        fields = self.fetch(row)
        sourced_id, status, modified, enabled, role, given, family = fields[:7]
        phone, grades, agents, orgs, person_id = fields[7:]
        table = self.table
        is_deleted = table.is_deleted(status, modified)
        checked_id = table.required(sourced_id, "sourcedId", _ID)
        rank = self._rank(role) if self.has_role_column else None
        names = (None, None) if is_deleted else self._names(given, family)
        user = (
            table.line,
            checked_id,
            table.optional(person_id, self.person_id_column, LIMITS["sis_person_id"]),
            rank,
            *names,
            table.optional(phone, "phone", LIMITS["phone"]),
            self._grade(grades),
            self._agents(checked_id, agents),
            self._is_enabled(enabled),
            is_deleted,
        )
        if checked_id is None or is_deleted is None:
            return
        self.state.stager.add("roster_user", user)
        if rank == STUDENT_RANK and orgs and not is_deleted:
            self._schools(orgs, checked_id)

    def _names(self, given: str, family: str) -> tuple[str | None, str | None]:
        return (
            self.table.required(given, "givenName", _NAME),
            self.table.required(family, "familyName", _NAME),
        )

    def _rank(self, role: str) -> int | None:
        """The rank of a OneRoster 1.1 `role` (unknown roles are errors)."""
        rank = _RANKS_11.get(role)
        if rank is not None:
            return rank
        choice = self.table.token(role, "role", USER_ROLES["1.1"])
        return None if choice is None else RANKS[choice]

    def _is_enabled(self, value: str) -> bool:
        """enabledUser: false means the SIS does not let this person sign in (nor use the
        portal). Empty is read as true."""
        if not value or value == "true":
            return True
        if value == "false":
            return False
        try:
            is_enabled, warning = boolean(value)
        except BadValue as bad:
            self.table.error(bad.code, "enabledUser", **bad.params)
            return True
        if warning:
            canonical = str(is_enabled).lower()
            self.table.warn(warning, "enabledUser", value=value, canonical=canonical)
        return is_enabled

    def _grade(self, grades: str) -> str | None:
        """The first of the user's grades (a student has one; the rest are ignored)."""
        if not grades:
            return None
        listed = self.table.ids(grades, "grades")
        return self.table.optional(listed[0], "grades", LIMITS["grade"]) if listed else None

    def _agents(self, sourced_id: str | None, agents: str) -> str | None:
        """agentSourcedIds, checked as a list; staged as one string and split in SQL."""
        if not agents:
            return None
        listed = self.table.ids(agents, "agentSourcedIds")
        if sourced_id in listed:
            self.table.error("self_agent", "agentSourcedIds")
        return ",".join(listed) or None

    def _schools(self, orgs: str, sourced_id: str) -> None:
        """A 1.1 student's orgSourcedIds that are schools are enrolments too."""
        for org in self.table.ids(orgs, "orgSourcedIds"):
            school = self.state.org_reference(self.table, org, "orgSourcedIds")
            if school is not None:
                row = (self.table.line, FROM_USERS, sourced_id, school, False)
                self.state.stager.add("roster_enrol", row)


def role_reader(table: Table, state: ReadState) -> RowReader:
    """roles.csv (1.2): ranks the user; a student role at a school is an enrolment."""
    fetch = table.fetcher(_ROLE_COLUMNS)

    def read(row: list[str]) -> None:
        sourced_id, status, modified, user, role_type, role, org, begin, end = fetch(row)
        is_deleted = table.is_deleted(status, modified)
        table.required(sourced_id, "sourcedId", _ID)
        checked_user = table.required(user, "userSourcedId", _ID)
        checked_org = table.required(org, "orgSourcedId", _ID)
        table.token(role_type, "roleType", ROLE_TYPES)
        choice = table.token(role, "role", USER_ROLES["1.2"])
        table.date(begin, "beginDate")
        table.date(end, "endDate")
        if checked_user is None or choice is None or is_deleted is None:
            return
        state.stager.add("roster_role", (table.line, checked_user, RANKS[choice], is_deleted))
        if choice == "student" and checked_org is not None and not is_deleted:
            school = state.org_reference(table, checked_org, "orgSourcedId")
            if school is not None:
                enrol = (table.line, FROM_ROLES, checked_user, school, False)
                state.stager.add("roster_enrol", enrol)

    return read
