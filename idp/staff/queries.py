"""The staff console's read models (issues 16.4 and 16.7): a person's page and the schools'
dashboard, within the staff member's StaffScope (a person outside it is None: a 404).

Reads only. Each call runs a fixed number of statements whatever the size of the family or the
district, each from an indexed column (person_id, account_id, subject_account_id, event) or
grouped once per page. Rows are read into the records by column label (`_records`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.bridge.legacy import BridgeStatus
from idp.bridge.models import LegacyCredential
from idp.credentials.models import SecurityAnswer, SignInThrottle
from idp.credentials.students import normalize_student_id
from idp.lifecycle.sweep import idle_since
from idp.notifications.models import OutboxMessage
from idp.oidc.models import Consent, OAuthToken, OidcClient, SsoSession, SsoSessionClient
from idp.policy import InactivityPolicy, LifecyclePolicy, RolloutPolicy
from idp.registration.messages import VERIFY_EMAIL
from idp.registration.models import ActivationKey
from idp.roster import rules as roster_rules
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.staff.models import StaffAssignment
from idp.staff.scope import StaffScope, can_see_account

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")
LockReader = Callable[[Account], datetime | None]  # until when the account's sign-in is locked
RECENT_EVENTS = 20
WEEK = timedelta(days=7)
# Events that name a roster Person in their data (with or without an account as subject).
PERSON_EVENTS = ("registration:key:issued", "credentials:student_sign_in:locked")
RELATIONSHIP_EVENTS = ("roster:relationship:restricted", "roster:relationship:lifted")
# registration/keys.py _refuse_live_account: a guardian in these states "has an account".
HOLDING_STATES = (AccountState.ACTIVE, AccountState.PROVISIONING, AccountState.DISABLED)


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


def person_page(
    session: Session,
    scope: StaffScope,
    *,
    person_id: int | None = None,
    account_id: int | None = None,
    now: datetime,
    lifecycle_policy: LifecyclePolicy,
    lock_reader: LockReader,
) -> PersonPage | None:
    """The page of the roster Person `person_id` or of the account `account_id` (exactly one
    given), or None when it does not exist or is outside the scope."""
    if (person_id is None) == (account_id is None):
        raise ValueError("give exactly one of person_id and account_id")
    person = _entry_person(session, scope, person_id, account_id)
    if person is None and (account_id is None or not can_see_account(session, scope, account_id)):
        return None
    rows = _accounts(session, person, account_id)
    main = _main_account([row.Account for row in rows], person, account_id)
    accounts = [_summary(row, now, lifecycle_policy, main, lock_reader) for row in rows]
    relationships = _relationships(session, scope, person)
    enrolled = _enrollments(session, person, relationships)
    return PersonPage(
        person=_records(PersonSummary, [person])[0] if person else None,
        enrollments=enrolled.get(person.id, ()) if person else (),
        account=next((one for one in accounts if main and one.id == main.id), None),
        other_accounts=tuple(one for one in accounts if main is None or one.id != main.id),
        staff_roles=_staff_roles(session, main),
        bridge=_bridge(session, person, [one.id for one in accounts]),
        relationships=tuple(_line(row, enrolled) for row in relationships),
        apps=_apps(session, main),
        sessions=_sessions(session, main, now),
        keys=_keys(session, person, now),
        events=_events(session, scope, person, [one.id for one in accounts]),
    )


def due_dates(
    account: Account, policy: InactivityPolicy, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """When the inactivity sweep (lifecycle/sweep.py) disables and deletes the account if it
    stays unused; None where it never will (staff, exempt students, other states)."""
    is_swept = account.kind == AccountKind.GUARDIAN or (
        account.kind == AccountKind.STUDENT and not policy.is_student_exempt
    )
    if not is_swept or account.state not in (AccountState.ACTIVE, AccountState.DISABLED):
        return None, None
    idle = idle_since(account)
    disable = idle + timedelta(days=policy.disable_after_days)
    # The sweep deletes no earlier than warn_before_delete_days after this idle period's
    # deletion warning; one not queued yet is queued by the next sweep at the soonest.
    warned = account.delete_warned_at
    warned_at = warned if warned is not None and warned > idle else now
    delete = max(
        idle + timedelta(days=policy.delete_after_days),
        warned_at + timedelta(days=policy.warn_before_delete_days),
    )
    return (disable if account.state == AccountState.ACTIVE else None), delete


def sign_in_lock_reader(session: Session, names: SignInNames, now: datetime) -> LockReader:
    """A LockReader deciding as FailureThrottle.standing does: locked while the name's
    locked_until is after `now` (one statement per call)."""

    def lock_until(account: Account) -> datetime | None:
        person = session.get(Person, account.person_id) if account.person_id else None
        is_student = account.kind == AccountKind.STUDENT
        student_id = person.sis_person_id if person is not None and is_student else None
        digest = names.digest(student_id, account.username)
        query = select(SignInThrottle.locked_until).where(
            SignInThrottle.name_digest == digest, SignInThrottle.locked_until > now
        )
        return session.execute(query).scalar_one_or_none() if digest else None

    return lock_until


def dashboard(
    session: Session,
    scope: StaffScope,
    *,
    now: datetime,
    rollout_policy: RolloutPolicy,
    names: SignInNames,
) -> list[SchoolDashboard]:
    """One row per active school of the scope (district admins: every one), by name."""
    query = select(School.id, School.sis_id, School.name).where(School.is_active.is_(True))
    if scope.school_ids is not None:
        query = query.where(School.id.in_(sorted(scope.school_ids)))
    schools = session.execute(query.order_by(School.name, School.id)).all()
    ids = [row.id for row in schools]
    if not ids:
        return []
    counts: dict[str, dict[int, int]] = {name: {} for name in _COUNTS}
    counts.update(_guardian_counts(session, ids))
    counts.update(_disabled_counts(session, ids))
    counts.update(_key_counts(session, ids, now - WEEK))
    counts["locked_accounts"] = _locked_counts(session, ids, now, names)
    opening = {school.sis_id: school.enabled_from for school in rollout_policy.schools}
    return [
        SchoolDashboard(
            school_id=row.id,
            sis_id=row.sis_id,
            name=row.name,
            portal_open_from=opening.get(row.sis_id),
            is_portal_open=rollout_policy.is_enabled(row.sis_id, now.date()),
            **{name: per_school.get(row.id, 0) for name, per_school in counts.items()},
        )
        for row in schools
    ]


_COUNTS = (
    "eligible_guardians",
    "guardians_with_account",
    "waiting_for_email",
    "disabled_accounts",
    "locked_accounts",
    "keys_issued_in_week",
    "keys_redeemed_in_week",
)


def _records(record: type[Record], rows: Iterable[Any]) -> tuple[Record, ...]:
    """Rows (or objects) read into `record` by the names of its fields."""
    names = [field.name for field in fields(record)]
    return tuple(record(**{name: getattr(row, name) for name in names}) for row in rows)


def _entry_person(
    session: Session, scope: StaffScope, person_id: int | None, account_id: int | None
) -> Person | None:
    """The person asked for, or the person of the account asked for, within the scope."""
    if person_id is not None:
        where = [Person.id == person_id, scope.persons_condition(Person.id)]
        return session.execute(select(Person).where(*where)).scalar_one_or_none()
    query = select(Person).join(Account, Account.person_id == Person.id)
    query = query.where(Account.id == account_id, scope.accounts_condition())
    return session.execute(query).scalar_one_or_none()


def _accounts(session: Session, person: Person | None, account_id: int | None) -> Sequence[Any]:
    """The person's accounts, newest first (or the one account without a person), with
    whether security answers are set and when the last confirmation link was queued."""
    last_link = (
        select(func.max(OutboxMessage.created_at))
        .where(OutboxMessage.account_id == Account.id, OutboxMessage.template == VERIFY_EMAIL)
        .scalar_subquery()
    )
    answered = exists().where(SecurityAnswer.account_id == Account.id)
    whose = Account.person_id == person.id if person else Account.id == account_id
    query = select(Account, answered.label("has_answers"), last_link.label("last_link_at"))
    query = query.where(whose).order_by(Account.created_at.desc(), Account.id.desc())
    return session.execute(query).all()


def _main_account(
    accounts: list[Account], person: Person | None, account_id: int | None
) -> Account | None:
    """The account asked for; else the person's live account of their role; else the newest."""
    ranked = sorted(
        accounts,
        key=lambda one: (
            one.id != account_id,
            one.state in RELEASED_STATES,
            person is None or one.kind != person.role,
        ),
    )
    return ranked[0] if ranked else None


