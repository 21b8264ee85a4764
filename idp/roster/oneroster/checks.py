"""Checks across files, in SQL over the staged rows: duplicates and references.

Each check selects `(line, value, extra)` of the offending staged rows, so every problem is
still reported as `file:line:column`. Staged users with `line IS NULL` are people of earlier
imports that a delta file refers to (see `add_known_people`). Ranks: 1 student, 2 parent,
3 guardian, 4 relative, 9 guardian of unknown kind, 10 and up staff (spec.RANKS).
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.roster.oneroster.report import MAX_LISTED_ERRORS, ImportReport, Problem
from idp.roster.oneroster.spec import DEMOGRAPHICS, ENROLLMENTS, ROLE_NAMES, ROLES, USERS
from idp.roster.oneroster.sql import Sql

# Stands for the column the policy names (`[roster] person_id_column`).
PERSON_ID_COLUMN = "<person id column>"


@dataclass(frozen=True)
class Check:
    """One query for one kind of problem; `extra` names what its third column means."""

    file: str
    column: str
    code: str
    query: str
    extra: str | None = None
    is_warning: bool = False


def _duplicates(table: str, key: str, condition: str) -> str:
    """Rows whose `key` an earlier line of the same file already has."""
    template = (
        "SELECT s.line, s.{key}, f.first_line FROM {table} s JOIN ("
        " SELECT {key}, min(line) AS first_line FROM {table} WHERE {inner}"
        " GROUP BY {key} HAVING count(*) > 1) f ON f.{key} = s.{key}"
        " WHERE s.line > f.first_line AND {outer}"
    )
    inner, outer = condition.format(t=""), condition.format(t="s.")
    return template.format(table=table, key=key, inner=inner, outer=outer)


_LINKS = "SELECT line, {value}, {extra} FROM roster_link WHERE {where}"
_STAFF_SIDE = "CASE WHEN to_rank >= 10 THEN {to} ELSE {from_} END"

CHECKS = (
    Check(USERS.name, "sourcedId", "duplicate_sourced_id",
          _duplicates("roster_user", "sourced_id", "{t}line IS NOT NULL"), "first_line"),
    Check(USERS.name, PERSON_ID_COLUMN, "duplicate_person_id",
          _duplicates("roster_user", "sis_person_id", "{t}line IS NOT NULL AND {t}rank <= 4"),
          "first_line"),
    Check(USERS.name, PERSON_ID_COLUMN, "missing_person_id",
          "SELECT line, sourced_id, NULL FROM roster_user WHERE line IS NOT NULL"
          " AND rank <= 4 AND sis_person_id IS NULL AND NOT is_deleted"),
    Check(USERS.name, "agentSourcedIds", "unknown_user",
          _LINKS.format(value="to_sid", extra="NULL", where="NOT is_known")),
    Check(USERS.name, "agentSourcedIds", "agents_same_kind",
          _LINKS.format(value="to_sid", extra="to_rank", where="from_rank < 10 AND to_rank < 10"
                        " AND (from_rank = 1) = (to_rank = 1)"),
          "role"),
    Check(USERS.name, "agentSourcedIds", "unknown_kind",
          _LINKS.format(value="to_sid", extra="NULL", where="from_rank = 1 AND to_rank = 9")),
    Check(USERS.name, "agentSourcedIds", "staff_agent",
          _LINKS.format(value=_STAFF_SIDE.format(to="to_sid", from_="from_sid"),
                        extra=_STAFF_SIDE.format(to="to_rank", from_="from_rank"),
                        where="from_rank >= 10 OR to_rank >= 10"),
          "role", is_warning=True),
    # Enrolment rows from enrollments.csv (source 1).
    Check(ENROLLMENTS.name, "userSourcedId", "unknown_user",
          "SELECT e.line, e.user_sid, NULL FROM roster_enrol e WHERE e.source = 1"
          " AND NOT EXISTS (SELECT 1 FROM roster_user u WHERE u.sourced_id = e.user_sid)"),
    Check(ENROLLMENTS.name, "userSourcedId", "not_a_student",
          "SELECT e.line, e.user_sid, u.rank FROM roster_enrol e JOIN roster_user u"
          " ON u.sourced_id = e.user_sid WHERE e.source = 1 AND u.rank <> 1", "role"),
    Check(DEMOGRAPHICS.name, "sourcedId", "duplicate_sourced_id",
          _duplicates("roster_demo", "sourced_id", "{t}line IS NOT NULL"), "first_line"),
    Check(DEMOGRAPHICS.name, "sourcedId", "unknown_user",
          "SELECT d.line, d.sourced_id, NULL FROM roster_demo d WHERE NOT EXISTS"
          " (SELECT 1 FROM roster_user u WHERE u.sourced_id = d.sourced_id)"),
)  # fmt: skip
ROLE_CHECKS = (
    Check(USERS.name, "sourcedId", "no_role",
          "SELECT line, sourced_id, NULL FROM roster_user WHERE line IS NOT NULL"
          " AND rank IS NULL AND NOT is_deleted"),
    Check(ROLES.name, "userSourcedId", "unknown_user",
          "SELECT r.line, r.user_sid, NULL FROM roster_role r WHERE NOT EXISTS"
          " (SELECT 1 FROM roster_user u WHERE u.sourced_id = r.user_sid)"),
)  # fmt: skip

_RANK_BY_ROLES = (
    "UPDATE roster_user SET rank = m.rank FROM (SELECT user_sid, min(rank) AS rank"
    " FROM roster_role WHERE NOT is_deleted GROUP BY user_sid) m"
    " WHERE m.user_sid = roster_user.sourced_id AND roster_user.line IS NOT NULL"
)
_SPLIT_POSTGRESQL = (
    "SELECT line, sourced_id AS from_sid, rank AS from_rank,"
    " unnest(string_to_array(agents, ',')) AS to_sid FROM roster_user"
    " WHERE line IS NOT NULL AND NOT is_deleted AND agents IS NOT NULL"
)
# SQLite has no string_to_array: a recursive query peels one id off the list per step.
_SPLIT_SQLITE = (
    "WITH RECURSIVE a(line, from_sid, from_rank, to_sid, rest) AS ("
    " SELECT line, sourced_id, rank, NULL, agents || ',' FROM roster_user"
    " WHERE line IS NOT NULL AND NOT is_deleted AND agents IS NOT NULL"
    " UNION ALL SELECT line, from_sid, from_rank, substr(rest, 1, instr(rest, ',') - 1),"
    " substr(rest, instr(rest, ',') + 1) FROM a WHERE rest <> '')"
    " SELECT line, from_sid, from_rank, to_sid FROM a WHERE to_sid IS NOT NULL"
)
_LINK = (
    "SELECT a.line, a.from_sid, a.from_rank, a.to_sid, t.rank AS to_rank,"
    " t.sourced_id IS NOT NULL AS is_known FROM ({split}) a"
    " LEFT JOIN roster_user t ON t.sourced_id = a.to_sid WHERE a.to_sid <> a.from_sid"
)
# A guardian of an earlier import gets the kind of their relationships (rank 9: none yet).
_KNOWN_PEOPLE = (
    "INSERT INTO roster_user (line, sourced_id, sis_person_id, rank, grade, is_enabled,"
    " is_deleted) SELECT NULL, p.sourced_id, p.sis_person_id,"
    " CASE p.role WHEN 'student' THEN 1 WHEN 'staff' THEN 19 ELSE COALESCE((SELECT"
    " min(CASE r.kind WHEN 'parent' THEN 2 WHEN 'guardian' THEN 3 ELSE 4 END)"
    " FROM relationship r WHERE r.guardian_id = p.id), 9) END,"
    " (SELECT max(e.grade) FROM enrollment e WHERE e.person_id = p.id), true, false"
    " FROM person p WHERE p.sourced_id IN (SELECT to_sid FROM roster_link"
    " WHERE NOT is_known UNION SELECT user_sid FROM roster_enrol"
    " UNION SELECT sourced_id FROM roster_demo UNION SELECT user_sid FROM roster_role)"
    " AND NOT EXISTS (SELECT 1 FROM roster_user u WHERE u.sourced_id = p.sourced_id)"
)
_KNOWN_LINKS = (
    "UPDATE roster_link SET to_rank = u.rank, is_known = true FROM roster_user u"
    " WHERE u.sourced_id = roster_link.to_sid AND u.line IS NULL"
)
_COUNT = "SELECT count(*) FROM ({query}) q"


def rank_users_by_role(sql: Sql) -> None:
    """OneRoster 1.2: a user's rank is the lowest of their roles (student before parent...)."""
    sql.run(_RANK_BY_ROLES)


