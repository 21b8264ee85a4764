"""Claim release: which facts about an account a token's scopes let an app see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from idp.accounts.models import AccountKind
from idp.accounts.preferences import has_contact_preferences
from idp.clock import Clock
from idp.policy import ClaimsPolicy
from idp.roster.access import GuardianAccess, RosterPerson, VisibleStudent
from idp.roster.models import Person


class ClaimsAccount(Protocol):
    """What the claims read of an account: an `Account` row, or the plain view the userinfo
    path loads with the access token (idp/oidc/tokens.py)."""

    @property
    def sub(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_verified_at(self) -> datetime | None: ...
    @property
    def person_id(self) -> int | None: ...
    @property
    def locale(self) -> str: ...
    @property
    def communication_channel(self) -> str: ...
    @property
    def communication_topics(self) -> list[Any]: ...


ClaimSource = Callable[[ClaimsAccount, RosterPerson | None], Any]


def _name(account: ClaimsAccount, person: RosterPerson | None) -> str | None:
    return f"{person.given_name} {person.family_name}" if person else None


def _notification_preferences(
    account: ClaimsAccount, person: RosterPerson | None
) -> dict[str, Any] | None:
    # Students have no contact preferences (the school contacts their guardians): left out.
    if not has_contact_preferences(account.kind):
        return None
    return {
        "channel": account.communication_channel,
        "topics": list(account.communication_topics),
        "locale": account.locale,
    }


# One producer per claim; a claim with value None is left out of the response.
_PRODUCERS: dict[str, ClaimSource] = {
    "sub": lambda account, person: account.sub,
    "preferred_username": lambda account, person: account.username,
    "email": lambda account, person: account.email,
    "email_verified": lambda account, person: (
        account.email_verified_at is not None if account.email else None
    ),
    "name": _name,
    "given_name": lambda account, person: person.given_name if person else None,
    "family_name": lambda account, person: person.family_name if person else None,
    "locale": lambda account, person: account.locale,
    "role": lambda account, person: account.kind,
    "notification_preferences": _notification_preferences,
}


def _student_entry(visible: VisibleStudent) -> dict[str, Any]:
    """One student as the portal apps receive it (the claim contract in DESIGN.md 6)."""
    entry: dict[str, Any] = {
        "id": visible.sis_person_id,
        "given_name": visible.given_name,
        "family_name": visible.family_name,
        "birthdate": visible.birth_date.isoformat() if visible.birth_date else None,
        "school_id": visible.school_sis_id,
        "school_name": visible.school_name,
        "grade": visible.grade,
    }
    if visible.relationship_kind != "self":
        entry["relationship"] = visible.relationship_kind
    return {key: value for key, value in entry.items() if value is not None}


# The claims drawn from the students a guardian may see, all from one list per answer: the
# flat `student_ids` (the `id` of each `students` entry, in the same order) is for apps that
# read claims from headers, which drop an array of objects (mod_auth_openidc, issue 21.3).
_FROM_VISIBLE: dict[str, Callable[[list[VisibleStudent]], Any]] = {
    "students": lambda visible: [_student_entry(student) for student in visible],
    "student_ids": lambda visible: [student.sis_person_id for student in visible],
}


class ClaimsService:
    """Builds the claims for an account from the scopes a token carries (claims.toml).

    Roster claims are read from the database each time a token or userinfo answer is built,
    so a restriction, an import or a school opening shows on the app's next userinfo call.
    """

    def __init__(
        self, session: Session, policy: ClaimsPolicy, access: GuardianAccess, clock: Clock
    ) -> None:
        self._session = session
        self._policy = policy
        self._access = access
        self._clock = clock
        self._producers: dict[str, ClaimSource] = {**_PRODUCERS, "student": self._student}

    def _visible_students(
        self, account: ClaimsAccount, person: RosterPerson | None
    ) -> list[VisibleStudent] | None:
        # DESIGN.md 6: guardians only; oldest first; restricted/closed-school children never.
        if account.kind != AccountKind.GUARDIAN or person is None:
            return None
        rows = getattr(account, "loaded_student_rows", None)  # read with the access token
        return self._access.visible_students(person, self._clock.now().date(), rows)

    def _student(
        self, account: ClaimsAccount, person: RosterPerson | None
    ) -> dict[str, Any] | None:
        # claims.toml [student_claim] is_released_to_students.
        if account.kind != AccountKind.STUDENT or person is None:
            return None
        if not self._policy.student_claim.is_released_to_students:
            return None
        enrolment = self._access.enrolment(person, self._clock.now().date())
        return _student_entry(enrolment) if enrolment else None

    def user_info(self, account: ClaimsAccount, scope: str) -> dict[str, Any]:
        """The released claims: exactly those the token's granted scopes map to.

        Claims asked for by name (OIDC Core 5.5 `claims` parameter) never widen this: the
        person consented to scopes, and a claim outside them is not released (issue 14).
        """
        names = self._policy.claims_for(scope.split()) | {"sub"}
        person: RosterPerson | None = getattr(account, "loaded_person", None)
        if person is None and account.person_id:
            person = self._session.get(Person, account.person_id)
        # One read of the visible students for all the claims drawn from them.
        is_visible_needed = not names.isdisjoint(_FROM_VISIBLE)
        visible = self._visible_students(account, person) if is_visible_needed else None
        claims: dict[str, Any] = {}
        for name in sorted(names):
            if name in _FROM_VISIBLE:
                value = _FROM_VISIBLE[name](visible) if visible is not None else None
            else:
                producer = self._producers.get(name)
                value = producer(account, person) if producer else None
            if value is not None:
                claims[name] = value
        return claims

    def supported_claims(self) -> list[str]:
        """Every claim some scope can release (for discovery)."""
        return sorted(self._policy.claims_for(self._policy.scopes.keys()) | {"sub"})

    def supported_scopes(self) -> list[str]:
        """Every scope the provider knows (for discovery), plus offline_access."""
        return sorted({*self._policy.scopes.keys(), "offline_access"})