def _summary(
    row: Any, now: datetime, policy: LifecyclePolicy, main: Account | None, lock: LockReader
) -> AccountSummary:
    account: Account = row.Account
    disable_at, delete_at = due_dates(account, policy.inactivity, now)
    pending = None
    if account.state == AccountState.PENDING_EMAIL:
        # lifecycle/service.py _overdue: removed once the registration and its newest link
        # are older than the link's lifetime and the grace days.
        sent = max(account.state_changed_at, row.last_link_at or account.state_changed_at)
        expires = sent + timedelta(hours=policy.registration.email_link_hours)
        removal = expires + timedelta(days=policy.registration.pending_email_grace_days)
        pending = PendingConfirmation(sent, expires, removal)
    copied = {name: getattr(account, name) for name in _ACCOUNT_COLUMNS}
    return AccountSummary(
        **copied,
        disable_due_at=disable_at,
        deletion_due_at=delete_at,
        pending=pending,
        has_security_questions=bool(row.has_answers),
        lock_until=lock(account) if account is main else None,
    )


# The AccountSummary fields that are account columns, copied as they are.
_ACCOUNT_COLUMNS = [
    field.name for field in fields(AccountSummary) if field.name in Account.__table__.c
]


def _relationships(session: Session, scope: StaffScope, person: Person | None) -> Sequence[Any]:
    """The person's relationships whose other side is within the scope (another school's
    student stays unseen), with who restricted them and the other side's live account."""
    if person is None or person.role not in ("guardian", "student"):
        return []
    other, restrictor, held = aliased(Person, name="other"), aliased(Account), aliased(Account)
    mine, theirs = Relationship.guardian_id, Relationship.student_id
    if person.role == "student":
        mine, theirs = theirs, mine
    live = [held.person_id == other.id, held.kind == other.role]
    query = (
        select(Relationship, other, restrictor.username.label("restricted_by"))
        .add_columns(held.state.label("account_state"))
        .join(other, other.id == theirs)
        .outerjoin(restrictor, restrictor.id == Relationship.restricted_by_account_id)
        .outerjoin(held, and_(*live, held.state.not_in(RELEASED_STATES)))
        .where(mine == person.id, scope.persons_condition(other.id))
        .order_by(other.family_name, other.given_name, other.id)
    )
    return session.execute(query).all()


