"""Applying the checked, staged rows to schools, persons, relationships and enrolments.

Set-based: per entity one UPDATE of the stored rows that differ from the staged ones and one
INSERT of the new ones (in key order), so a re-import of unchanged files writes nothing; then
one UPDATE that deactivates what a bulk file no longer lists or a delta file marks
`tobedeleted`. Nothing is ever deleted, and a relationship's restriction columns are never
written. The statements are templates: `{differs}` is the null-safe "differs" of the database;
the other fields are the SQL fragments below, never values (values are bound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from idp.roster.oneroster.report import EntityCounts, ImportReport
from idp.roster.oneroster.sql import Sql
from idp.staff.search_models import refresh_persons_updated_at, resync_schools

_ROLE = "CASE WHEN u.rank = 1 THEN 'student' ELSE 'guardian' END"
_KIND = "CASE r.rank WHEN 2 THEN 'parent' WHEN 3 THEN 'guardian' ELSE 'relative' END"
_IMPORTED = "u.line IS NOT NULL AND u.rank <= 4 AND NOT u.is_deleted"
_BIRTH_DATE = "CASE WHEN u.rank = 1 THEN COALESCE(d.birth_date, p.birth_date) END"

_SCHOOL_UPDATE = (
    "UPDATE school AS s SET sourced_id = o.sourced_id, name = o.name, is_active = true"
    " FROM roster_org o WHERE o.sis_id = s.sis_id AND NOT o.is_deleted AND (s.name <> o.name"
    " OR s.sourced_id {differs} o.sourced_id OR NOT s.is_active)"
)
_SCHOOL_INSERT = (
    "INSERT INTO school (sis_id, sourced_id, name, is_active)"
    " SELECT o.sis_id, o.sourced_id, o.name, true FROM roster_org o WHERE NOT o.is_deleted"
    " AND NOT EXISTS (SELECT 1 FROM school s WHERE s.sis_id = o.sis_id) ORDER BY o.sis_id"
)
_SCHOOL_GONE = {
    "bulk": "NOT EXISTS (SELECT 1 FROM roster_org o WHERE o.sis_id = school.sis_id"
    " AND NOT o.is_deleted)",
    "delta": "sis_id IN (SELECT sis_id FROM roster_org WHERE is_deleted)",
}
# sourcedId -> school id, for enrolments: this orgs.csv first, then earlier imports.
_SCHOOL_MAP = (
    "SELECT o.sourced_id, s.id AS school_id FROM roster_org o JOIN school s"
    " ON s.sis_id = o.sis_id WHERE NOT o.is_deleted UNION SELECT s.sourced_id, s.id"
    " FROM school s WHERE s.sourced_id IS NOT NULL AND s.is_active AND NOT EXISTS"
    " (SELECT 1 FROM roster_org o WHERE o.sourced_id = s.sourced_id)"
)

_PERSON_UPDATE = (
    "UPDATE person AS p SET sourced_id = u.sourced_id, role = {role},"
    " given_name = u.given_name, family_name = u.family_name, birth_date = {birth_date},"
    " phone = u.phone, is_active = u.is_enabled, updated_at = :now FROM roster_user u"
    " LEFT JOIN roster_demo d ON d.sourced_id = u.sourced_id"
    " WHERE p.sis_person_id = u.sis_person_id AND {imported}"
    " AND (p.sourced_id {differs} u.sourced_id OR p.role <> {role}"
    " OR p.given_name <> u.given_name OR p.family_name <> u.family_name"
    " OR p.birth_date {differs} {birth_date} OR p.phone {differs} u.phone"
    " OR p.is_active <> u.is_enabled)"
)
_PERSON_INSERT = (
    "INSERT INTO person (sis_person_id, sourced_id, role, given_name, family_name,"
    " birth_date, phone, is_active, updated_at)"
    " SELECT u.sis_person_id, u.sourced_id, {role}, u.given_name, u.family_name,"
    " CASE WHEN u.rank = 1 THEN d.birth_date END, u.phone, u.is_enabled, :now"
    " FROM roster_user u LEFT JOIN roster_demo d ON d.sourced_id = u.sourced_id"
    " WHERE {imported} AND NOT EXISTS"
    " (SELECT 1 FROM person p WHERE p.sis_person_id = u.sis_person_id)"
    " ORDER BY u.sis_person_id"
)
_PERSON_GONE = {
    "bulk": "NOT EXISTS (SELECT 1 FROM roster_user u WHERE u.sis_person_id = p.sis_person_id"
    " AND {imported})",
    # A tobedeleted row may leave the Person ID empty: then its sourcedId says who goes.
    "delta": "(p.sis_person_id IN (SELECT sis_person_id FROM roster_user WHERE is_deleted)"
    " OR p.sourced_id IN (SELECT sourced_id FROM roster_user WHERE is_deleted"
    " AND sis_person_id IS NULL))",
}
_GONE = (
    "SELECT p.id AS person_id FROM person p WHERE p.is_active"
    " AND p.role IN ('student', 'guardian') AND {gone}"
)
_NO_ONE_GONE = "SELECT id AS person_id FROM person WHERE 1 = 0"
_PERSON_DEACTIVATE = (
    "UPDATE person SET is_active = false, updated_at = :now"
    " WHERE id IN (SELECT person_id FROM roster_gone)"
)
# sourcedId -> person id of everyone the import links (this file and earlier imports).
_PERSON_MAP = (
    "SELECT u.sourced_id, p.id AS person_id, u.rank, u.grade FROM roster_user u"
    " JOIN person p ON p.sis_person_id = u.sis_person_id WHERE u.rank <= 9 AND NOT u.is_deleted"
)

# One row per guardian and student, whichever side listed the other in agentSourcedIds.
_RELATIONSHIP_PAIRS = (
    "SELECT g.person_id AS guardian_id, s.person_id AS student_id, max(l.rank) AS rank"
    " FROM (SELECT CASE WHEN from_rank = 1 THEN to_sid ELSE from_sid END AS guardian_sid,"
    " CASE WHEN from_rank = 1 THEN from_sid ELSE to_sid END AS student_sid,"
    " CASE WHEN from_rank = 1 THEN to_rank ELSE from_rank END AS rank FROM roster_link"
    " WHERE (from_rank = 1 AND to_rank BETWEEN 2 AND 4)"
    " OR (to_rank = 1 AND from_rank BETWEEN 2 AND 4)) l"
    " JOIN roster_map g ON g.sourced_id = l.guardian_sid"
    " JOIN roster_map s ON s.sourced_id = l.student_sid GROUP BY 1, 2"
)
_RELATIONSHIP_UPDATE = (
    "UPDATE relationship AS x SET kind = {kind}, is_legal_guardian = {legal},"
    " is_active = true FROM roster_rel r WHERE x.guardian_id = r.guardian_id"
    " AND x.student_id = r.student_id"
    " AND (NOT x.is_active OR x.kind <> {kind} OR x.is_legal_guardian <> {legal})"
)
_RELATIONSHIP_INSERT = (
    "INSERT INTO relationship (guardian_id, student_id, kind, is_legal_guardian, is_active)"
    " SELECT r.guardian_id, r.student_id, {kind}, {legal}, true FROM roster_rel r"
    " WHERE NOT EXISTS (SELECT 1 FROM relationship x WHERE x.guardian_id = r.guardian_id"
    " AND x.student_id = r.student_id) ORDER BY r.guardian_id, r.student_id"
)
_RELATIONSHIP_GONE = {
    "bulk": "NOT EXISTS (SELECT 1 FROM roster_rel r WHERE r.guardian_id ="
    " relationship.guardian_id AND r.student_id = relationship.student_id)",
    "delta": "(guardian_id IN (SELECT person_id FROM roster_gone)"
    " OR student_id IN (SELECT person_id FROM roster_gone))",
}

_ENROLLMENT_PAIRS = (
    "SELECT m.person_id, s.school_id, max(m.grade) AS grade FROM roster_enrol e"
    " JOIN roster_map m ON m.sourced_id = e.user_sid AND m.rank = 1"
    " JOIN roster_school s ON s.sourced_id = e.school_sid WHERE NOT e.is_deleted"
    " GROUP BY m.person_id, s.school_id"
)
_ENROLLMENT_UPDATE = (
    "UPDATE enrollment AS x SET grade = r.grade, is_active = true FROM roster_enrolment r"
    " WHERE x.person_id = r.person_id AND x.school_id = r.school_id"
    " AND (NOT x.is_active OR x.grade {differs} r.grade)"
)
_ENROLLMENT_INSERT = (
    "INSERT INTO enrollment (person_id, school_id, grade, is_active)"
    " SELECT r.person_id, r.school_id, r.grade, true FROM roster_enrolment r"
    " WHERE NOT EXISTS (SELECT 1 FROM enrollment x WHERE x.person_id = r.person_id"
    " AND x.school_id = r.school_id) ORDER BY r.person_id, r.school_id"
)
_ENROLLMENT_GONE = {
    "bulk": "person_id IN (SELECT id FROM person WHERE role = 'student')",
    "delta": "(person_id IN (SELECT person_id FROM roster_gone) OR EXISTS (SELECT 1"
    " FROM roster_enrol e JOIN roster_map m ON m.sourced_id = e.user_sid"
    " JOIN roster_school s ON s.sourced_id = e.school_sid WHERE e.is_deleted"
    " AND m.person_id = enrollment.person_id AND s.school_id = enrollment.school_id))",
}
_ENROLLMENT_DEACTIVATE = (
    "UPDATE enrollment SET is_active = false WHERE is_active AND {gone} AND NOT EXISTS"
    " (SELECT 1 FROM roster_enrolment r WHERE r.person_id = enrollment.person_id"
    " AND r.school_id = enrollment.school_id)"
)

# Delta demographics of students of earlier imports that this users.csv leaves out.
_KNOWN_BIRTH_DATES = (
    "UPDATE person SET birth_date = d.birth_date, updated_at = :now FROM roster_demo d"
    " JOIN roster_user u ON u.sourced_id = d.sourced_id AND u.line IS NULL"
    " WHERE person.sis_person_id = u.sis_person_id AND person.role = 'student'"
    " AND person.birth_date {differs} d.birth_date"
)


@dataclass(frozen=True)
class Plan:
    """What to apply: the mode of each entity's source (None: not in this import)."""

    now: datetime
    orgs_mode: str | None
    users_mode: str | None
    enrollments_mode: str | None
    # policies/rollout.toml [roster]: whether parents and guardians are legal guardians.
    is_parent_legal_guardian: bool
    is_guardian_legal_guardian: bool


