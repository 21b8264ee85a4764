"""Activation keys: issued and revoked by staff after a photo-ID check (idp/staff/service.py),
checked by the registration form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import RELEASED_STATES, Account, AccountKind, AccountState
from idp.clock import Clock
from idp.policy import RegistrationPolicy
from idp.registration import rules
from idp.registration.errors import (
    GuardianHasAccountError,
    GuardianRestrictedError,
    IdTypeUnknownError,
    NoOpenSchoolError,
    NotAGuardianError,
    NotLegalGuardianError,
    PersonNotFoundError,
)
from idp.registration.models import ID_TYPES, ActivationKey
from idp.roster.access import GuardianAccess, GuardianStanding
from idp.roster.models import Person


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued: `key` is shown once (letter) and never stored in clear."""

    key: str
    person: Person
    expires_at: datetime
    activation_key_id: int


@dataclass(frozen=True)
class EligibleGuardian:
    """A guardian who may get a key, and the students whose schools' staff may issue it."""

    person: Person
    student_ids: tuple[int, ...]


class ActivationKeyService:
    """Keys for legal guardians of students at open schools: who may get one, a new one (staff
    issue it through idp/staff/service.py), and the usable key of a registration."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        policy: RegistrationPolicy,
        access: GuardianAccess,
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._access = access

    def eligible_guardian(self, sis_person_id: str, id_type: str) -> EligibleGuardian:
        """The guardian a key may be issued to, after a photo ID of `id_type`, with the
        students whose schools' staff may issue it; or raise why not."""
        if id_type not in ID_TYPES:
            raise IdTypeUnknownError(choices=", ".join(ID_TYPES))
        person = self.find_person(sis_person_id)
        if person is None:
            raise PersonNotFoundError
        standing = self._access.standing(person, self._clock.now().date())
        _refuse_ineligible(standing)
        return EligibleGuardian(person, standing.visible_student_ids)

    def create_activation_key(self, person: Person, staff: Account, id_type: str) -> IssuedKey:
        """A new key for the guardian, issued by `staff`, revoking any earlier one (not
        committed); a guardian who has an account gets none."""
        self._refuse_live_account(person)
        key = rules.new_key()
        row = self._replace_keys(
            person, staff, id_type, rules.key_digest(rules.normalize_key(key) or "")
        )
        return IssuedKey(
            key=key, person=person, expires_at=row.expires_at, activation_key_id=row.id
        )

    def find_person(self, sis_person_id: str) -> Person | None:
        """The roster Person with this SIS Person ID."""
        query = select(Person).where(
            Person.sis_person_id == rules.normalize_person_id(sis_person_id)
        )
        return self._session.execute(query).scalar_one_or_none()

    def usable_key(self, key_id: int, *, lock: bool = False) -> ActivationKey | None:
        """The key if it may still register: not revoked or expired, and not used by an account
        that got past email confirmation (a pending registration may be started again)."""
        key = self._session.get(ActivationKey, key_id, with_for_update=lock)
        if key is None or key.revoked_at is not None or key.expires_at <= self._clock.now():
            return None
        if key.used_by_account_id is not None:
            user = self._session.get(Account, key.used_by_account_id)
            if user is not None and user.state != AccountState.PENDING_EMAIL:
                return None
        return key

    def outstanding_keys(self, person_id: int) -> list[ActivationKey]:
        """The keys of the Person `person_id` that may still register (`usable_key`), oldest
        first: one at most, since a new key revokes the earlier ones."""
        query = (
            select(ActivationKey.id)
            .where(ActivationKey.person_id == person_id, ActivationKey.revoked_at.is_(None))
            .order_by(ActivationKey.issued_at, ActivationKey.id)
        )
        usable = (self.usable_key(key_id) for key_id in self._session.execute(query).scalars())
        return [key for key in usable if key is not None]

    def revoke(self, keys: Sequence[ActivationKey]) -> None:
        """Revoke these keys now: they register nobody any more (the desk records who and
        why). A registration already waiting for its email confirmation is left as it is."""
        self._session.execute(
            update(ActivationKey)
            .where(
                ActivationKey.id.in_([key.id for key in keys]),
                ActivationKey.revoked_at.is_(None),
            )
            .values(revoked_at=self._clock.now())
        )

    def find_by_digest(self, person: Person, digest: str) -> ActivationKey | None:
        """The key with this digest if it was issued for this person."""
        query = select(ActivationKey).where(
            ActivationKey.key_digest == digest, ActivationKey.person_id == person.id
        )
        return self._session.execute(query).scalar_one_or_none()

    def _refuse_live_account(self, person: Person) -> None:
        """A guardian with an account gets no key; an unconfirmed registration may be redone."""
        query = select(Account.id).where(
            Account.person_id == person.id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state.not_in((*RELEASED_STATES, AccountState.PENDING_EMAIL)),
        )
        if self._session.execute(query.limit(1)).first() is not None:
            raise GuardianHasAccountError

    def _replace_keys(
        self, person: Person, staff: Account, id_type: str, digest: str
    ) -> ActivationKey:
        now = self._clock.now()
        self._session.execute(
            update(ActivationKey)
            .where(
                ActivationKey.person_id == person.id,
                ActivationKey.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        row = ActivationKey(
            person_id=person.id,
            key_digest=digest,
            issued_by_account_id=staff.id,
            id_type_seen=id_type,
            issued_at=now,
            expires_at=now + timedelta(days=self._policy.activation_key_days),
        )
        self._session.add(row)
        self._session.flush()
        return row


def _refuse_ineligible(standing: GuardianStanding) -> None:
    """The clear reason a person cannot get a key, in the order staff would check."""
    if not standing.is_guardian:
        raise NotAGuardianError
    if not standing.has_legal_relationship:
        raise NotLegalGuardianError
    if not standing.has_unrestricted_relationship:
        raise GuardianRestrictedError
    if not standing.visible_student_ids:
        raise NoOpenSchoolError
