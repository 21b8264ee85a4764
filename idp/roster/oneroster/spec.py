"""What the OneRoster 1.1 and 1.2 CSV bindings say about the files the IdP reads.

Only the files that carry schools, people, guardianship, enrolments and birth dates are read:
manifest, orgs, classes (to find a class's school), users, roles (1.2), enrollments and
demographics. Every other file of a OneRoster set is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = ("1.1", "1.2")
MODES = ("bulk", "delta", "absent")
STATUSES = ("active", "tobedeleted")
BOOLEANS = ("true", "false")
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
ROLE_TYPES = ("primary", "secondary")
EXTENSION_PREFIX = "metadata."

# Rank of each OneRoster role: the lowest rank among a 1.2 user's roles decides what the IdP
# makes of them (a teacher who is also a parent is imported as a guardian). Ranks 1-4 are
# imported; 9 marks a guardian known only from an earlier import whose kind is unknown; staff
# roles (10 and up) are not imported: staff accounts are created in the IdP, with a second
# factor, never from the SIS roster.
STUDENT_RANK = 1
GUARDIAN_RANKS = {"parent": 2, "guardian": 3, "relative": 4}
UNKNOWN_KIND_RANK = 9
STAFF_RANK_FROM = 10
RANKS: dict[str, int] = {
    "student": STUDENT_RANK,
    **GUARDIAN_RANKS,
    "teacher": 10,
    "administrator": 11,
    "aide": 12,
    "proctor": 13,
    "counselor": 14,
    "principal": 15,
    "siteAdministrator": 16,
    "districtAdministrator": 17,
    "systemAdministrator": 18,
    "staff": 19,  # a staff Person of an earlier import (never created by the import itself)
}
ROLE_NAMES = {**{rank: name for name, rank in RANKS.items()}, UNKNOWN_KIND_RANK: "guardian"}

_ROLES_11 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student")
USER_ROLES = {
    "1.1": frozenset((*_ROLES_11, "teacher")),
    "1.2": frozenset(
        (
            "aide",
            "counselor",
            "districtAdministrator",
            "guardian",
            "parent",
            "principal",
            "proctor",
            "relative",
            "siteAdministrator",
            "student",
            "systemAdministrator",
            "teacher",
        )
    ),
}
ENROLLMENT_ROLES = {
    "1.1": USER_ROLES["1.1"],
    "1.2": frozenset(("administrator", "aide", "proctor", "student", "teacher")),
}

# Column limits of the person, school and enrollment tables.
LIMITS = {
    "sourced_id": 255,
    "sis_person_id": 64,
    "school_sis_id": 64,
    "school_name": 200,
    "name": 100,
    "phone": 32,
    "grade": 8,
}

_COMMON = ("sourcedId", "status", "dateLastModified")
_USERS_11 = (
    *_COMMON,
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
)
_USERS_12 = (
    *(column for column in _USERS_11 if column not in ("orgSourcedIds", "role")),
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
)
_CLASSES = (
    *_COMMON,
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
)
_DEMOGRAPHICS = (
    *_COMMON,
    "birthDate",
    "sex",
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
    "countryOfBirthCode",
    "stateOfBirthAbbreviation",
    "cityOfBirth",
    "publicSchoolResidenceStatus",
)
_ENROLLMENTS = (
    *_COMMON,
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
)
_ROLES = (
    *_COMMON,
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
)


@dataclass(frozen=True)
class FileSpec:
    """One CSV file: its manifest key, its columns per version and the columns the IdP needs."""

    key: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file name inside the import folder or ZIP."""
        return f"{self.key}.csv"


ORGS = FileSpec(
    "orgs",
    {version: (*_COMMON, "name", "type", "identifier", "parentSourcedId") for version in VERSIONS},
    ("sourcedId", "name", "type"),
)
CLASSES = FileSpec(
    "classes",
    dict.fromkeys(VERSIONS, _CLASSES),
    ("sourcedId", "schoolSourcedId"),
)
USERS = FileSpec(
    "users",
    {"1.1": _USERS_11, "1.2": _USERS_12},
    ("sourcedId", "givenName", "familyName"),
)
ROLES = FileSpec(
    "roles", {"1.2": _ROLES}, ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId")
)
ENROLLMENTS = FileSpec(
    "enrollments",
    dict.fromkeys(VERSIONS, _ENROLLMENTS),
    ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
)
DEMOGRAPHICS = FileSpec(
    "demographics", dict.fromkeys(VERSIONS, _DEMOGRAPHICS), ("sourcedId", "birthDate")
)

# In reading order: orgs and classes are small and kept in memory to resolve schools.
READ_ORDER = (ORGS, CLASSES, USERS, ROLES, ENROLLMENTS, DEMOGRAPHICS)
MANIFEST = "manifest.csv"
