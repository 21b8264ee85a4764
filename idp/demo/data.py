"""The demo district as compact tables: fictional people, clearly labelled DEMO."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import NamedTuple

DISTRICT_NAME = "DEMO Unified School District"
# Every demo account signs in with this password; it is printed by `idp demo load`.
DEMO_PASSWORD = "Demo-Portal-2026!"  # noqa: S105 - a published demo password, not a secret
# The answer to every security question of the demo guardians (already normalised).
DEMO_SECURITY_ANSWER = "demo"
# The password the legacy Infinite Campus user still has in IC.
DEMO_IC_PASSWORD = "Campus-Demo-2019"  # noqa: S105 - a published demo password, not a secret
EMAIL_DOMAIN = "demo.portal.invalid"
# The one guardian account that has not chosen its security questions yet.
WITHOUT_SECURITY_ANSWERS = "DemoParent8"
# The district admin restricts one parent's access to one child (DESIGN.md section 3).
RESTRICTED = ("DEMO-G2008", "DEMO-S1008", "Court order on file: no portal access (DEMO).")

# The one guardian the school has no phone number for: Preferences offers email only.
WITHOUT_PHONE = "DEMO-G2016"
# Fictional contact details: 555-0100 to 555-0199 are reserved for fiction in North America.
_PHONE_PREFIX = "555-01"
_TOWN = "Lakeview"

# Legacy IC verifiers: PBKDF2-HMAC-SHA256 with a fixed salt, so the data stays deterministic.
LEGACY_ITERATIONS = 100_000
LEGACY_SALT = b"DEMO-IC-SALT-001"


class DemoSchool(NamedTuple):
    """A school; its SIS id matches policies/rollout.toml."""

    sis_id: str
    name: str


class DemoStudent(NamedTuple):
    """A student: SIS Person ID, names, grade, birthday (month, day), school, household."""

    sis_person_id: str
    given_name: str
    family_name: str
    grade: str
    birthday: tuple[int, int]
    school: str
    household: str


class DemoGuardian(NamedTuple):
    """A guardian Person; `username` None means no portal account (yet)."""

    sis_person_id: str
    given_name: str
    family_name: str
    household: str
    username: str | None
    locale: str
    note: str


class DemoLegacyUser(NamedTuple):
    """A guardian who still has only an Infinite Campus login."""

    sis_person_id: str
    ic_username: str


class DemoStaff(NamedTuple):
    """A staff account: its role, and its school (None for the district admin)."""

    username: str
    email_local: str
    role: str
    school: str | None
    note: str


SCHOOLS = (
    DemoSchool("DEMO-ES1", "Lakeview Elementary"),
    DemoSchool("DEMO-MS1", "Riverside Middle"),
    DemoSchool("DEMO-HS1", "Northfield High"),
    DemoSchool("DEMO-HS2", "Eastgate High"),
)

_S = DemoStudent
STUDENTS = (
    _S("DEMO-S1001", "Sofia", "Rivera", "KG", (3, 14), "DEMO-ES1", "DEMO-H01"),
    _S("DEMO-S1002", "Mateo", "Rivera", "07", (11, 2), "DEMO-MS1", "DEMO-H01"),
    _S("DEMO-S1003", "Lucia", "Rivera", "11", (6, 21), "DEMO-HS1", "DEMO-H01"),
    _S("DEMO-S1004", "Omar", "Haddad", "03", (1, 9), "DEMO-ES1", "DEMO-H02"),
    _S("DEMO-S1005", "Yasmin", "Haddad", "09", (10, 30), "DEMO-HS2", "DEMO-H02"),
    _S("DEMO-S1006", "Minh", "Nguyen", "05", (4, 18), "DEMO-ES1", "DEMO-H03"),
    _S("DEMO-S1007", "Ava", "Johnson", "04", (8, 5), "DEMO-ES1", "DEMO-H04"),
    _S("DEMO-S1008", "Noah", "Johnson", "08", (12, 12), "DEMO-MS1", "DEMO-H04"),
    _S("DEMO-S1009", "Daniel", "Okafor", "10", (2, 27), "DEMO-HS1", "DEMO-H05"),
    _S("DEMO-S1010", "Ayaan", "Abdi", "02", (5, 3), "DEMO-ES1", "DEMO-H06"),
    _S("DEMO-S1011", "Farah", "Abdi", "06", (9, 19), "DEMO-MS1", "DEMO-H06"),
    _S("DEMO-S1012", "Emily", "Chen", "KG", (7, 7), "DEMO-ES1", "DEMO-H07"),
    _S("DEMO-S1013", "Ryan", "Chen", "12", (3, 30), "DEMO-HS1", "DEMO-H07"),
    _S("DEMO-S1014", "Arjun", "Patel", "01", (10, 11), "DEMO-ES1", "DEMO-H08"),
    _S("DEMO-S1015", "Diego", "Garcia", "06", (1, 25), "DEMO-MS1", "DEMO-H09"),
    _S("DEMO-S1016", "Olivia", "Smith", "09", (5, 16), "DEMO-HS2", "DEMO-H10"),
    _S("DEMO-S1017", "Ethan", "Brooks", "01", (6, 2), "DEMO-ES1", "DEMO-H11"),
    _S("DEMO-S1018", "Chloe", "Brooks", "10", (11, 23), "DEMO-HS2", "DEMO-H11"),
    _S("DEMO-S1019", "Liam", "Murphy", "02", (2, 14), "DEMO-ES1", "DEMO-H12"),
    _S("DEMO-S1020", "Zoe", "Murphy", "07", (8, 29), "DEMO-MS1", "DEMO-H12"),
    _S("DEMO-S1021", "Amir", "Rahman", "03", (12, 1), "DEMO-ES1", "DEMO-H13"),
    _S("DEMO-S1022", "Nadia", "Rahman", "12", (4, 9), "DEMO-HS1", "DEMO-H13"),
    _S("DEMO-S1023", "Lucas", "Silva", "04", (9, 27), "DEMO-ES1", "DEMO-H14"),
    _S("DEMO-S1024", "Isabela", "Silva", "08", (3, 3), "DEMO-MS1", "DEMO-H14"),
    _S("DEMO-S1025", "Hana", "Tanaka", "05", (7, 19), "DEMO-ES1", "DEMO-H15"),
    _S("DEMO-S1026", "Kenji", "Tanaka", "11", (10, 4), "DEMO-HS1", "DEMO-H15"),
    _S("DEMO-S1027", "Maya", "Wilson", "KG", (1, 31), "DEMO-ES1", "DEMO-H16"),
    _S("DEMO-S1028", "Caleb", "Wilson", "09", (6, 8), "DEMO-HS1", "DEMO-H16"),
    _S("DEMO-S1029", "Ana", "Lopez", "10", (12, 20), "DEMO-HS1", "DEMO-H17"),
    _S("DEMO-S1030", "Samuel", "Mensah", "11", (2, 6), "DEMO-HS2", "DEMO-H18"),
)

_G = DemoGuardian
_RELATIVE = "relative, not a legal guardian: sees no student"
_RESTRICTED = "restricted from one child (Noah)"
_NO_QUESTIONS = "no security questions yet (first sign-in step)"
_THREE = "three children at three schools (start here)"
GUARDIANS = (
    _G("DEMO-G2001", "Maria", "Rivera", "DEMO-H01", "DemoParent1", "en", _THREE),
    _G("DEMO-G2002", "Jose", "Rivera", "DEMO-H01", "DemoParent2", "es", "Spanish; three children"),
    _G("DEMO-G2003", "Rosa", "Rivera", "DEMO-H01", "DemoRelative1", "es", _RELATIVE),
    _G("DEMO-G2004", "Layla", "Haddad", "DEMO-H02", "DemoParent3", "ar", "Arabic (right-to-left)"),
    _G("DEMO-G2005", "Karim", "Haddad", "DEMO-H02", "DemoParent4", "ar", "Arabic"),
    _G("DEMO-G2006", "Linh", "Nguyen", "DEMO-H03", "DemoParent5", "vi", "Vietnamese"),
    _G("DEMO-G2007", "Karen", "Johnson", "DEMO-H04", "DemoParent6", "en", "sees both children"),
    _G("DEMO-G2008", "Robert", "Johnson", "DEMO-H19", "DemoParent7", "en", _RESTRICTED),
    _G("DEMO-G2009", "Grace", "Okafor", "DEMO-H05", "DemoParent8", "en", _NO_QUESTIONS),
    _G("DEMO-G2010", "Hodan", "Abdi", "DEMO-H06", "DemoParent9", "so", "Somali"),
    _G("DEMO-G2011", "Wei", "Chen", "DEMO-H07", None, "en", "legacy Infinite Campus user"),
    _G("DEMO-G2012", "Mei", "Chen", "DEMO-H07", "DemoParent10", "en", ""),
    _G("DEMO-G2013", "Priya", "Patel", "DEMO-H08", None, "en", "not registered"),
    _G("DEMO-G2014", "Carmen", "Garcia", "DEMO-H09", None, "es", "not registered"),
    _G("DEMO-G2015", "Michael", "Smith", "DEMO-H10", None, "en", "not registered"),
    _G("DEMO-G2016", "Jennifer", "Brooks", "DEMO-H11", "DemoParent11", "en", "no phone on file"),
    _G("DEMO-G2017", "David", "Brooks", "DEMO-H11", "DemoParent12", "en", ""),
    _G("DEMO-G2018", "Sean", "Murphy", "DEMO-H12", "DemoParent13", "en", ""),
    _G("DEMO-G2019", "Fatima", "Rahman", "DEMO-H13", "DemoParent14", "ar", "Arabic"),
    _G("DEMO-G2020", "Tariq", "Rahman", "DEMO-H13", "DemoParent15", "en", ""),
    _G("DEMO-G2021", "Paulo", "Silva", "DEMO-H14", "DemoParent16", "es", "Spanish"),
    _G("DEMO-G2022", "Beatriz", "Silva", "DEMO-H14", "DemoParent17", "es", "Spanish"),
    _G("DEMO-G2023", "Yuki", "Tanaka", "DEMO-H15", "DemoParent18", "en", ""),
    _G("DEMO-G2024", "Sarah", "Wilson", "DEMO-H16", "DemoParent19", "en", ""),
    _G("DEMO-G2025", "James", "Wilson", "DEMO-H16", None, "en", "not registered"),
    _G("DEMO-G2026", "Elena", "Lopez", "DEMO-H17", "DemoParent20", "es", "legal guardian (aunt)"),
    _G("DEMO-G2027", "Kwame", "Mensah", "DEMO-H18", "DemoParent21", "en", ""),
    _G("DEMO-G2028", "Abena", "Mensah", "DEMO-H18", "DemoParent22", "en", ""),
    _G("DEMO-G2029", "Thu", "Nguyen", "DEMO-H03", "DemoParent23", "vi", "Vietnamese"),
    _G("DEMO-G2030", "Ahmed", "Abdi", "DEMO-H06", "DemoParent24", "so", "Somali"),
)

LEGACY_USERS = (DemoLegacyUser("DEMO-G2011", "demo.wchen"),)

# Guardian -> students, and the relationship kind (SIS "parent", "guardian" or "relative").
RELATIONSHIPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("DEMO-G2001", ("DEMO-S1001", "DEMO-S1002", "DEMO-S1003"), "parent"),
    ("DEMO-G2002", ("DEMO-S1001", "DEMO-S1002", "DEMO-S1003"), "parent"),
    ("DEMO-G2003", ("DEMO-S1001",), "relative"),
    ("DEMO-G2004", ("DEMO-S1004", "DEMO-S1005"), "parent"),
    ("DEMO-G2005", ("DEMO-S1004", "DEMO-S1005"), "parent"),
    ("DEMO-G2006", ("DEMO-S1006",), "parent"),
    ("DEMO-G2029", ("DEMO-S1006",), "parent"),
    ("DEMO-G2007", ("DEMO-S1007", "DEMO-S1008"), "parent"),
    ("DEMO-G2008", ("DEMO-S1007", "DEMO-S1008"), "parent"),
    ("DEMO-G2009", ("DEMO-S1009",), "guardian"),
    ("DEMO-G2010", ("DEMO-S1010", "DEMO-S1011"), "parent"),
    ("DEMO-G2030", ("DEMO-S1010", "DEMO-S1011"), "parent"),
    ("DEMO-G2011", ("DEMO-S1012", "DEMO-S1013"), "parent"),
    ("DEMO-G2012", ("DEMO-S1012", "DEMO-S1013"), "parent"),
    ("DEMO-G2013", ("DEMO-S1014",), "parent"),
    ("DEMO-G2014", ("DEMO-S1015",), "parent"),
    ("DEMO-G2015", ("DEMO-S1016",), "parent"),
    ("DEMO-G2016", ("DEMO-S1017", "DEMO-S1018"), "parent"),
    ("DEMO-G2017", ("DEMO-S1017", "DEMO-S1018"), "parent"),
    ("DEMO-G2018", ("DEMO-S1019", "DEMO-S1020"), "parent"),
    ("DEMO-G2019", ("DEMO-S1021", "DEMO-S1022"), "parent"),
    ("DEMO-G2020", ("DEMO-S1021", "DEMO-S1022"), "parent"),
    ("DEMO-G2021", ("DEMO-S1023", "DEMO-S1024"), "parent"),
    ("DEMO-G2022", ("DEMO-S1023", "DEMO-S1024"), "parent"),
    ("DEMO-G2023", ("DEMO-S1025", "DEMO-S1026"), "parent"),
    ("DEMO-G2024", ("DEMO-S1027", "DEMO-S1028"), "parent"),
    ("DEMO-G2025", ("DEMO-S1027", "DEMO-S1028"), "parent"),
    ("DEMO-G2026", ("DEMO-S1029",), "guardian"),
    ("DEMO-G2027", ("DEMO-S1030",), "parent"),
    ("DEMO-G2028", ("DEMO-S1030",), "parent"),
)

_T = DemoStaff
STAFF = (
    # Restricting and cancelling need a school admin (policies/staff.toml [actions]); the
    # guides restrict with DemoStaffES1 and DemoStaffHS1, the two other schools show a secretary.
    _T("DemoStaffES1", "secretary.es1", "school_admin", "DEMO-ES1", "Lakeview Elementary admin"),
    _T("DemoStaffMS1", "secretary.ms1", "secretary", "DEMO-MS1", "Riverside Middle secretary"),
    _T("DemoStaffHS1", "secretary.hs1", "school_admin", "DEMO-HS1", "Northfield High admin"),
    _T("DemoStaffHS2", "secretary.hs2", "secretary", "DEMO-HS2", "Eastgate High secretary"),
    _T(
        "DemoDistrictAdmin", "district.admin", "district_admin", None, "district admin, all schools"
    ),
)


def demo_totp_secret(username: str) -> str:
    """The demo staff account's authenticator secret (base32, RFC 6238): public like
    DEMO_PASSWORD, printed by `idp demo load`, so anyone can add it to an authenticator app
    (or compute codes in a test) and reach the staff desk. Never used outside the demo."""
    digest = hashlib.sha256(f"portal-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


# Students start school in the autumn after turning 5; the cut-off is 1 September.
_SCHOOL_YEAR_START_MONTH = 8
_CUTOFF = (9, 1)
_GRADE_OFFSET = {"KG": 0, **{f"{n:02d}": n for n in range(1, 13)}}


def school_year_start(on: date) -> int:
    """The calendar year in which the school year containing `on` began (August)."""
    return on.year if on.month >= _SCHOOL_YEAR_START_MONTH else on.year - 1


def birth_date_for(grade: str, birthday: tuple[int, int], on: date) -> date:
    """A birth date that makes a student the usual age for `grade` in the school year of `on`."""
    # In grade g the student turns 5 + g by the cut-off of the school year's first autumn.
    year = school_year_start(on) - 5 - _GRADE_OFFSET[grade]
    if birthday > _CUTOFF:
        year -= 1
    return date(year, *birthday)


def email_for(given_name: str, family_name: str) -> str:
    """firstname.lastname@demo.portal.invalid"""
    return f"{given_name.lower()}.{family_name.lower()}@{EMAIL_DOMAIN}"


def phone_for(sis_person_id: str) -> str | None:
    """A fictional 555-01xx number from the guardian's SIS id (none for WITHOUT_PHONE)."""
    if sis_person_id == WITHOUT_PHONE:
        return None
    return f"{_PHONE_PREFIX}{int(sis_person_id[-2:]):02d}"


def address_for(household: str) -> str:
    """A fictional street address shared by a household: DEMO-H01 lives at 12 Demo Street."""
    return f"{10 + 2 * int(household[-2:])} Demo Street, {_TOWN}"
