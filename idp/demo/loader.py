"""Load the demo district in one transaction; rows that exist already are left as they are."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from functools import cache, cached_property, partial
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.bridge import rules as ic_rules
from idp.bridge.models import LegacyCredential
from idp.clock import Clock, today
from idp.credentials.models import SecurityAnswer
from idp.demo import data
from idp.demo.summary import (
    AccountLine,
    DemoSummary,
    GuardianLine,
    LegacyLine,
    SchoolLine,
    StudentLine,
)
from idp.extensions import db
from idp.policy import Policies
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.services import Services
from idp.staff.models import StaffAssignment

Row = TypeVar("Row")


def load_demo_district(services: Services, clock: Clock) -> DemoSummary:
    """Create the demo district, or leave it as it is, and say who can sign in with what."""
    session = cast(Session, db.session)
    # In the command's one transaction: all of the demo district or none of it.
    return _DemoLoader(session, services, clock, services.policies).load()


def legacy_verifier(password: str) -> str:
    """A Django-style `pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>` legacy IC verifier."""
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), data.LEGACY_SALT, data.LEGACY_ITERATIONS
    )
    salt = base64.b64encode(data.LEGACY_SALT).decode()
    return f"pbkdf2_sha256${data.LEGACY_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


class _DemoLoader:
    """Adds whatever part of the demo district is missing, found by natural keys."""

    def __init__(
        self, session: Session, services: Services, clock: Clock, policies: Policies
    ) -> None:
        self._session = session
        self._services = services
        self._policies = policies
        self._now = clock.now()
        self._today = today(clock)
        self._created = 0
        self._schools: dict[str, School] = {}
        self._persons: dict[str, Person] = {}
        self._accounts: dict[str, Account] = {}

    @cached_property
    def _password_hash(self) -> str:
        # The demo password is public, so every demo account may share one argon2id hash:
        # one hash instead of ~40 keeps `idp demo load` (and its tests) fast.
        return self._services.hasher.hash(data.DEMO_PASSWORD)

    @cache  # noqa: B019 - the loader lives for one load; the same reasoning as above
    def _answer_hash(self, answer: str) -> str:
        return self._services.hasher.hash(answer)

    def load(self) -> DemoSummary:
        """Add the missing rows; record one audit event if anything was added."""
        self._load_schools()
        self._load_students()
        self._load_guardians()
        self._load_staff()
        self._load_relationships()
        self._load_legacy_users()
        self._load_guardian_accounts()
        if self._created:
            self._services.audit.record("demo:district:loaded", created=self._created)
        return self._summary()

    def _ensure(self, model: type[Row], key: Mapping[str, object], build: Callable[[], Row]) -> Row:
        """The row with these key values, or a new one from `build` (called only if missing)."""
        found = self._session.execute(select(model).filter_by(**key)).scalar_one_or_none()
        if found is not None:
            return found
        row = build()
        self._session.add(row)
        self._session.flush()
        self._created += 1
        return row

    def _load_schools(self) -> None:
        for school in data.SCHOOLS:
            self._schools[school.sis_id] = self._ensure(
                School,
                {"sis_id": school.sis_id},
                partial(School, sis_id=school.sis_id, name=school.name, is_active=True),
            )

    def _person(self, sis_person_id: str, **fields: Any) -> Person:
        person = self._ensure(
            Person,
            {"sis_person_id": sis_person_id},
            partial(
                Person, sis_person_id=sis_person_id, is_active=True, updated_at=self._now, **fields
            ),
        )
        self._persons[sis_person_id] = person
        return person

    def _load_students(self) -> None:
        for student in data.STUDENTS:
            person = self._person(
                student.sis_person_id,
                role="student",
                given_name=student.given_name,
                family_name=student.family_name,
                birth_date=data.birth_date_for(student.grade, student.birthday, self._today),
                household_id=student.household,
            )
            school_id = self._schools[student.school].id
            self._ensure(
                Enrollment,
                {"person_id": person.id, "school_id": school_id},
                partial(
                    Enrollment,
                    person_id=person.id,
                    school_id=school_id,
                    grade=student.grade,
                    is_active=True,
                ),
            )

    def _load_guardians(self) -> None:
        for guardian in data.GUARDIANS:
            contact = {
                "phone": data.phone_for(guardian.sis_person_id),
                "address": data.address_for(guardian.household),
            }
            person = self._person(
                guardian.sis_person_id,
                role="guardian",
                given_name=guardian.given_name,
                family_name=guardian.family_name,
                household_id=guardian.household,
                **contact,
            )
            self._fill_missing(person, contact)

    def _fill_missing(self, person: Person, contact: Mapping[str, str | None]) -> None:
        """Contact details of a guardian loaded before the demo had them; set ones stay."""
        for column, value in contact.items():
            if value is not None and getattr(person, column) is None:
                setattr(person, column, value)
                self._created += 1

    def _account(self, username: str, new: Callable[[], NewAccount]) -> tuple[Account, bool]:
        """The account holding `username`, or a new one (hashing only then); True if new."""
        account = self._services.accounts.find_by_username(username)
        is_new = account is None
        if account is None:
            account = self._services.accounts.create(new())
            # Demo accounts are active, so their email counts as verified.
            account.email_verified_at = self._now
            self._created += 1
        self._accounts[username] = account
        return account, is_new

    def _new_account(
        self, kind: AccountKind, username: str, email: str, **fields: Any
    ) -> NewAccount:
        return NewAccount(
            kind=kind,
            state=AccountState.ACTIVE,
            username=username,
            email=email,
            password_hash=self._password_hash,
            **fields,
        )

    def _load_staff(self) -> None:
        for staff in data.STAFF:
            email = f"{staff.email_local}@{data.EMAIL_DOMAIN}"
            account, _ = self._account(
                staff.username,
                partial(self._new_account, AccountKind.STAFF, staff.username, email),
            )
            school_id = self._schools[staff.school].id if staff.school else None
            key = {"account_id": account.id, "school_id": school_id, "role": staff.role}
            self._ensure(StaffAssignment, key, partial(StaffAssignment, **key))
            second_factor = self._services.second_factor
            if not second_factor.is_enrolled(account):
                secret = data.demo_totp_secret(staff.username)
                second_factor.enroll_known_secret(account, secret)
                self._created += 1

    def _is_legal(self, kind: str) -> bool:
        roster = self._policies.rollout.roster
        # Relatives are never legal guardians (a fixed rule, also a CHECK constraint).
        return (kind == "parent" and roster.is_parent_legal_guardian) or (
            kind == "guardian" and roster.is_guardian_legal_guardian
        )

    def _load_relationships(self) -> None:
        for guardian_id, student_ids, kind in data.RELATIONSHIPS:
            for student_id in student_ids:
                guardian = self._persons[guardian_id]
                student = self._persons[student_id]
                self._ensure(
                    Relationship,
                    {"guardian_id": guardian.id, "student_id": student.id},
                    partial(self._relationship, guardian_id, student_id, kind),
                )

    def _relationship(self, guardian_id: str, student_id: str, kind: str) -> Relationship:
        row = Relationship(
            guardian_id=self._persons[guardian_id].id,
            student_id=self._persons[student_id].id,
            kind=kind,
            is_legal_guardian=self._is_legal(kind),
            is_active=True,
        )
        restricted_guardian, restricted_student, reason = data.RESTRICTED
        if (guardian_id, student_id) == (restricted_guardian, restricted_student):
            row.restricted_at = self._now
            row.restricted_by_account_id = self._accounts["DemoDistrictAdmin"].id
            row.restriction_reason = reason
        return row

    def _load_legacy_users(self) -> None:
        for user in data.LEGACY_USERS:
            key = ic_rules.ic_username_key(user.ic_username)
            query = select(LegacyCredential).where(
                ic_rules.ic_username_matches_sql(LegacyCredential.ic_username, key)
            )
            if self._session.execute(query).scalar_one_or_none() is not None:
                continue
            self._session.add(
                LegacyCredential(
                    ic_username=user.ic_username,
                    person_id=self._persons[user.sis_person_id].id,
                    scheme="pbkdf2_sha256",
                    verifier=legacy_verifier(data.DEMO_IC_PASSWORD),
                    imported_at=self._now,
                )
            )
            self._created += 1

    def _load_guardian_accounts(self) -> None:
        for guardian in data.GUARDIANS:
            if guardian.username is None:
                continue
            email = data.email_for(guardian.given_name, guardian.family_name)
            fields = {
                "person_id": self._persons[guardian.sis_person_id].id,
                "locale": guardian.locale,
            }
            account, is_new = self._account(
                guardian.username,
                partial(
                    self._new_account, AccountKind.GUARDIAN, guardian.username, email, **fields
                ),
            )
            if is_new and guardian.username != data.WITHOUT_SECURITY_ANSWERS:
                self._add_security_answers(account)

    def _add_security_answers(self, account: Account) -> None:
        questions = self._policies.credentials.security_questions
        # Answers are hashed after the same normalisation as at sign-up: lower case, trimmed.
        answer = data.DEMO_SECURITY_ANSWER.strip().lower()
        for question_key in questions.question_keys[: questions.count]:
            self._session.add(
                SecurityAnswer(
                    account_id=account.id,
                    question_key=question_key,
                    answer_hash=self._answer_hash(answer),
                    created_at=self._now,
                )
            )
            self._created += 1

    def _summary(self) -> DemoSummary:
        return DemoSummary(
            password=data.DEMO_PASSWORD,
            schools=tuple(self._school_lines()),
            accounts=tuple(self._account_lines()),
            legacy_ic_users=tuple(self._legacy_lines()),
            students=tuple(self._student_lines()),
            unregistered_guardians=tuple(self._unregistered_lines()),
        )

    def _school_lines(self) -> list[SchoolLine]:
        rollout = {school.sis_id: school for school in self._policies.rollout.schools}
        lines = []
        for school in data.SCHOOLS:
            policy = rollout.get(school.sis_id)
            enabled_from = policy.enabled_from if policy else None
            lines.append(
                SchoolLine(
                    sis_id=school.sis_id,
                    name=self._schools[school.sis_id].name,
                    enabled_from=enabled_from.isoformat() if enabled_from else None,
                    is_open_today=policy is not None and policy.is_enabled_on(self._today),
                )
            )
        return lines

    def _account_lines(self) -> list[AccountLine]:
        guardians = [
            (g.username, "guardian", g.note, None) for g in data.GUARDIANS if g.username is not None
        ]
        staff = [
            (
                s.username,
                "district_admin" if s.school is None else "staff",
                s.note,
                data.demo_totp_secret(s.username),
            )
            for s in data.STAFF
        ]
        return [
            AccountLine(
                role=role,
                username=username,
                password=data.DEMO_PASSWORD,
                email=self._accounts[username].email or "",
                locale=self._accounts[username].locale,
                note=note,
                totp_secret=totp_secret,
            )
            for username, role, note, totp_secret in guardians + staff
        ]

    def _legacy_lines(self) -> list[LegacyLine]:
        return [
            LegacyLine(
                ic_username=user.ic_username,
                password=data.DEMO_IC_PASSWORD,
                name=_full_name(self._persons[user.sis_person_id]),
            )
            for user in data.LEGACY_USERS
        ]

    def _student_lines(self) -> list[StudentLine]:
        names = {school.sis_id: school.name for school in data.SCHOOLS}
        lines = []
        for student in data.STUDENTS:
            person = self._persons[student.sis_person_id]
            lines.append(
                StudentLine(
                    student_id=person.sis_person_id,
                    birth_date=person.birth_date.isoformat() if person.birth_date else "",
                    name=_full_name(person),
                    grade=student.grade,
                    school=names[student.school],
                )
            )
        return lines

    def _unregistered_lines(self) -> list[GuardianLine]:
        """Guardians the demo gave no account (legacy IC users aside) and who have none yet."""
        legacy = {self._persons[user.sis_person_id].id for user in data.LEGACY_USERS}
        with_account = set(
            self._session.execute(select(Account.person_id).where(Account.person_id.is_not(None)))
            .scalars()
            .all()
        )
        lines = []
        for guardian in data.GUARDIANS:
            person = self._persons[guardian.sis_person_id]
            if guardian.username is None and person.id not in with_account | legacy:
                lines.append(GuardianLine(person_id=person.sis_person_id, name=_full_name(person)))
        return lines


def _full_name(person: Person) -> str:
    return f"{person.given_name} {person.family_name}"