def _enrollments(
    session: Session, person: Person | None, relationships: Sequence[Any]
) -> dict[int, tuple[SchoolEnrollment, ...]]:
    """The enrolments of the person and of the other side of each of its relationships."""
    ids = ([person.id] if person else []) + [row.other.id for row in relationships]
    query = (
        select(
            Enrollment.person_id,
            School.id.label("school_id"),
            School.sis_id.label("school_sis_id"),
            School.name.label("school_name"),
            Enrollment.grade,
            Enrollment.is_active,
        )
        .join(School, School.id == Enrollment.school_id)
        .where(Enrollment.person_id.in_(ids))
        .order_by(Enrollment.is_active.desc(), School.name, School.id)
    )
    rows = session.execute(query).all() if ids else []
    return {key: _records(SchoolEnrollment, (r for r in rows if r.person_id == key)) for key in ids}


def _line(row: Any, enrolled: dict[int, tuple[SchoolEnrollment, ...]]) -> RelationshipLine:
    relationship: Relationship = row.Relationship
    return RelationshipLine(
        relationship_id=relationship.id,
        person=_records(PersonSummary, [row.other])[0],
        kind=relationship.kind,
        is_legal_guardian=relationship.is_legal_guardian,
        is_active=relationship.is_active,
        restricted_at=relationship.restricted_at,
        restricted_by_username=row.restricted_by,
        restriction_reason=relationship.restriction_reason,
        account_state=row.account_state,
        schools=enrolled.get(row.other.id, ()),
    )


