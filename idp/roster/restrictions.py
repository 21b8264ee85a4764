"""The roster's part of a guardian-rights restriction on one relationship.

Staff restrict and lift through `idp.staff.service.StaffService`, which authorizes them, asks
this module to change the relationship, ends the guardian's access at once through the one
path (DESIGN.md 7) and writes the audit event. Claims are read from the roster when tokens
are issued, so the child is absent from the next token and userinfo answer, and present again
after a lift from the next sign-in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from idp.accounts.models import RELEASED_STATES, Account, AccountKind
from idp.clock import Clock
from idp.roster import errors
from idp.roster.models import Person, Relationship

REASON_MAX_LENGTH = 500  # Relationship.restriction_reason


class GuardianRestrictions:
    """Finds a relationship, records or clears its restriction (who, when, the legal reason),
    and names the guardian accounts whose access a restriction ends. Never commits."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def find(self, guardian_person_id: str, student_person_id: str) -> Relationship:
        """The relationship between the two SIS Person IDs, locked for the change."""
        guardian, student = aliased(Person), aliased(Person)
        query = (
            select(Relationship)
            .join(guardian, guardian.id == Relationship.guardian_id)
            .join(student, student.id == Relationship.student_id)
            .where(
                guardian.sis_person_id == guardian_person_id.strip(),
                student.sis_person_id == student_person_id.strip(),
            )
            .with_for_update()
        )
        relationship = self._session.execute(query).scalar_one_or_none()
        if relationship is None:
            raise errors.RelationshipNotFoundError
        return relationship

    def restrict(self, relationship: Relationship, staff: Account, reason: str) -> None:
        """Record the restriction now, by `staff`, for `reason` (already checked)."""
        if relationship.restricted_at is not None:
            raise errors.AlreadyRestrictedError
        relationship.restricted_at = self._clock.now()
        relationship.restricted_by_account_id = staff.id
        relationship.restriction_reason = reason

    def lift(self, relationship: Relationship) -> None:
        """Clear the restriction."""
        if relationship.restricted_at is None:
            raise errors.NotRestrictedError
        relationship.restricted_at = None
        relationship.restricted_by_account_id = None
        relationship.restriction_reason = None

    def guardian_accounts(self, relationship: Relationship) -> list[Account]:
        """The relationship's guardian's accounts that still hold access to end."""
        query = select(Account).where(
            Account.person_id == relationship.guardian_id,
            Account.kind == AccountKind.GUARDIAN,
            Account.state.not_in(RELEASED_STATES),
        )
        return list(self._session.execute(query).scalars())