def apply(sql: Sql, plan: Plan, report: ImportReport, step: Callable[[str], None]) -> None:
    """Apply every entity in dependency order; counts go into `report.counts`."""
    counts = report.counts
    step("schools")
    _schools(sql, plan, counts["schools"])
    if plan.users_mode:
        step("persons")
        _persons(sql, plan, counts["persons"])
        # The staff desk's search index: the terms of every person inserted or changed now.
        if _has_changed(counts["persons"]):
            refresh_persons_updated_at(sql.connection, plan.now)
    else:
        sql.derive("roster_gone", _NO_ONE_GONE)
    sql.derive("roster_map", _PERSON_MAP, "sourced_id")
    if plan.users_mode:
        step("relationships")
        _relationships(sql, plan, counts["relationships"])
    if plan.enrollments_mode:
        step("enrollments")
        _enrollments(sql, plan.enrollments_mode, counts["enrollments"])
    counts["persons"].updated += sql.run(_format(sql, _KNOWN_BIRTH_DATES), now=plan.now)
    # The staff desk's search index: the schools through which it sees each person.
    if _has_changed(counts["relationships"]) or _has_changed(counts["enrollments"]):
        resync_schools(sql.connection)


def _has_changed(counts: EntityCounts) -> bool:
    return bool(counts.created or counts.updated or counts.deactivated)