def _staff_roles(session: Session, account: Account | None) -> tuple[StaffRole, ...]:
    if account is None or account.kind != AccountKind.STAFF:
        return ()
    query = (
        select(StaffAssignment.role, School.sis_id.label("school_sis_id"))
        .add_columns(School.name.label("school_name"))
        .outerjoin(School, School.id == StaffAssignment.school_id)
        .where(StaffAssignment.account_id == account.id)
        .order_by(StaffAssignment.role, School.sis_id)
    )
    return _records(StaffRole, session.execute(query))


def _bridge(
    session: Session, person: Person | None, account_ids: list[int]
) -> tuple[BridgeStatus, ...]:
    """The legacy IC credentials of the person or its accounts (bridge/legacy.py status)."""
    whose: ColumnElement[bool] = LegacyCredential.account_id.in_(account_ids)
    if person is not None:
        whose = or_(whose, LegacyCredential.person_id == person.id)
    migrated = LegacyCredential.migrated_at.is_not(None)
    query = (
        select(
            LegacyCredential.ic_username,
            LegacyCredential.scheme,
            LegacyCredential.imported_at,
            LegacyCredential.migrated_at,
            case((migrated, Account.username)).label("portal_username"),
        )
        .outerjoin(Account, Account.id == LegacyCredential.account_id)
        .where(whose)
        .order_by(LegacyCredential.imported_at, LegacyCredential.id)
    )
    return _records(BridgeStatus, session.execute(query))


def _apps(session: Session, account: Account | None) -> tuple[AppUse, ...]:
    """Per app: the first and last token issued to the account, and its live consent."""
    if account is None:
        return ()
    issued = OAuthToken.issued_at
    tokens = (
        select(OAuthToken.client_id, func.min(issued).label("first_used_at"))
        .add_columns(func.max(issued).label("last_used_at"))
        .where(OAuthToken.account_id == account.id)
        .group_by(OAuthToken.client_id)
        .subquery()
    )
    consents = (
        select(Consent.client_id, func.max(Consent.granted_at).label("consent_granted_at"))
        .where(Consent.account_id == account.id, Consent.revoked_at.is_(None))
        .group_by(Consent.client_id)
        .subquery()
    )
    query = (
        select(OidcClient.client_id, OidcClient.name.label("client_name"))
        .add_columns(tokens.c.first_used_at, tokens.c.last_used_at, consents.c.consent_granted_at)
        .outerjoin(tokens, tokens.c.client_id == OidcClient.client_id)
        .outerjoin(consents, consents.c.client_id == OidcClient.client_id)
        .where(or_(tokens.c.client_id.is_not(None), consents.c.client_id.is_not(None)))
        .order_by(OidcClient.name, OidcClient.client_id)
    )
    return _records(AppUse, session.execute(query))


def _sessions(session: Session, account: Account | None, now: datetime) -> tuple[LiveSession, ...]:
    """Live as the one path that ends access counts them (oidc/sessions.py end_all); one that
    idled out is listed with its last_seen_at."""
    if account is None:
        return ()
    query = (
        select(SsoSession, OidcClient.name)
        .outerjoin(SsoSessionClient, SsoSessionClient.sso_session_id == SsoSession.id)
        .outerjoin(OidcClient, OidcClient.client_id == SsoSessionClient.client_id)
        .where(SsoSession.account_id == account.id, SsoSession.ended_at.is_(None))
        .where(SsoSession.expires_at > now)
        .order_by(SsoSession.auth_time.desc(), SsoSession.id, SsoSessionClient.id)
    )
    found: dict[int, tuple[SsoSession, list[str]]] = {}
    for row in session.execute(query):
        found.setdefault(row.SsoSession.id, (row.SsoSession, []))[1].extend(
            [row.name] if row.name is not None else []
        )
    return tuple(
        LiveSession(sso.auth_time, sso.last_seen_at, sso.expires_at, tuple(names))
        for sso, names in found.values()
    )