def link_agents(sql: Sql) -> None:
    """roster_link: one row per agentSourcedIds item, with the ranks of both users."""
    split = _SPLIT_POSTGRESQL if sql.is_postgresql else _SPLIT_SQLITE
    sql.derive("roster_link", _LINK.format(split=split), "to_sid", "from_sid")


def add_known_people(sql: Sql) -> None:
    """Delta imports: people of earlier imports that the files refer to, as unnumbered rows.

    A guardian's kind (parent, guardian, relative) is taken from their relationships; one
    without any gets rank 9, and linking them is refused (`unknown_kind`).
    """
    sql.run(_KNOWN_PEOPLE)
    sql.run(_KNOWN_LINKS)


def run_checks(sql: Sql, report: ImportReport, person_id_column: str, version: str) -> None:
    """Run every cross-file check and record what they find."""
    for check in CHECKS + (ROLE_CHECKS if version == "1.2" else ()):
        _run(sql, report, check, person_id_column)


def _run(sql: Sql, report: ImportReport, check: Check, person_id_column: str) -> None:
    cap = MAX_LISTED_ERRORS + 1
    column = person_id_column if check.column == PERSON_ID_COLUMN else check.column
    rows = sql.rows(check.query + f" ORDER BY 1 LIMIT {cap}")
    for line, value, extra in rows:
        params: dict[str, object] = {"value": value}
        if check.extra == "role":
            params["role"] = ROLE_NAMES.get(extra, "")
        elif check.extra is not None:
            params[check.extra] = extra
        problem = Problem(check.code, check.file, line, column, params)
        (report.warn if check.is_warning else report.error)(problem)
    if len(rows) == cap:
        unlisted = sql.scalar(_COUNT.format(query=check.query)) - cap
        if check.is_warning:
            report.warnings[(check.file, column, check.code)].count += unlisted
        else:
            report.error_count += unlisted