def _format(sql: Sql, template: str, **fragments: str) -> str:
    """A statement from its template and SQL fragments (constants of this module)."""
    return template.format(differs=sql.differs, **fragments)


def _schools(sql: Sql, plan: Plan, counts: EntityCounts) -> None:
    """Schools by identifier (the SIS school id the rollout policy names)."""
    counts.updated += sql.run(_format(sql, _SCHOOL_UPDATE))
    counts.created += sql.run(_SCHOOL_INSERT)
    if plan.orgs_mode:
        gone = _SCHOOL_GONE[plan.orgs_mode]
        counts.deactivated += sql.run(
            _format(
                sql, "UPDATE school SET is_active = false WHERE is_active AND {gone}", gone=gone
            )
        )
    sql.derive("roster_school", _SCHOOL_MAP, "sourced_id")


def _persons(sql: Sql, plan: Plan, counts: EntityCounts) -> None:
    """Students and guardians by SIS Person ID; birth dates from demographics.csv."""
    fragments = {"role": _ROLE, "imported": _IMPORTED, "birth_date": _BIRTH_DATE}
    counts.updated += sql.run(_format(sql, _PERSON_UPDATE, **fragments), now=plan.now)
    counts.created += sql.run(_format(sql, _PERSON_INSERT, **fragments), now=plan.now)
    gone = _PERSON_GONE[plan.users_mode or "delta"].format(imported=_IMPORTED)
    sql.derive("roster_gone", _format(sql, _GONE, gone=gone), "person_id")
    counts.deactivated += sql.run(_PERSON_DEACTIVATE, now=plan.now)


def _relationships(sql: Sql, plan: Plan, counts: EntityCounts) -> None:
    """Guardian -> student from agentSourcedIds, declared on either side (deduplicated)."""
    sql.derive("roster_rel", _RELATIONSHIP_PAIRS, "guardian_id, student_id")
    parent, guardian = (
        "true" if flag else "false"
        for flag in (plan.is_parent_legal_guardian, plan.is_guardian_legal_guardian)
    )
    # A relative is never a legal guardian; the policy decides for parents and guardians.
    legal = f"CASE r.rank WHEN 2 THEN {parent} WHEN 3 THEN {guardian} ELSE false END"
    fragments = {"kind": _KIND, "legal": legal}
    counts.updated += sql.run(_format(sql, _RELATIONSHIP_UPDATE, **fragments))
    counts.created += sql.run(_format(sql, _RELATIONSHIP_INSERT, **fragments))
    gone = _RELATIONSHIP_GONE[plan.users_mode or "delta"]
    counts.deactivated += sql.run(
        _format(
            sql, "UPDATE relationship SET is_active = false WHERE is_active AND {gone}", gone=gone
        )
    )


def _enrollments(sql: Sql, mode: str, counts: EntityCounts) -> None:
    """A student's schools, each with the student's (first) grade."""
    sql.derive("roster_enrolment", _ENROLLMENT_PAIRS, "person_id, school_id")
    counts.updated += sql.run(_format(sql, _ENROLLMENT_UPDATE))
    counts.created += sql.run(_ENROLLMENT_INSERT)
    gone = _ENROLLMENT_GONE[mode]
    counts.deactivated += sql.run(_format(sql, _ENROLLMENT_DEACTIVATE, gone=gone))
