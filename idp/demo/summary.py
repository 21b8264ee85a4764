"""What `idp demo load` prints: the demo accounts, passwords and IDs, as JSON or a table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from idp.demo.data import DEMO_SECURITY_ANSWER, DISTRICT_NAME

STUDENT_SIGN_IN = "/sign-in/student"


@dataclass(frozen=True)
class SchoolLine:
    """A demo school and whether its portal is open today (policies/rollout.toml)."""

    sis_id: str
    name: str
    enabled_from: str | None
    is_open_today: bool


@dataclass(frozen=True)
class AccountLine:
    """A demo account someone can sign in with."""

    role: str
    username: str
    password: str
    email: str
    locale: str
    note: str
    # Staff: the authenticator app's secret (base32) for the sign-in's second step; add it
    # to an app, or compute the code (`pyotp.TOTP(secret).now()`).
    totp_secret: str | None = None


@dataclass(frozen=True)
class LegacyLine:
    """A legacy Infinite Campus login, accepted in the sign-in form through the bridge."""

    ic_username: str
    password: str
    name: str


@dataclass(frozen=True)
class StudentLine:
    """A student: the student ID and birth date for student sign-in (STUDENT_SIGN_IN)."""

    student_id: str
    birth_date: str
    name: str
    grade: str
    school: str


@dataclass(frozen=True)
class GuardianLine:
    """A guardian Person with no account: staff issue a key, the guardian registers."""

    person_id: str
    name: str


@dataclass(frozen=True)
class DemoSummary:
    """The demo district as loaded: who can sign in with what."""

    password: str
    schools: tuple[SchoolLine, ...]
    accounts: tuple[AccountLine, ...]
    legacy_ic_users: tuple[LegacyLine, ...]
    students: tuple[StudentLine, ...]
    unregistered_guardians: tuple[GuardianLine, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able data for `idp demo load --json`."""
        return {
            "demo": True,
            "district": DISTRICT_NAME,
            "password": self.password,
            "security_answer": DEMO_SECURITY_ANSWER,
            "schools": [asdict(line) for line in self.schools],
            "accounts": [asdict(line) for line in self.accounts],
            "legacy_ic_users": [asdict(line) for line in self.legacy_ic_users],
            "student_sign_in": STUDENT_SIGN_IN,
            "students": [asdict(line) for line in self.students],
            "unregistered_guardians": [asdict(line) for line in self.unregistered_guardians],
        }

    def as_text(self) -> str:
        """A readable report for the terminal, headed as DEMO data."""
        lines = [
            f"DEMO DATA: {DISTRICT_NAME} (fictional people, not for production)",
            f"Password of every demo account: {self.password}",
            f"Answer to every security question: {DEMO_SECURITY_ANSWER}",
            *self._student_examples(),
        ]
        for title, headers, rows in self._sections():
            lines += ["", title, *_table(headers, rows)]
        return "\n".join(lines)

    def _student_examples(self) -> list[str]:
        """Two students who can sign in today (their school's portal is open), to try it."""
        open_schools = {school.name for school in self.schools if school.is_open_today}
        ready = [student for student in self.students if student.school in open_schools][:2]
        return [
            f"Students sign in at {STUDENT_SIGN_IN} with student ID {student.student_id} and"
            f" birth date {student.birth_date} ({student.name})"
            for student in ready
        ]

    def _sections(self) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
        return [
            (
                "Schools (portal open per policies/rollout.toml)",
                ("SIS ID", "NAME", "PORTAL OPEN FROM", "OPEN TODAY"),
                [_school_row(school) for school in self.schools],
            ),
            (
                "Accounts",
                ("ROLE", "USERNAME", "EMAIL", "LANGUAGE", "NOTE", "AUTHENTICATOR SECRET (STAFF)"),
                [
                    (a.role, a.username, a.email, a.locale, a.note, a.totp_secret or "")
                    for a in self.accounts
                ],
            ),
            (
                "Legacy Infinite Campus users (no portal account yet: sign in with IC credentials)",
                ("IC USERNAME", "IC PASSWORD", "NAME"),
                [(u.ic_username, u.password, u.name) for u in self.legacy_ic_users],
            ),
            (
                "Guardians without an account: issue an activation key with"
                " `idp activation issue --person-id PERSON_ID --staff DemoDistrictAdmin"
                " --id-type drivers_license`, then register at /register",
                ("PERSON ID", "NAME"),
                [(g.person_id, g.name) for g in self.unregistered_guardians],
            ),
            (
                f"Students (sign in at {STUDENT_SIGN_IN} with student ID and birth date; their"
                " account is made then; refused while their school's portal is not open)",
                ("STUDENT ID", "BIRTH DATE", "GRADE", "NAME", "SCHOOL"),
                [(s.student_id, s.birth_date, s.grade, s.name, s.school) for s in self.students],
            ),
        ]


def _school_row(school: SchoolLine) -> tuple[str, ...]:
    opens = school.enabled_from or "not scheduled"
    return (school.sis_id, school.name, opens, "yes" if school.is_open_today else "no")


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, two spaces apart, indented by two."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  " + "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        )

    return [line(row).rstrip() for row in (headers, *rows)]
