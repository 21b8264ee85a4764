"""Student sign-in (DESIGN.md 1): student ID + date of birth, or a district password.

A date of birth is not a secret, so this path has its own, tighter lockout per student ID
(accounts.toml [students]), counting unknown student IDs too: a wrong date of birth and an
unknown student ID get the same answer and the same lock. The roster decides who may sign in:
an active student enrolled in a school whose portal is open (GuardianAccess.enrolment, the one
rollout rule). The account is created at the first successful sign-in; there is no registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from idp.accounts.errors import PersonAlreadyHasAccountError
from idp.accounts.models import LOCALES, RELEASED_STATES, Account, AccountKind, AccountState
from idp.accounts.rules import can_receive_tokens
from idp.accounts.service import AccountService, NewAccount
from idp.audit.models import AuditEvent
from idp.audit.service import AuditLog
from idp.clock import Clock
from idp.credentials import rules
from idp.credentials.errors import (
    AccountNotActiveError,
    InvalidStudentCredentialsError,
    InvalidStudentPasswordError,
    SignInLockedError,
    StudentAccountDisabledError,
    StudentNotFoundError,
    StudentSchoolNotOpenError,
)
from idp.credentials.hashing import SecretHasher
from idp.credentials.models import SignInThrottle
from idp.credentials.throttle import FailureThrottle
from idp.policy import (
    DISTRICT_PASSWORD,
    PasswordPolicy,
    RolloutPolicy,
    StudentLogin,
    StudentsPolicy,
)
from idp.roster.access import GuardianAccess
from idp.roster.models import Person

# Keeps the student counters apart from the username counters in the shared throttle table.
THROTTLE_NAMESPACE = "student:"
FAILED_EVENT = "credentials:student_sign_in:failed"
# How far back `status` counts failed sign-ins for staff.
RECENT_FAILURES = timedelta(hours=24)


def normalize_student_id(student_id: str) -> str:
    """Student IDs are compared without case and without spaces: " demo-s 1001" is DEMO-S1001."""
    return "".join(student_id.split()).upper()


@dataclass(frozen=True)
class StudentSignInSetup:
    """What student sign-in is configured with."""

    policy: StudentsPolicy
    rollout: RolloutPolicy
    passwords: PasswordPolicy  # rules for district passwords (credentials.toml [passwords])
    hasher: SecretHasher
    name_key: bytes = field(repr=False)  # HMAC key for student IDs in the throttle table


@dataclass(frozen=True)
class StudentCredentials:
    """What a student typed: the student ID and, per policy, a date of birth or a password."""

    student_id: str
    birth_date: date | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StudentStatus:
    """What staff see about a student's sign-in (CLI now, staff console later)."""

    student_id: str
    account_state: str | None  # None: no account yet (created at the first sign-in)
    last_activity_at: datetime | None
    locked_until: datetime | None  # None: not locked now
    lock_count: int  # locks in a row (each twice as long as the one before)
    recent_failures: int  # failed sign-ins in the last RECENT_FAILURES
    is_school_open: bool


