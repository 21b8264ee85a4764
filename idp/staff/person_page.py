"""The staff console's person page (issue 16.4): a roster person or an account, within the
staff member's StaffScope (a person outside it is None: a 404).

Reads only. Each call runs a fixed number of statements whatever the size of the family, each
from an indexed column (person_id, account_id, subject_account_id, event). Rows are read into
the records (records.py) by column label (`records.from_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.bridge.legacy import BridgeStatus
from idp.bridge.models import LegacyCredential
from idp.credentials.models import SecurityAnswer
from idp.lifecycle.rules import due_dates
from idp.notifications.models import OutboxMessage
from idp.oidc.models import Consent, OAuthToken, OidcClient, SsoSession, SsoSessionClient
from idp.policy import LifecyclePolicy
from idp.registration.messages import VERIFY_EMAIL
from idp.registration.models import ActivationKey
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.staff.models import StaffAssignment
from idp.staff.records import (
    AccountSummary,
    AppUse,
    AuditLine,
    LiveSession,
    LockReader,
    OutstandingKey,
    PendingConfirmation,
    PersonPage,
    PersonSummary,
    RelationshipLine,
    SchoolEnrollment,
    StaffRole,
    from_rows,
)
from idp.staff.scope import StaffScope, can_see_account

RECENT_EVENTS = 20
# Events that name a roster Person in their data (with or without an account as subject).
PERSON_EVENTS = ("registration:key:issued", "credentials:student_sign_in:locked")
RELATIONSHIP_EVENTS = ("roster:relationship:restricted", "roster:relationship:lifted")


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
        person=from_rows(PersonSummary, [person])[0] if person else None,
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
    return {
        key: from_rows(SchoolEnrollment, (r for r in rows if r.person_id == key)) for key in ids
    }


def _line(row: Any, enrolled: dict[int, tuple[SchoolEnrollment, ...]]) -> RelationshipLine:
    relationship: Relationship = row.Relationship
    return RelationshipLine(
        relationship_id=relationship.id,
        person=from_rows(PersonSummary, [row.other])[0],
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
    return from_rows(StaffRole, session.execute(query))


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
    return from_rows(BridgeStatus, session.execute(query))


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
    return from_rows(AppUse, session.execute(query))


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
    return from_rows(OutstandingKey, session.execute(query))


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