def _keys(session: Session, person: Person | None, now: datetime) -> tuple[OutstandingKey, ...]:
    """The person's keys that registration/keys.py usable_key would accept, newest first."""
    if person is None:
        return ()
    issuer, user = aliased(Account), aliased(Account)
    query = (
        select(ActivationKey.issued_at, issuer.username.label("issued_by_username"))
        .add_columns(ActivationKey.id_type_seen, ActivationKey.expires_at, ActivationKey.used_at)
        .outerjoin(issuer, issuer.id == ActivationKey.issued_by_account_id)
        .outerjoin(user, user.id == ActivationKey.used_by_account_id)
        .where(ActivationKey.person_id == person.id, ActivationKey.revoked_at.is_(None))
        .where(ActivationKey.expires_at > now)
        .where(or_(user.id.is_(None), user.state == AccountState.PENDING_EMAIL))
        .order_by(ActivationKey.issued_at.desc(), ActivationKey.id.desc())
    )
    return _records(OutstandingKey, session.execute(query))


def _events(
    session: Session, scope: StaffScope, person: Person | None, account_ids: list[int]
) -> tuple[AuditLine, ...]:
    """The newest events with one of the accounts as subject or naming the person: each
    branch takes its newest through its own index (subject, event), then they merge."""
    newest = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    branches: list[ColumnElement[bool]] = [AuditEvent.subject_account_id.in_(account_ids)]
    if person is not None:
        branches.append(_naming(scope, person.id))
    limited = [
        select(AuditEvent.id).where(where).order_by(*newest).limit(RECENT_EVENTS).subquery()
        for where in branches
    ]
    actor = aliased(Account)
    query = (
        select(AuditEvent.occurred_at, AuditEvent.event, AuditEvent.data)
        .add_columns(actor.username.label("actor_username"))
        .outerjoin(actor, actor.id == AuditEvent.actor_account_id)
        .where(AuditEvent.id.in_(union_all(*(select(found.c.id) for found in limited))))
        .order_by(*newest)
        .limit(RECENT_EVENTS)
    )
    return tuple(
        AuditLine(row.occurred_at, row.event, row.actor_username, _reason(row.data))
        for row in session.execute(query)
    )


def _naming(scope: StaffScope, person_id: int) -> ColumnElement[bool]:
    """SQL: an event naming the person in its data; a relationship event only when both its
    persons are within the scope (its reason may be about another school's student)."""
    data = AuditEvent.data
    guardian = data["guardian_person_id"].as_integer()
    student = data["student_person_id"].as_integer()
    return or_(
        and_(AuditEvent.event.in_(PERSON_EVENTS), data["person_id"].as_integer() == person_id),
        and_(
            AuditEvent.event.in_(RELATIONSHIP_EVENTS),
            or_(guardian == person_id, student == person_id),
            scope.persons_condition(guardian),
            scope.persons_condition(student),
        ),
    )


def _reason(data: dict[str, Any]) -> str | None:
    reason = data.get("reason")
    return reason if isinstance(reason, str) else None


def _students(ids: list[int]) -> Select[int, int]:
    """(school_id, person_id) of the active students actively enrolled at the schools."""
    enrolment = roster_rules.active_enrolment_sql(Person)
    return (
        select(Enrollment.school_id, Enrollment.person_id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.school_id.in_(ids), enrolment.enrolment, enrolment.student)
    )


def _guardians(ids: list[int], relationship: ColumnElement[bool]) -> Select[int, int]:
    """(school_id, person_id) of the guardians related by `relationship` to those students."""
    students = _students(ids).subquery()
    return (
        select(students.c.school_id, Relationship.guardian_id.label("person_id"))
        .join(Relationship, Relationship.student_id == students.c.person_id)
        .where(relationship)
        .distinct()
    )


def _per_school(session: Session, query: Select[Any]) -> dict[str, dict[int, int]]:
    """{label: {school_id: count}} for each labelled count of a query grouped by school_id."""
    counts: dict[str, dict[int, int]] = {}
    for row in session.execute(query):
        for name, value in row._mapping.items():
            if name != "school_id":
                counts.setdefault(name, {})[row.school_id] = int(value)
    return counts