class StudentSignInService:
    """Signs students in, sets district passwords, and reports lockouts to staff.

    Owns its transaction, as SignInService does: failures and locks must be kept.
    """

    def __init__(
        self,
        session: Session,
        clock: Clock,
        setup: StudentSignInSetup,
        accounts: AccountService,
        audit: AuditLog,
    ) -> None:
        self._session = session
        self._clock = clock
        self._setup = setup
        self._throttle = FailureThrottle(
            session, clock, setup.policy.lockout, setup.name_key, THROTTLE_NAMESPACE
        )
        self._access = GuardianAccess(session, setup.rollout)
        self._accounts = accounts
        self._audit = audit

    @property
    def login(self) -> StudentLogin:
        """How students sign in (accounts.toml students.login)."""
        return self._setup.policy.login

    def sign_in(self, credentials: StudentCredentials, locale: str = "en") -> Account:
        """Return the student's active account (made now if it is the first sign-in), or raise
        a domain error. `locale` is the page language, kept by a new account."""
        key = normalize_student_id(credentials.student_id)
        minutes = self._throttle.locked_minutes(key)
        if minutes is not None:
            raise SignInLockedError(minutes=minutes)
        person, account = self._find(key)
        if person is None or not self._is_proven(person, account, credentials):
            self._record_failure(key, person, account)
            raise self._invalid_error()
        self._throttle.clear(key)
        self._refuse_closed_school(person, account)
        account = account or self._create_account(person, locale)
        self._refuse_inactive(account)
        account.last_activity_at = self._clock.now()
        self._audit.record(
            "credentials:student_sign_in:succeeded", subject_id=account.id, method=self.login
        )
        return account

    def set_password(self, student_id: str, password: str) -> Account:
        """Set the district password of a student (students.login = "district_password"),
        creating the student's account if it has none; commit. Raise if the password breaks
        the rules of credentials.toml [passwords] or the student is not in the roster."""
        person, account = self._find(normalize_student_id(student_id))
        if person is None:
            raise StudentNotFoundError(student_id=normalize_student_id(student_id))
        rules.check_password(password, self._setup.passwords, person.sis_person_id)
        account = account or self._create_account(person, "en")
        account.password_hash = self._setup.hasher.hash(password)
        self._audit.record("credentials:student_password:set", subject_id=account.id)
        return account

    def account_of(self, student_id: str) -> Account | None:
        """The live account of the active student with this student ID (any case, spaces
        ignored), for staff tools; None if there is none (yet)."""
        return self._find(normalize_student_id(student_id))[1]

    def locked_until(self, account: Account) -> datetime | None:
        """Until when the student's sign-in (by student ID) is locked; None when it is not."""
        key = self._student_key(account)
        return self._throttle.locked_until(key) if key is not None else None

    def clear_lock(self, account: Account) -> bool:
        """End the student's sign-in lock before it runs out, forgetting the failures and
        the locks in a row; False, and nothing changes, when it is not locked."""
        key = self._student_key(account)
        if key is None or self._throttle.locked_until(key) is None:
            return False
        self._throttle.clear(key)
        return True

    def set_account_password(self, account: Account, password: str) -> None:
        """Set the district password of a student's account (the staff desk, which checks
        students.login and records who). Raise if the password breaks the rules of
        credentials.toml [passwords]; never stored or logged in clear."""
        person = self._session.get(Person, account.person_id) if account.person_id else None
        if account.kind != AccountKind.STUDENT or person is None:
            raise ValueError("not a student's account")  # the desk refuses it before
        rules.check_password(password, self._setup.passwords, person.sis_person_id)
        account.password_hash = self._setup.hasher.hash(password)

    def status(self, student_id: str) -> StudentStatus:
        """The student's account, last activity and lockout now, for staff."""
        key = normalize_student_id(student_id)
        person, account = self._find(key)
        if person is None:
            raise StudentNotFoundError(student_id=key)
        now = self._clock.now()
        row = self._session.get(SignInThrottle, self._throttle.digest(key))
        locked_until = row.locked_until if row is not None else None
        return StudentStatus(
            student_id=person.sis_person_id,
            account_state=account.state if account else None,
            last_activity_at=account.last_activity_at if account else None,
            locked_until=locked_until if locked_until and locked_until > now else None,
            lock_count=row.lock_count if row is not None else 0,
            recent_failures=self._recent_failures(person, now - RECENT_FAILURES),
            is_school_open=self._access.enrolment(person, now.date()) is not None,
        )

    def _student_key(self, account: Account) -> str | None:
        """The student ID the account's student signs in with, as the throttle counts it."""
        person = self._session.get(Person, account.person_id) if account.person_id else None
        return normalize_student_id(person.sis_person_id) if person is not None else None

    def _find(self, key: str) -> tuple[Person | None, Account | None]:
        """The active student with this (normalised) ID and their live student account, in
        one query whether or not the ID exists. Two roster IDs differing only in case match
        nobody rather than the wrong student."""
        live_account = and_(
            Account.person_id == Person.id,
            Account.kind == AccountKind.STUDENT,
            Account.state.not_in(RELEASED_STATES),
        )
        query = (
            select(Person, Account)
            .outerjoin(Account, live_account)
            .where(
                func.upper(Person.sis_person_id) == key,
                Person.role == "student",
                Person.is_active.is_(True),
            )
            .limit(2)
        )
        rows = self._session.execute(query).all()
        return (rows[0].Person, rows[0].Account) if len(rows) == 1 else (None, None)

    def _is_proven(
        self, person: Person, account: Account | None, credentials: StudentCredentials
    ) -> bool:
        if self.login == DISTRICT_PASSWORD:
            stored = account.password_hash if account is not None else None
            # verify() spends one argon2 verification even without a hash: no timing oracle.
            is_right = self._setup.hasher.verify(stored, credentials.password or "")
            if is_right and stored and self._setup.hasher.needs_rehash(stored):
                assert account is not None  # noqa: S101 - a stored hash has an account
                account.password_hash = self._setup.hasher.hash(credentials.password or "")
            return is_right
        # Date-only comparison: the FAQ's rule; the lockout is what makes guessing slow.
        return person.birth_date is not None and person.birth_date == credentials.birth_date

    def _invalid_error(self) -> InvalidStudentCredentialsError:
        if self.login == DISTRICT_PASSWORD:
            return InvalidStudentPasswordError()
        return InvalidStudentCredentialsError()

    def _record_failure(self, key: str, person: Person | None, account: Account | None) -> None:
        # Ids only (STYLE.md 4): never the typed student ID or date of birth.
        subject_id = account.id if account is not None else None
        ids = {"person_id": person.id} if person is not None else {}
        self._audit.record(FAILED_EVENT, subject_id=subject_id, **ids)
        if self._throttle.record_failure(key):
            minutes = self._throttle.locked_minutes(key)
            self._audit.record(
                "credentials:student_sign_in:locked",
                subject_id=subject_id,
                minutes=minutes,
                **ids,
            )

    def _refuse_closed_school(self, person: Person, account: Account | None) -> None:
        """Only reached with the right credentials, so saying why is no enumeration leak."""
        if self._access.enrolment(person, self._clock.now().date()) is not None:
            return
        self._audit.record(
            "credentials:student_sign_in:refused",
            subject_id=account.id if account is not None else None,
            person_id=person.id,
            reason="school_not_open",
        )
        raise StudentSchoolNotOpenError

    def _refuse_inactive(self, account: Account) -> None:
        if can_receive_tokens(account.state):
            return
        self._audit.record(
            "credentials:student_sign_in:refused", subject_id=account.id, state=account.state
        )
        if account.state == AccountState.DISABLED:
            # Staff re-enable it at the desk (StaffService.re_enable_account).
            raise StudentAccountDisabledError
        raise AccountNotActiveError

    def _create_account(self, person: Person, locale: str) -> Account:
        """The student's account: no username, no email (DESIGN.md 1), the page's language."""
        new = NewAccount(
            kind=AccountKind.STUDENT,
            state=AccountState.ACTIVE,
            person_id=person.id,
            locale=locale if locale in LOCALES else "en",
        )
        try:
            account = self._accounts.create(new)
        except PersonAlreadyHasAccountError:
            # A second tab (or worker) made it first: use that one (uq_account_person_kind).
            _person, existing = self._find(person.sis_person_id.upper())
            if existing is None:
                raise
            return existing
        self._audit.record(
            "accounts:student_account:created", subject_id=account.id, person_id=person.id
        )
        return account

    def _recent_failures(self, person: Person, since: datetime) -> int:
        query = select(func.count(AuditEvent.id)).where(
            AuditEvent.event == FAILED_EVENT,
            AuditEvent.occurred_at >= since,
            AuditEvent.data["person_id"].as_integer() == person.id,
        )
        return int(self._session.execute(query).scalar_one())
