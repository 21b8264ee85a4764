"""The records the staff console's read models return (issues 16.4 and 16.7): the person page
(person_page.py) and the schools' dashboard (dashboard.py). Frozen; never a password, an
answer, a token or an activation key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from idp.accounts.models import Account
from idp.bridge.legacy import BridgeStatus
from idp.credentials.students import normalize_student_id
from idp.roster import rules as roster_rules

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")
LockReader = Callable[[Account], datetime | None]  # until when the account's sign-in is locked


@dataclass(frozen=True)
class PersonSummary:
    """A roster person as the desk shows them (a birth date for students only)."""

    id: int
    sis_person_id: str
    role: str
    given_name: str
    family_name: str
    birth_date: date | None
    is_active: bool


@dataclass(frozen=True)
class SchoolEnrollment:
    """One enrolment: the school and grade."""

    school_id: int
    school_sis_id: str
    school_name: str
    grade: str | None
    is_active: bool


@dataclass(frozen=True)
class PendingConfirmation:
    """A registration waiting for its email confirmation (lifecycle.toml [registration])."""

    link_sent_at: datetime
    link_expires_at: datetime
    removal_due_at: datetime


@dataclass(frozen=True)
class AccountSummary:
    """An account's state and history; never its password, answers or tokens."""

    id: int
    username: str | None
    email: str | None
    kind: str
    state: str
    locale: str
    created_at: datetime
    email_verified_at: datetime | None
    last_activity_at: datetime | None
    state_changed_at: datetime
    disable_due_at: datetime | None
    deletion_due_at: datetime | None
    pending: PendingConfirmation | None
    has_security_questions: bool
    lock_until: datetime | None  # the page's account only


@dataclass(frozen=True)
class RelationshipLine:
    """The other side of a relationship: a guardian's student or a student's guardian."""

    relationship_id: int
    person: PersonSummary
    kind: str
    is_legal_guardian: bool
    is_active: bool
    restricted_at: datetime | None
    restricted_by_username: str | None
    restriction_reason: str | None
    account_state: str | None  # the other person's live account; None: none
    schools: tuple[SchoolEnrollment, ...]

    @property
    def gives_access(self) -> bool:
        """Whether the guardian sees the student through it (roster/rules.py)."""
        facts = {"is_active": self.is_active, "is_legal_guardian": self.is_legal_guardian}
        return roster_rules.gives_access(**facts, restricted_at=self.restricted_at)


@dataclass(frozen=True)
class AppUse:
    """An app the account was issued tokens for, or has a live consent with."""

    client_id: str
    client_name: str
    first_used_at: datetime | None
    last_used_at: datetime | None
    consent_granted_at: datetime | None


@dataclass(frozen=True)
class LiveSession:
    """An SSO session neither ended nor past its absolute lifetime, and the apps it served."""

    started_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    app_names: tuple[str, ...]


@dataclass(frozen=True)
class OutstandingKey:
    """An activation key that may still register (never the key or its digest)."""

    issued_at: datetime
    issued_by_username: str | None
    id_type_seen: str
    expires_at: datetime
    used_at: datetime | None  # by a registration still waiting for its email confirmation


@dataclass(frozen=True)
class AuditLine:
    """A recent audit event about the person."""

    occurred_at: datetime
    event: str
    actor_username: str | None  # None: the person themselves, a job or the command line
    reason: str | None


@dataclass(frozen=True)
class StaffRole:
    """A staff role; no school: district-wide."""

    role: str
    school_sis_id: str | None
    school_name: str | None


@dataclass(frozen=True)
class PersonPage:
    """What the desk shows about one person (issue 16.4)."""

    person: PersonSummary | None  # None: an account without a roster person
    enrollments: tuple[SchoolEnrollment, ...]
    account: AccountSummary | None
    other_accounts: tuple[AccountSummary, ...]  # the person's other (earlier) accounts
    staff_roles: tuple[StaffRole, ...]
    bridge: tuple[BridgeStatus, ...]
    relationships: tuple[RelationshipLine, ...]
    apps: tuple[AppUse, ...]
    sessions: tuple[LiveSession, ...]
    keys: tuple[OutstandingKey, ...]
    events: tuple[AuditLine, ...]


@dataclass(frozen=True)
class SchoolDashboard:
    """One school's rollout figures (issue 16.7); "week": the 7 days up to now."""

    school_id: int
    sis_id: str
    name: str
    portal_open_from: date | None  # rollout.toml enabled_from; None: no date yet
    is_portal_open: bool
    eligible_guardians: int  # legal, unrestricted guardians of its active students
    guardians_with_account: int  # of those: active, provisioning or disabled
    waiting_for_email: int  # of those: registrations waiting for their email confirmation
    disabled_accounts: int  # its students', their guardians' and its staff's accounts
    locked_accounts: int  # sign-in names locked now (students by student ID, account or not)
    keys_issued_in_week: int  # to guardians of its students
    keys_redeemed_in_week: int


@dataclass(frozen=True)
class SignInNames:
    """The HMAC digests the sign-in throttles count under (FailureThrottle.digest): the
    username at the portal sign-in, the student ID at the student sign-in ("student:")."""

    username_digest: Callable[[str], str]
    student_id_digest: Callable[[str], str]

    def digest(self, student_id: str | None, username: str | None) -> str | None:
        """The name a student (by student ID) or an account (by username) is locked under."""
        if student_id is not None:
            return self.student_id_digest(normalize_student_id(student_id))
        return self.username_digest(username) if username else None


def from_rows(record: type[Record], rows: Iterable[Any]) -> tuple[Record, ...]:
    """Rows (or objects) read into `record` by the names of its fields."""
    names = [field.name for field in fields(record)]
    return tuple(record(**{name: getattr(row, name) for name in names}) for row in rows)