def _guardian_counts(session: Session, ids: list[int]) -> dict[str, dict[int, int]]:
    """Eligible guardians (registration/keys.py eligible_guardian, the rollout date aside),
    and how many of them hold an account or a registration waiting for its email."""
    guardian = aliased(Person)
    eligible = _guardians(ids, roster_rules.gives_access_sql(Relationship))
    eligible = eligible.join(guardian, guardian.id == Relationship.guardian_id)
    found = eligible.where(guardian.role == "guardian", guardian.is_active.is_(True)).subquery()
    state, guardian_id = Account.state, found.c.person_id
    live = [Account.person_id == guardian_id, Account.kind == AccountKind.GUARDIAN]
    query = (
        select(found.c.school_id, func.count(distinct(guardian_id)).label("eligible_guardians"))
        .add_columns(
            func.count(distinct(case((state.in_(HOLDING_STATES), guardian_id)))).label(
                "guardians_with_account"
            ),
            func.count(distinct(case((state == AccountState.PENDING_EMAIL, guardian_id)))).label(
                "waiting_for_email"
            ),
        )
        .outerjoin(Account, and_(*live, state.not_in(RELEASED_STATES)))
        .group_by(found.c.school_id)
    )
    return _per_school(session, query)


def _members(ids: list[int]) -> Any:
    """(school_id, account_id, student_id, username) of the schools' students (account or
    not), their guardians' and the schools' staff's accounts; released accounts left out."""
    students = _students(ids).subquery()
    guardians = _guardians(ids, Relationship.is_active.is_(True)).subquery()
    live = Account.state.not_in(RELEASED_STATES)
    student_account = [
        Account.person_id == students.c.person_id,
        Account.kind == AccountKind.STUDENT,
    ]
    return union_all(
        select(students.c.school_id, Account.id.label("account_id"))
        .add_columns(Person.sis_person_id.label("student_id"), null().label("username"))
        .join(Person, Person.id == students.c.person_id)
        .outerjoin(Account, and_(*student_account, live)),
        select(guardians.c.school_id, Account.id, null(), Account.username)
        .join(Account, Account.person_id == guardians.c.person_id)
        .where(Account.kind == AccountKind.GUARDIAN, live),
        select(StaffAssignment.school_id, Account.id, null(), Account.username)
        .join(Account, Account.id == StaffAssignment.account_id)
        .where(StaffAssignment.school_id.in_(ids), live),
    ).subquery("members")


def _disabled_counts(session: Session, ids: list[int]) -> dict[str, dict[int, int]]:
    members = _members(ids)
    query = (
        select(members.c.school_id)
        .add_columns(func.count(distinct(members.c.account_id)).label("disabled_accounts"))
        .join(Account, Account.id == members.c.account_id)
        .where(Account.state == AccountState.DISABLED)
        .group_by(members.c.school_id)
    )
    return _per_school(session, query)


def _key_counts(session: Session, ids: list[int], since: datetime) -> dict[str, dict[int, int]]:
    """Keys issued and keys redeemed (a registration started with them) since `since`, to
    the guardians of each school's students (a family of two schools counts at both)."""
    guardians = _guardians(ids, Relationship.is_active.is_(True)).subquery()
    issued, used = ActivationKey.issued_at >= since, ActivationKey.used_at >= since
    query = (
        select(guardians.c.school_id)
        .add_columns(
            func.count(distinct(case((issued, ActivationKey.id)))).label("keys_issued_in_week"),
            func.count(distinct(case((used, ActivationKey.id)))).label("keys_redeemed_in_week"),
        )
        .join(ActivationKey, ActivationKey.person_id == guardians.c.person_id)
        .where(or_(issued, used))
        .group_by(guardians.c.school_id)
    )
    return _per_school(session, query)


def _locked_counts(
    session: Session, ids: list[int], now: datetime, names: SignInNames
) -> dict[int, int]:
    """Names locked now (FailureThrottle.standing), per school. The throttle keeps only HMAC
    digests: the schools' names are digested here and matched, read only when some name
    is locked (sign_in_throttle has no index on locked_until: a scan of a small table)."""
    query = select(SignInThrottle.name_digest).where(SignInThrottle.locked_until > now)
    locked = set(session.execute(query).scalars())
    if not locked:
        return {}
    members = _members(ids)
    query = select(members.c.school_id, members.c.student_id, members.c.username).distinct()
    found: dict[int, set[str]] = {}
    for row in session.execute(query):
        digest = names.digest(row.student_id, row.username)
        if digest is not None and digest in locked:
            found.setdefault(row.school_id, set()).add(digest)
    return {school_id: len(digests) for school_id, digests in found.items()}
